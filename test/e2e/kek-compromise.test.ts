/**
 * End to end: the key-encryption key compromise runbook of docs/operators.md,
 * against a local instance (wrangler dev, state on disk) and the real tuf-js
 * client. An attacker holds the Durable Object's SQLite file and the KEK, so
 * they can unseal the online key. The operator:
 *   1. configures a new KEK as current (the old one kept in the ring),
 *   2. re-seals every secret under it (`tuf-edge kek rotate`),
 *   3. rotates the online key in an emergency ceremony,
 *   4. removes the old KEK.
 * Afterwards the service keeps publishing, the old KEK opens nothing it
 * stores, and a timestamp forged with the stolen online key is refused by
 * tuf-js. Nothing secret appears in the service's structured logs.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, signDraft } from "../../scripts/lib/admin-client.ts";
import { repositoryUrls, writeTrustedRoot } from "../../scripts/lib/client-setup.ts";
import { readLocalR2Object } from "../../scripts/lib/local-do-sqlite.ts";
import { randomSecrets, startLocalInstance, type LocalInstance } from "../../scripts/lib/local-instance.ts";
import { tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { onlineKeyContext } from "../../durable-objects/seal-contexts.ts";
import { formatExpires, sign } from "../../src/tuf/metadata.ts";
import { draftRoot } from "../../src/tuf/root.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { cliHarness, json, ok } from "./cli-harness.ts";
import { onlineKeyRow, stealOnlineKey } from "./stolen-online-key.ts";

const REPO = "kek";
/** Tests that (re)start the instance: wrangler dev can take minutes to come up on a loaded machine. */
const RESTART_MS = 400_000;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const content = (label: string) => new Uint8Array(Buffer.from(`${label} ${randomBytes(8).toString("hex")}\n`));

