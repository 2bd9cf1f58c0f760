/**
 * End to end, protected-delegations mode on a real local instance (wrangler
 * dev) with the CLI and tuf-js: the root key holders switch top-level targets
 * to offline signing (`delegation protect`, `ceremony sign`), an offline
 * delegation added afterwards is a ceremony that publishes nothing until
 * they sign it, then tuf-js resolves a target through it; and a top-level
 * targets forged with the repository's own online key (unsealed from the
 * instance's storage with its key-encryption key, as a thief would) that
 * drops the delegation is refused by tuf-js. In a second repository a root
 * change hands targets to a P-256 key that signs only with OpenSSL over
 * `ceremony bytes` output (the targets part of the root-change file, then a
 * targets-change file), and tuf-js follows.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { onlineKeyContext } from "../../durable-objects/seal-contexts.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { repositoryUrls } from "../../scripts/lib/client-setup.ts";
import { queryLocalDurableObject, readLocalR2Object } from "../../scripts/lib/local-do-sqlite.ts";
import { formatExpires, sign } from "../../src/tuf/metadata.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { json, ok } from "./cli-harness.ts";
import { startCliInstance, useCliInstance } from "./cli-instance.ts";
import { lookUpWithTufJs } from "./tuf-js-lookup.ts";

const REPO = "e2e-protected";
/** A second repository, whose targets keys a root change hands to a hardware token. */
const HW_REPO = "e2e-protected-hw";
const DO = { className: "Repository", name: REPO };
const PASSPHRASE = "protected delegations passphrase";
/** Both repositories: root keys alice and bob, 2 of 2, 16 bins. */
const BOOTSTRAP = [
  "bootstrap",
  "--key",
  "root-alice.json",
  "--key",
  "root-bob.json",
  "--threshold",
  "2",
  "--bins",
  "16",
  "--yes",
];
/** A key holder's run on a machine with no service: no URL, repository or admin token. */
const offline = { TUF_EDGE_URL: undefined, TUF_EDGE_REPO: undefined, TUF_EDGE_ADMIN_TOKEN: undefined };

