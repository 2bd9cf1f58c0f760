/**
 * End to end: key rotation as a real client (tuf-js) lives through it, against
 * a local instance (wrangler dev on workerd, Durable Objects and R2 on disk).
 *   root 1  root keys A, B, C (threshold 2), online key K1
 *   root 2  online-key rotation: K2 replaces K1, whose sealed copy is erased
 *   root 3  root-key change: root keys A, D (threshold 2), C and B gone
 * An attacker who stole K1 before the rotation (from the Durable Object's
 * SQLite file, unsealed with KEY_ENCRYPTION_KEY) forges a timestamp with it
 * and puts it in R2: clients that walked the root chain refuse it.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, signDraft } from "../../scripts/lib/admin-client.ts";
import { repositoryUrls, writeTrustedRoot, type RepositoryUrls } from "../../scripts/lib/client-setup.ts";
import { queryLocalDurableObject, readLocalR2Object } from "../../scripts/lib/local-do-sqlite.ts";
import { randomSecrets, startLocalInstance, type LocalInstance } from "../../scripts/lib/local-instance.ts";
import { tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { formatExpires, sign, verifyThreshold, type Envelope } from "../../src/tuf/metadata.ts";
import { draftRoot } from "../../src/tuf/root.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { defined } from "../../scripts/lib/defined.ts";

const REPO = "rotate";
const REPOSITORY_DO = { className: "Repository", name: REPO };

function content(label: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(`${label} ${randomBytes(16).toString("hex")}\n`));
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

interface OnlineKeyRow {
  keyid: string;
  state: string;
  sealed: Uint8Array;
  iv: Uint8Array;
}

describe("key rotation seen by a tuf-js client", () => {
  let instance: LocalInstance;
  let scratch: string;
  let persistTo: string;
  let secrets: ReturnType<typeof randomSecrets>;
  let client: AdminClient;
  let urls: RepositoryUrls;
  let A: Ed25519Signer, B: Ed25519Signer, C: Ed25519Signer, D: Ed25519Signer;
  let root1Bytes: Uint8Array;
  let root1: Envelope<any>;
  /** The long-lived client: trusted root v1 at first, then refreshes after every step. */
  let metadataDir: string;
  /** The online key of root 1, as the attacker unsealed it. */
  let stolen: Ed25519Signer;
  let latestTimestamp = 0;

  const targets = {
    first: { path: "app/app-1.0.0.tgz", bytes: content("before any rotation") },
    afterRotation: { path: "app/app-1.1.0.tgz", bytes: content("after the online-key rotation") },
    afterRootChange: { path: "app/app-2.0.0.tgz", bytes: content("after the root-key change") },
    beforeForgery: { path: "app/app-2.0.1.tgz", bytes: content("the last real publish") },
  };

  const tempDir = (name: string) => mkdtemp(join(scratch, `${name}-`));
  const updater = (dir: string, targetDir: string) =>
    new Updater({ metadataDir: dir, metadataBaseUrl: urls.metadata, targetDir, targetBaseUrl: urls.targets });
  const persisted = async (dir: string, role: string): Promise<any> =>
    JSON.parse(await readFile(join(dir, `${role}.json`), "utf8"));

  async function upload(target: { path: string; bytes: Uint8Array<ArrayBuffer> }) {
    const { versions } = await client.upload(target.path, target.bytes);
    expect(versions.timestamp).toBeGreaterThan(latestTimestamp);
    latestTimestamp = versions.timestamp;
    return versions;
  }

  /** Refreshes a client in `dir` and downloads `target`, checking its bytes. */
  async function refreshAndDownload(dir: string, target: { path: string; bytes: Uint8Array }): Promise<Updater> {
    const tuf = updater(dir, await tempDir("targets"));
    await tuf.refresh();
    const info = await tuf.getTargetInfo(target.path);
    expect(info, target.path).toBeDefined();
    expect(defined(info).hashes).toEqual({ sha256: sha256(target.bytes) });
    const file = await tuf.downloadTarget(defined(info));
    expect(new Uint8Array(await readFile(file))).toEqual(target.bytes);
    return tuf;
  }

  async function fetchBytes(url: string): Promise<Uint8Array> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  const fetchJson = async (url: string): Promise<any> =>
    JSON.parse(Buffer.from(await fetchBytes(url)).toString("utf8"));

  /** What a client that refreshes now fails with (null if it succeeds). */
  async function refreshError(dir: string): Promise<Error | null> {
    return updater(dir, await tempDir("targets"))
      .refresh()
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-rotation-"));
    persistTo = join(scratch, "state");
    secrets = randomSecrets();
    instance = await startLocalInstance({ persistTo, secrets });
    urls = repositoryUrls(instance.baseUrl, REPO);
    client = new AdminClient({ baseUrl: instance.baseUrl, repo: REPO, token: secrets.ADMIN_TOKEN });
    [A, B, C, D] = (await Promise.all([1, 2, 3, 4].map(async () => (await Ed25519Signer.generate()).signer))) as [
      Ed25519Signer,
      Ed25519Signer,
      Ed25519Signer,
      Ed25519Signer,
    ];

    // Bootstrap by hand: three root keys, threshold 2, signed by A and B only.
    const online = await client.onlineKey();
    const signed = await draftRoot({
      version: 1,
      expires: formatExpires(new Date(Date.now() + 365 * 86_400_000)),
      rootKeys: [A.key, B.key, C.key],
      rootThreshold: 2,
      onlineKey: online.key,
    });
    const root = await sign(signed, [A, B]);
    root1 = root.envelope;
    root1Bytes = root.bytes;
    const { versions } = await client.bootstrap(root.envelope, { bins: 16 });
    latestTimestamp = versions.timestamp;
    metadataDir = await tempDir("metadata");
    await writeTrustedRoot(join(metadataDir, "root.json"), root1Bytes);
  });

  afterAll(async () => {
    await instance?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("a client trusting root v1 refreshes and downloads a target", async () => {
    await upload(targets.first);
    await refreshAndDownload(metadataDir, targets.first);
    expect((await persisted(metadataDir, "root")).signed.version).toBe(1);
    expect((await persisted(metadataDir, "timestamp")).signed.version).toBe(latestTimestamp);
  });

  it("an attacker with the Durable Object's SQLite file and KEY_ENCRYPTION_KEY unseals the online key", async () => {
    const { onlineKeyId } = await client.status();
    expect(onlineKeyId).toBe(root1.signed.roles.timestamp.keyids[0]);

    // Read straight from the running instance's on-disk state.
    const rows = await queryLocalDurableObject<OnlineKeyRow>(
      persistTo,
      REPOSITORY_DO,
      "SELECT keyid, state, sealed, iv FROM online_keys WHERE state = 'active'",
    );
    expect(rows.map((r) => r.keyid)).toEqual([onlineKeyId]);
    const row = defined(rows[0]);
    expect(row.iv).toHaveLength(12);

    const kek = await crypto.subtle.importKey(
      "raw",
      Buffer.from(secrets.KEY_ENCRYPTION_KEY, "base64"),
      "AES-GCM",
      false,
      ["decrypt"],
    );
    const seed = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: new Uint8Array(row.iv),
          additionalData: utf8(`tuf-edge online key\n${REPO}\n${row.keyid}`),
        },
        kek,
        new Uint8Array(row.sealed),
      ),
    );
    stolen = await Ed25519Signer.fromSeed(seed);
    expect(stolen.keyid).toBe(onlineKeyId);
    expect(stolen.key).toEqual(root1.signed.keys[defined(onlineKeyId)]);

    // It is the real key: Ed25519 is deterministic, so re-signing the served
    // timestamp gives back exactly the served bytes...
    const served = await fetchBytes(`${urls.metadata}/timestamp.json`);
    const current = JSON.parse(Buffer.from(served).toString("utf8"));
    expect((await sign(current.signed, [stolen])).bytes).toEqual(served);
    // ...and anything it signs meets root 1's timestamp role.
    const forged = await sign({ ...current.signed, version: current.signed.version + 100 }, [stolen]);
    await expect(
      verifyThreshold(forged.envelope, root1.signed.roles.timestamp, root1.signed.keys, "timestamp"),
    ).resolves.toEqual([onlineKeyId]);
  });

  it("online-key rotation publishes root 2; the same client follows it and downloads a new target", async () => {
    const opened = await client.openCeremony({ kind: "online-key-rotation", reason: "online key exposed" });
    expect(opened).toMatchObject({ kind: "online-key-rotation", state: "awaiting-signatures", rootVersion: 2 });
    const first = await client.submitSignature(opened.id, await signDraft(opened, A));
    expect(first.ceremony.state).toBe("awaiting-signatures");
    expect((await fetch(`${urls.metadata}/2.root.json`)).status).toBe(404);
    const second = await client.submitSignature(opened.id, await signDraft(opened, B));
    expect(second.ceremony.state).toBe("published");
    expect(defined(second.versions).timestamp).toBeGreaterThan(latestTimestamp);
    latestTimestamp = defined(second.versions).timestamp;

    const root2 = await fetchJson(`${urls.metadata}/2.root.json`);
    const newKeyId: string = root2.signed.roles.timestamp.keyids[0];
    expect(newKeyId).not.toBe(stolen.keyid);
    expect(Object.keys(root2.signed.keys)).not.toContain(stolen.keyid);
    expect((await client.status()).onlineKeyId).toBe(newKeyId);

    // The old key's sealed copy is gone from the Durable Object's storage.
    const old = await queryLocalDurableObject<{ state: string; n: number }>(
      persistTo,
      REPOSITORY_DO,
      "SELECT state, length(sealed) AS n FROM online_keys WHERE keyid = ?",
      stolen.keyid,
    );
    expect(old).toEqual([{ state: "retired", n: 0 }]);

    await upload(targets.afterRotation);
    await refreshAndDownload(metadataDir, targets.afterRotation);
    const trusted = await persisted(metadataDir, "root");
    expect(trusted.signed.version).toBe(2);
    expect(trusted.signed.roles.timestamp.keyids).toEqual([newKeyId]);
    const timestamp = await persisted(metadataDir, "timestamp");
    expect(timestamp.signed.version).toBe(latestTimestamp);
    expect(timestamp.signatures.map((s: { keyid: string }) => s.keyid)).toEqual([newKeyId]);
  });

  it("root-key change publishes root 3 (A, D; threshold 2) once root 2's and its own thresholds are met", async () => {
    const root2 = await fetchJson(`${urls.metadata}/2.root.json`);
    const draft = structuredClone(root2.signed);
    draft.version = 3;
    delete draft.keys[C.keyid];
    delete draft.keys[B.keyid];
    draft.keys[D.keyid] = D.key;
    draft.roles.root = { keyids: [A.keyid, D.keyid], threshold: 2 };
    const opened = await client.openCeremony({ kind: "root-change", signed: draft });
    expect(opened).toMatchObject({ kind: "root-change", rootVersion: 3 });
    expect([...(opened.summary?.roles.root.keyidsRemoved ?? [])].sort()).toEqual([B.keyid, C.keyid].sort());
    expect(opened.summary?.roles.root.keyidsAdded).toEqual([D.keyid]);

    await client.submitSignature(opened.id, await signDraft(opened, A));
    const two = await client.submitSignature(opened.id, await signDraft(opened, D));
    // The draft's own threshold is met (A, D) but not root 2's (A, B, C: only A signed).
    expect(two.ceremony.state).toBe("awaiting-signatures");
    expect(two.ceremony.progress).toEqual({
      trustedRoot: { signed: 1, threshold: 2 },
      draftRoot: { signed: 2, threshold: 2 },
    });
    expect((await fetch(`${urls.metadata}/3.root.json`)).status).toBe(404);
    const done = await client.submitSignature(opened.id, await signDraft(opened, B));
    expect(done.ceremony.state).toBe("published");

    const root3 = await fetchJson(`${urls.metadata}/3.root.json`);
    expect(root3.signed.roles.root).toEqual({ keyids: [A.keyid, D.keyid], threshold: 2 });
    expect(root3.signatures.map((s: { keyid: string }) => s.keyid).sort()).toEqual([A.keyid, B.keyid, D.keyid].sort());
    // The online key stays.
    expect(root3.signed.roles.timestamp).toEqual(root2.signed.roles.timestamp);

    await upload(targets.afterRootChange);
    await refreshAndDownload(metadataDir, targets.afterRootChange);
    const trusted = await persisted(metadataDir, "root");
    expect(trusted.signed.version).toBe(3);
    expect(trusted.signed.roles.root.keyids).toEqual([A.keyid, D.keyid]);
  });

  it("a fresh client that pins only root v1 walks v1 → v2 → v3 and downloads targets", async () => {
    const fresh = await tempDir("fresh-metadata");
    await writeTrustedRoot(join(fresh, "root.json"), root1Bytes);
    const tuf = await refreshAndDownload(fresh, targets.first);
    expect((await persisted(fresh, "root")).signed.version).toBe(3);
    expect((await persisted(fresh, "timestamp")).signed.version).toBe(latestTimestamp);
    const info = await tuf.getTargetInfo(targets.afterRootChange.path);
    expect(new Uint8Array(await readFile(await tuf.downloadTarget(defined(info))))).toEqual(
      targets.afterRootChange.bytes,
    );
  });

  it("a timestamp forged with the destroyed online key is refused by clients on root 3, also by a fresh one from root v1", async () => {
    // A real publish purges the edge cache's timestamp.json; from here on the
    // served timestamp is read from the disk state, never GET, so that nothing
    // caches it before the forgery is in place.
    await upload(targets.beforeForgery);
    const trustedBefore = await persisted(metadataDir, "timestamp");
    const stored = await readLocalR2Object(persistTo, `${REPO}/metadata/timestamp.json`);
    const current = JSON.parse(stored.bytes.toString("utf8"));
    expect(current.signed.version).toBe(latestTimestamp);

    const forged = await sign({ ...current.signed, version: current.signed.version + 1 }, [stolen]);
    expect(forged.envelope.signatures.map((s) => s.keyid)).toEqual([stolen.keyid]);
    // Same length, so R2's recorded size (the served Content-Length) still fits.
    expect(
      forged.bytes.length,
      "the forged timestamp must keep the stored length (did the version gain a digit?)",
    ).toBe(stored.size);
    // Under root 1 this forgery would be a valid timestamp.
    await verifyThreshold(forged.envelope, root1.signed.roles.timestamp, root1.signed.keys, "timestamp");

    expect(await tamperLocalR2Object(persistTo, stored.bytes, forged.bytes)).toBe(stored.blobFile);
    // The Worker serves the forged bytes (a cached copy would expire within 10 s).
    const deadline = Date.now() + 15_000;
    let served = await fetchBytes(`${urls.metadata}/timestamp.json`);
    while (!Buffer.from(served).equals(Buffer.from(forged.bytes)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      served = await fetchBytes(`${urls.metadata}/timestamp.json`);
    }
    expect(served).toEqual(forged.bytes);

    const error = await refreshError(metadataDir);
    expect(error?.constructor.name).toBe("UnsignedMetadataError");
    expect(error?.message).toBe("timestamp was signed by 0/1 keys");
    // The client kept its last good timestamp.
    expect(await persisted(metadataDir, "timestamp")).toEqual(trustedBefore);

    const fresh = await tempDir("fresh-metadata");
    await writeTrustedRoot(join(fresh, "root.json"), root1Bytes);
    const freshError = await refreshError(fresh);
    expect(freshError?.constructor.name).toBe("UnsignedMetadataError");
    expect(freshError?.message).toBe("timestamp was signed by 0/1 keys");
    // It walked the root chain to root 3 before it met the timestamp.
    expect((await persisted(fresh, "root")).signed.version).toBe(3);
    await expect(readFile(join(fresh, "timestamp.json"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