describe("KEK compromise runbook, end to end", () => {
  let scratch: string;
  let persistTo: string;
  let instance: LocalInstance;
  let client: AdminClient;
  const secrets = randomSecrets();
  const oldKek = secrets.KEY_ENCRYPTION_KEY;
  const newKek = Buffer.from(randomBytes(32)).toString("base64");
  let registrySecret = "";
  let A: Ed25519Signer;
  let B: Ed25519Signer;
  let root1Bytes: Uint8Array;
  let metadataDir: string;
  let stolen: Ed25519Signer;
  let stolenSeed = "";
  const output: string[] = [];

  const { run } = cliHarness(
    () => scratch,
    () => ({
      PATH: process.env.PATH,
      HOME: scratch,
      TUF_EDGE_URL: instance.baseUrl,
      TUF_EDGE_REPO: REPO,
      TUF_EDGE_ADMIN_TOKEN: secrets.ADMIN_TOKEN,
      NO_COLOR: "1",
    }),
  );

  async function start(kek: string) {
    instance = await startLocalInstance({
      persistTo,
      secrets: { ...secrets, KEY_ENCRYPTION_KEY: kek },
      verbose: true,
      logLevel: "log",
      log: (line) => output.push(line),
      readyTimeoutMs: RESTART_MS - 100_000,
    });
    client = new AdminClient({ baseUrl: instance.baseUrl, repo: REPO, token: secrets.ADMIN_TOKEN });
  }

  const updater = async (dir: string) =>
    new Updater({
      metadataDir: dir,
      metadataBaseUrl: repositoryUrls(instance.baseUrl, REPO).metadata,
      targetBaseUrl: repositoryUrls(instance.baseUrl, REPO).targets,
      targetDir: await mkdtemp(join(scratch, "targets-")),
    });

  async function publishAndDownload(label: string) {
    const bytes = content(label);
    const path = `app/${label}.tgz`;
    await client.upload(path, bytes);
    const tuf = await updater(metadataDir);
    await tuf.refresh();
    const info = await tuf.getTargetInfo(path);
    if (!info) throw new Error(`${path} is not listed`);
    expect(info.hashes).toEqual({ sha256: sha256(bytes) });
    expect(new Uint8Array(await readFile(await tuf.downloadTarget(info)))).toEqual(bytes);
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-kek-"));
    persistTo = join(scratch, "state");
    await start(oldKek);
    [A, B] = (await Promise.all([1, 2].map(async () => (await Ed25519Signer.generate()).signer))) as [
      Ed25519Signer,
      Ed25519Signer,
    ];
    const online = await client.onlineKey();
    const root = await sign(
      await draftRoot({
        version: 1,
        expires: formatExpires(new Date(Date.now() + 365 * 86_400_000)),
        rootKeys: [A.key, B.key],
        rootThreshold: 2,
        onlineKey: online.key,
      }),
      [A, B],
    );
    root1Bytes = root.bytes;
    await client.bootstrap(root.envelope, { bins: 4 });
    registrySecret = (await client.addRegistryCredential("npm", { kind: "hmac" })).secret ?? "";
    metadataDir = await mkdtemp(join(scratch, "metadata-"));
    await writeTrustedRoot(join(metadataDir, "root.json"), root1Bytes);
    await publishAndDownload("before");
  }, RESTART_MS);

  afterAll(async () => {
    await instance?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("the attacker unseals the online key with the stolen KEK and the SQLite file", async () => {
    const { row, seed, signer } = await stealOnlineKey(persistTo, REPO, oldKek);
    expect(row.kek_id).toBe("default");
    stolenSeed = Buffer.from(seed).toString("hex");
    stolen = signer;
    expect(stolen.keyid).toBe((await client.status()).onlineKeyId);
  });

  it(
    "1-2. a new current KEK, then `tuf-edge kek rotate` re-seals every secret under it, resumably",
    async () => {
      await instance.stop();
      await start(JSON.stringify({ current: "2026-12", keys: { "2026-12": newKek, default: oldKek } }));
      const before = json(ok(await run(["kek", "status", "--json"])));
      const mine = before.repositories.find((r: { repository: string }) => r.repository === REPO);
      // The online key, the webhook secret and the log key, all under the old KEK.
      expect(mine).toMatchObject({ current: "2026-12", sealedUnder: { default: 3 }, remaining: 3, unconfigured: [] });

      // One value per request: three requests, each resuming where the last stopped.
      const rotated = json(ok(await run(["kek", "rotate", "--budget", "1", "--json"])));
      expect(rotated).toMatchObject({ done: true, remaining: 0, requests: 3 });
      const after = json(ok(await run(["kek", "status", "--json"])));
      expect(after.repositories.find((r: { repository: string }) => r.repository === REPO)).toMatchObject({
        sealedUnder: { "2026-12": 3 },
        remaining: 0,
      });
      // Done already: running it again changes nothing.
      expect(json(ok(await run(["kek", "rotate", "--json"])))).toMatchObject({ done: true, requests: 1, resealed: 0 });
      await publishAndDownload("resealed");
    },
    RESTART_MS,
  );

  it("3. an emergency online-key rotation replaces the stolen online key", async () => {
    const opened = await client.openCeremony({ kind: "online-key-rotation", emergency: true, reason: "KEK leaked" });
    await client.submitSignature(opened.id, await signDraft(opened, A));
    const done = await client.submitSignature(opened.id, await signDraft(opened, B));
    expect(done.ceremony.state).toBe("published");
    expect((await client.status()).onlineKeyId).not.toBe(stolen.keyid);
    await publishAndDownload("rotated");
  });

  it(
    "4. without the old KEK the service keeps working, and the old KEK opens nothing it stores",
    async () => {
      await instance.stop();
      await start(JSON.stringify({ current: "2026-12", keys: { "2026-12": newKek } }));
      const status = json(ok(await run(["kek", "status", "--json"])));
      expect(status.repositories.find((r: { repository: string }) => r.repository === REPO).unconfigured).toEqual([]);
      await publishAndDownload("after");
      // `tuf-edge status` shows the live operations figures, the key-encryption key among them.
      const { operations } = json(ok(await run(["status", "--json"])));
      expect(operations.kek).toMatchObject({ current: "2026-12", remaining: 0, unconfigured: [], sealed: 3 });
      expect(operations.publishRounds.published).toBeGreaterThanOrEqual(5);
      expect(operations.publishRounds.failed).toBe(0);
      expect(operations.queue).toEqual({ roles: 0, tasks: 0 });

      const row = await onlineKeyRow(persistTo, REPO);
      expect(row.kek_id).toBe("2026-12");
      const sealed = { sealed: row.sealed, iv: row.iv };
      // The attacker's KEK, even under the new id, does not open the new online key.
      await expect(
        new Sealer(JSON.stringify({ current: "2026-12", keys: { "2026-12": oldKek } })).unseal(
          { ...sealed, kekId: "2026-12" },
          onlineKeyContext(REPO, row.keyid),
        ),
      ).rejects.toMatchObject({ code: "kek_unseal_failed" });
    },
    RESTART_MS,
  );

  it("a timestamp forged with the stolen online key is refused by tuf-js", async () => {
    const trusted = JSON.parse(await readFile(join(metadataDir, "timestamp.json"), "utf8"));
    const stored = await readLocalR2Object(persistTo, `${REPO}/metadata/timestamp.json`);
    const current = JSON.parse(stored.bytes.toString("utf8"));
    // Same length as the stored file, so R2's recorded size still fits.
    const forged = await sign({ ...current.signed, expires: current.signed.expires }, [stolen]);
    expect(forged.bytes.length).toBe(stored.size);
    await tamperLocalR2Object(persistTo, stored.bytes, forged.bytes);
    const deadline = Date.now() + 15_000;
    let served = Buffer.from(await (await fetch(`${instance.baseUrl}/${REPO}/metadata/timestamp.json`)).arrayBuffer());
    while (!served.equals(Buffer.from(forged.bytes)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      served = Buffer.from(await (await fetch(`${instance.baseUrl}/${REPO}/metadata/timestamp.json`)).arrayBuffer());
    }
    expect(served.equals(Buffer.from(forged.bytes))).toBe(true);

    const error = await (await updater(metadataDir)).refresh().then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.constructor.name).toBe("UnsignedMetadataError");
    expect(error?.message).toBe("timestamp was signed by 0/1 keys");
    expect(JSON.parse(await readFile(join(metadataDir, "timestamp.json"), "utf8"))).toEqual(trusted);
  });

  it("the structured logs tell the story and hold no secret", () => {
    const lines = output.join("\n");
    expect(lines).toContain('"event":"publish.round"');
    expect(lines).toContain('"kind":"kek-resealed"');
    expect(lines).toContain('"event":"audit"');
    for (const secret of [
      secrets.ADMIN_TOKEN,
      oldKek,
      newKek,
      registrySecret,
      registrySecret.slice("whsec_".length),
      stolenSeed,
      Buffer.from(stolenSeed, "hex").toString("base64"),
    ]) {
      expect(secret.length).toBeGreaterThan(16);
      expect(lines.includes(secret), "a secret in the logs").toBe(false);
    }
  });
});