describe("protected delegations: tuf-js, the CLI and the root key holders", () => {
  const local = useCliInstance(() => startCliInstance("tuf-edge-protected-", { repo: REPO, passphrase: PASSPHRASE }));
  const { run } = local;

  /** A fresh tuf-js client trusting root v1 (read from storage): what it finds for `path`. */
  async function lookUp(path: string) {
    return lookUpWithTufJs(local.scratch, await readLocalRootOne(), repositoryUrls(local.instance.baseUrl, REPO), path);
  }

  async function readLocalRootOne(): Promise<Uint8Array> {
    return new Uint8Array((await readLocalR2Object(local.persistTo, `${REPO}/metadata/1.root.json`)).bytes);
  }

  /** The targets version the published snapshot lists, read from storage (not through the Worker's cache). */
  async function publishedTargetsVersion(): Promise<number> {
    const timestamp = JSON.parse(
      (await readLocalR2Object(local.persistTo, `${REPO}/metadata/timestamp.json`)).bytes.toString("utf8"),
    );
    const snapshotVersion = timestamp.signed.meta["snapshot.json"].version;
    const snapshot = JSON.parse(
      (await readLocalR2Object(local.persistTo, `${REPO}/metadata/${snapshotVersion}.snapshot.json`)).bytes.toString(
        "utf8",
      ),
    );
    return snapshot.signed.meta["targets.json"].version;
  }

  /** Adds offline delegation `name` for `name/*` with the CLI; answers the ceremony it opened. */
  async function proposeOffline(name: string, entries: Record<string, unknown>) {
    ok(await run(["keys", "generate", "--out", `owner-${name}.key`]));
    await writeFile(
      join(local.scratch, `${name}-1.json`),
      JSON.stringify({
        _type: "targets",
        spec_version: "1.0.31",
        version: 1,
        expires: formatExpires(new Date(Date.now() + 30 * 86_400_000)),
        targets: entries,
      }),
    );
    ok(await run(["delegation", "sign", `${name}-1.json`, "--key", `owner-${name}.key`]));
    const args = ["delegation", "add", name, "--path", `${name}/*`, "--terminating", "--offline"];
    const more = ["--owner-key", `owner-${name}.key`, "--threshold", "1", "--metadata", `${name}-1.json`];
    return { args: [...args, ...more] };
  }

  beforeAll(async () => {
    for (const holder of ["alice", "bob"]) ok(await run(["keys", "generate", "--out", `root-${holder}.json`]));
    ok(await run(BOOTSTRAP));
  });

  it("the root key holders protect targets, then approve an offline delegation; tuf-js resolves through it", async () => {
    const protect = json(ok(await run(["delegation", "protect", "--yes", "--json"])));
    expect(protect).toMatchObject({ kind: "protect-delegations", rootVersion: 2 });
    // Signed offline: the file carries root v2 and the first offline targets; each holder signs both.
    ok(await run(["ceremony", "export", protect.id, "--out", "protect.json"]));
    for (const holder of ["alice", "bob"]) {
      const args = ["ceremony", "sign", "protect.json", "--key", `root-${holder}.json`, "--yes"];
      ok(await run([...args, "--trusted-root", `${REPO}.1.root.json`], offline));
    }
    const signed = json(ok(await run(["ceremony", "submit", "protect.json", "--json"])));
    expect(signed).toMatchObject({ state: "published", submitted: 4 });
    const status = ok(await run(["delegation", "status"]));
    expect(status.stdout).toContain("signed OFFLINE by 2 of 2 key(s)");

    const contents = Buffer.from("acme widget\n");
    const entry = { length: contents.length, hashes: { sha256: createHash("sha256").update(contents).digest("hex") } };
    const { args } = await proposeOffline("acme", { "acme/widget-1.0.tgz": entry });
    const proposed = ok(await run(args));
    const id = /ceremony ([0-9a-f]{16})/.exec(proposed.stdout)?.[1];
    if (!id) throw new Error(`no ceremony id in: ${proposed.stdout}`);
    expect(proposed.stdout).toContain("needs the targets key holders' approval");
    expect(proposed.stdout).toContain("+ delegation acme: acme/*; 1 of 1 key(s)");
    const before = await publishedTargetsVersion();

    // One holder of two: nothing is published; tuf-js does not find the target.
    const one = json(ok(await run(["ceremony", "sign", id, "--key", "root-alice.json", "--yes", "--json"])));
    expect(one).toMatchObject({ state: "awaiting-signatures", progress: { targets: { signed: 1, threshold: 2 } } });
    expect(await publishedTargetsVersion()).toBe(before);
    expect((await lookUp("acme/widget-1.0.tgz")).info).toBeNull();

    const two = json(ok(await run(["ceremony", "sign", id, "--key", "root-bob.json", "--yes", "--json"])));
    expect(two.state).toBe("published");
    const found = await lookUp("acme/widget-1.0.tgz");
    expect(found.info?.hashes).toEqual(entry.hashes);
    expect(found.roles).toEqual(["acme", "root", "snapshot", "targets", "timestamp"]);
  });

  it("a hardware token takes over targets by a root change and approves a delegation with OpenSSL signatures over `ceremony bytes`; tuf-js follows", async () => {
    // Its own repository: the test below leaves a forged targets in this one's storage and caches.
    const hw = { TUF_EDGE_REPO: HW_REPO };
    const hwUrls = repositoryUrls(local.instance.baseUrl, HW_REPO);
    const pinned = ["--trusted-root", `${HW_REPO}.1.root.json`];
    ok(await run(BOOTSTRAP, hw));
    const hwRootOne = new Uint8Array(
      (await readLocalR2Object(local.persistTo, `${HW_REPO}/metadata/1.root.json`)).bytes,
    );
    const protect = json(ok(await run(["delegation", "protect", "--yes", "--json"], hw)));
    ok(await run(["ceremony", "sign", protect.id, "--key", "root-alice.json", "--key", "root-bob.json", "--yes"], hw));

    // The token: a P-256 key that signs only with openssl; the CLI reads its public key, never signs with it.
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "hw.pem"], {
      cwd: local.scratch,
    });
    ok(await run(["keys", "import", "--pem", "hw.pem", "--out", "sec-hw.json"]));
    await writeFile(
      join(local.scratch, "sec-hw.pub.json"),
      ok(await run(["keys", "show", "sec-hw.json", "--json"])).stdout,
    );
    const openssl = (input: string, output: string) =>
      execFileSync("openssl", ["dgst", "-sha256", "-sign", "hw.pem", "-out", output, input], { cwd: local.scratch });
    const external = (file: string, sig: string, key = "sec-hw.pub.json") =>
      run(["ceremony", "sign", file, "--signature", sig, "--public-key", key], offline);

    // Root 3 names the token alone for targets; the root key holders sign root 3, the token the next targets.
    const args = ["rotate", "root", "--targets-key", "sec-hw.pub.json", "--targets-threshold", "1", "--yes", "--json"];
    const rekey = json(ok(await run(args, hw)));
    expect(rekey).toMatchObject({
      kind: "root-change",
      rootVersion: 3,
      progress: { targets: { signed: 0, threshold: 1 } },
    });
    ok(await run(["ceremony", "export", rekey.id, "--out", "rekey.json"], hw));
    for (const holder of ["alice", "bob"])
      ok(await run(["ceremony", "sign", "rekey.json", "--key", `root-${holder}.json`, ...pinned, "--yes"], offline));
    ok(await run(["ceremony", "bytes", "rekey.json", "--targets", "--out", "rekey-targets.bin", ...pinned], offline));
    openssl("rekey-targets.bin", "rekey-targets.sig");
    const signedRekey = ok(await external("rekey.json", "rekey-targets.sig"));
    expect(signedRekey.stdout).toContain("1 of 1 from the targets keys; ready to submit");
    expect(json(ok(await run(["ceremony", "submit", "rekey.json", "--json"], hw)))).toMatchObject({
      state: "published",
      rootVersion: 3,
    });
    // tuf-js from root 1: root 2, root 3, and targets verified with the token's key.
    const before = await lookUpWithTufJs(local.scratch, hwRootOne, hwUrls, "gamma/tool-1.0.tgz");
    expect(before.info).toBeNull();

    // A delegation change: a targets-change file, signed by the token alone.
    const contents = Buffer.from("gamma tool\n");
    const entry = { length: contents.length, hashes: { sha256: createHash("sha256").update(contents).digest("hex") } };
    const { args: add } = await proposeOffline("gamma", { "gamma/tool-1.0.tgz": entry });
    const id = /ceremony ([0-9a-f]{16})/.exec(ok(await run(add, hw)).stdout)?.[1] as string;
    ok(await run(["ceremony", "export", id, "--out", "gamma.json"], hw));
    ok(await run(["ceremony", "bytes", "gamma.json", "--out", "gamma.bin", ...pinned], offline));
    openssl("gamma.bin", "gamma.sig");
    // Over other bytes: refused (exit 1); with a key that is not a targets key: refused (exit 5); nothing written.
    await writeFile(join(local.scratch, "other.bin"), "not the draft");
    openssl("other.bin", "other.sig");
    const unchanged = await readFile(join(local.scratch, "gamma.json"), "utf8");
    const wrongBytes = await external("gamma.json", "other.sig");
    expect(wrongBytes.code).toBe(1);
    expect(wrongBytes.stderr).toContain("does not verify with key");
    const wrongKey = await external("gamma.json", "gamma.sig", "root-alice.json");
    expect(wrongKey.code).toBe(5);
    expect(wrongKey.stderr).toContain("is not a targets key of root v3; nothing was signed");
    expect(await readFile(join(local.scratch, "gamma.json"), "utf8")).toBe(unchanged);
    const signed = ok(await external("gamma.json", "gamma.sig"));
    expect(signed.stdout).toContain("gamma.json: 1 of 1 needed from the targets keys; ready to submit");
    expect(json(ok(await run(["ceremony", "submit", "gamma.json", "--json"], hw)))).toMatchObject({
      state: "published",
      submitted: 1,
    });
    const found = await lookUpWithTufJs(local.scratch, hwRootOne, hwUrls, "gamma/tool-1.0.tgz");
    expect(found.info?.hashes).toEqual(entry.hashes);
    expect(found.roles).toContain("gamma");
  }, 300_000);

  it("tuf-js refuses a top-level targets forged with the online key that drops the delegation", async () => {
    // A second approved change, so that the targets version forged below is one nothing fetched
    // through the Worker (and its cache) before it is replaced in storage.
    // Approved offline this time: the ceremony file is carried to each holder, signed with no service, submitted.
    const { args } = await proposeOffline("beta", {});
    const id = /ceremony ([0-9a-f]{16})/.exec(ok(await run(args)).stdout)?.[1] as string;
    ok(await run(["ceremony", "export", id, "--out", "beta.json"]));
    const pinned = ["--trusted-root", `${REPO}.1.root.json`];
    // A file whose targets draft was changed after export (another path claimed) is refused before anything is signed.
    const exported = JSON.parse(await readFile(join(local.scratch, "beta.json"), "utf8"));
    exported.targets.canonical = exported.targets.canonical.replace('"beta/*"', '"evil/*"');
    await writeFile(join(local.scratch, "altered.json"), JSON.stringify(exported));
    const altered = await run(
      ["ceremony", "sign", "altered.json", "--key", "root-alice.json", ...pinned, "--yes"],
      offline,
    );
    expect(altered.code).toBe(1);
    expect(altered.stderr).toContain("altered.json was altered: its targets summary is not what the draft changes");
    const outsider = await run(
      ["ceremony", "sign", "beta.json", "--key", "owner-beta.key", ...pinned, "--yes"],
      offline,
    );
    expect(outsider.code).toBe(5);
    expect(outsider.stderr).toContain("is not a targets key of root v2; nothing was signed");
    const alice = ok(
      await run(["ceremony", "sign", "beta.json", "--key", "root-alice.json", ...pinned, "--yes"], offline),
    );
    expect(alice.stderr).toContain("+ delegation beta: beta/*; 1 of 1 key(s)");
    expect(alice.stdout).toContain("beta.json: 1 of 2 needed from the targets keys");
    expect(await publishedTargetsVersion()).toBeLessThan(
      defined(json(ok(await run(["ceremony", "show", id, "--json"]))).targets).version,
    );
    ok(await run(["ceremony", "sign", "beta.json", "--key", "root-bob.json", ...pinned, "--yes"], offline));
    const submitted = json(ok(await run(["ceremony", "submit", "beta.json", "--json"])));
    expect(submitted).toMatchObject({ state: "published", submitted: 2 });
    const version = await publishedTargetsVersion();
    const stored = await readLocalR2Object(local.persistTo, `${REPO}/metadata/${version}.targets.json`);
    const genuine = JSON.parse(stored.bytes.toString("utf8"));
    expect(genuine.signed.delegations.roles.map((r: { name: string }) => r.name)).toEqual(["acme", "beta", "bins"]);

    // The thief: the online key, unsealed from the instance's SQLite file with the key-encryption key.
    const [row] = await queryLocalDurableObject<{ keyid: string; sealed: Uint8Array; iv: Uint8Array; kek_id: string }>(
      local.persistTo,
      DO,
      "SELECT keyid, sealed, iv, kek_id FROM online_keys WHERE state = 'active'",
    );
    if (!row) throw new Error("no active online key");
    const seed = await new Sealer(local.secrets.KEY_ENCRYPTION_KEY).unseal(
      { sealed: new Uint8Array(row.sealed).buffer, iv: new Uint8Array(row.iv).buffer, kekId: row.kek_id },
      onlineKeyContext(REPO, row.keyid),
    );
    const online = await Ed25519Signer.fromSeed(seed);
    const forgedSigned = structuredClone(genuine.signed);
    forgedSigned.delegations.roles = forgedSigned.delegations.roles.filter((r: { name: string }) => r.name !== "acme");
    const forged = Buffer.from((await sign(forgedSigned, [online])).bytes);
    // The same length as the file it replaces (JSON allows trailing spaces), so only the signature can tell.
    expect(forged.length).toBeLessThan(stored.size);
    await writeFile(stored.blobFile, Buffer.concat([forged, Buffer.alloc(stored.size - forged.length, " ")]));
    await expect(lookUp("acme/widget-1.0.tgz")).rejects.toThrow("targets was signed by 0/2 keys");
  });
});
