/**
 * End to end: tuf-js resolves a target through an offline delegation of a
 * real local instance (wrangler dev), whose role the service stores exactly
 * as its owner signed it, and refuses that role once it is replaced in
 * storage by one signed with a key that is not the owner's.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdminClient } from "../../scripts/lib/admin-client.ts";
import type { RepositoryUrls } from "../../scripts/lib/client-setup.ts";
import type { LocalInstance } from "../../scripts/lib/local-instance.ts";
import { findLocalR2Objects, tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { formatExpires } from "../../src/tuf/metadata.ts";
import { Ed25519Signer, type Signer } from "../../src/tuf/signer.ts";
import { startBootstrappedInstance, stopBootstrappedInstance } from "./bootstrapped-instance.ts";
import { cliHarness, json, ok } from "./cli-harness.ts";
import { lookUpWithTufJs } from "./tuf-js-lookup.ts";

const REPO = "e2e-offline-delegations";

/** A version of the owners' role, serialised as they chose (indented): the service serves these bytes. */
async function ownersVersion(signer: Signer, version: number, targets: Record<string, unknown>): Promise<Uint8Array> {
  const expires = formatExpires(new Date(Date.now() + 30 * 86_400_000));
  const signed = { _type: "targets", spec_version: "1.0.31", version, expires, targets };
  const sig = Buffer.from(await signer.sign(canonicalBytes(signed))).toString("hex");
  return new Uint8Array(Buffer.from(JSON.stringify({ signatures: [{ keyid: signer.keyid, sig }], signed }, null, 2)));
}

describe("tuf-js through an offline delegation", () => {
  let instance: LocalInstance;
  let scratch: string;
  let client: AdminClient;
  let urls: RepositoryUrls;
  let rootBytes: Uint8Array;
  let env: NodeJS.ProcessEnv;
  const { run } = cliHarness(
    () => scratch,
    () => env,
  );

  /** A fresh client trusting root v1: the target info it finds for `path`, and the roles it loaded. */
  const lookUp = (path: string) => lookUpWithTufJs(scratch, rootBytes, urls, path);

  /** Adds offline delegation `name` for `@name/*`, terminating, owned by `owner` alone, with version 1 `v1`. */
  async function addOffline(name: string, owner: Signer, v1: Uint8Array) {
    await client.addDelegation({
      name,
      paths: [`@${name}/*`],
      terminating: true,
      signing: "offline",
      keys: [owner.key],
      threshold: 1,
      metadata: Buffer.from(v1).toString("utf8"),
    });
  }

  beforeAll(async () => {
    ({ instance, scratch, client, urls, rootBytes, env } = await startBootstrappedInstance(
      "tuf-edge-offline-",
      REPO,
      "owners passphrase",
    ));
  }, 400_000);

  afterAll(() => stopBootstrappedInstance(instance, scratch));

  it("resolves a target the owner listed, through the role served as the owner signed it", async () => {
    const owner = (await Ed25519Signer.generate()).signer;
    const path = "@acme/widget-1.0.tgz";
    const contents = Buffer.from("acme widget\n");
    const sha256 = createHash("sha256").update(contents).digest("hex");
    const v1 = await ownersVersion(owner, 1, { [path]: { length: contents.length, hashes: { sha256 } } });
    await addOffline("acme", owner, v1);
    const served = await fetch(`${urls.metadata}/1.acme.json`);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(v1);

    const found = await lookUp(path);
    expect(found.info?.length).toBe(contents.length);
    expect(found.info?.hashes).toEqual({ sha256 });
    expect(found.roles).toEqual(["acme", "root", "snapshot", "targets", "timestamp"]);
  });

  it("tuf-js refuses the role replaced in storage by one signed with a key that is not the owner's", async () => {
    // Another offline role, which nothing fetches through the Worker (and its cache) before it is replaced.
    const owner = (await Ed25519Signer.generate()).signer;
    const path = "@beta/tool-2.0.tgz";
    const entry = { length: 5, hashes: { sha256: createHash("sha256").update("beta\n").digest("hex") } };
    const v1 = await ownersVersion(owner, 1, { [path]: entry });
    await addOffline("beta", owner, v1);
    // What an attacker with another key (the online key is one: it is not among the owner's) and write
    // access to storage could serve: the same role listing other bytes, signed by that key.
    const forger = (await Ed25519Signer.generate()).signer;
    const evil = { length: 5, hashes: { sha256: createHash("sha256").update("evil\n").digest("hex") } };
    const forged = await ownersVersion(forger, 1, { [path]: evil });
    // Only the owners' files are indented (the service's own are compact JSON); this one lists the path.
    const stored = (await findLocalR2Objects(join(scratch, "state"), `"${path}"`)).find((bytes) =>
      Buffer.from(bytes).includes('"_type": "targets"'),
    );
    expect(stored).toEqual(v1);
    await tamperLocalR2Object(join(scratch, "state"), v1, forged);
    await expect(lookUp(path)).rejects.toThrow("beta was signed by 0/1 keys");
  });

  it("the CLI: owners sign with Ed25519 and ECDSA P-256 key files, add the delegation and submit its next version", async () => {
    ok(await run(["keys", "generate", "--type", "ed25519", "--out", "owner-a.key"]));
    ok(await run(["keys", "generate", "--type", "ecdsa-p256", "--out", "owner-b.key"]));
    const contents = Buffer.from("gamma tool\n");
    const entry = { length: contents.length, hashes: { sha256: createHash("sha256").update(contents).digest("hex") } };
    const role = (version: number, targets: Record<string, unknown>) =>
      JSON.stringify({
        _type: "targets",
        spec_version: "1.0.31",
        version,
        expires: formatExpires(new Date(Date.now() + 30 * 86_400_000)),
        targets,
      });
    await writeFile(join(scratch, "gamma-1.json"), role(1, {}));
    const signed = json(ok(await run(["delegation", "sign", "gamma-1.json", "--key", "owner-a.key", "--json"])));
    expect(signed.keyids).toHaveLength(1);
    // A second owner signs the same file later: both signatures are kept.
    ok(await run(["delegation", "sign", "gamma-1.json", "--key", "owner-b.key"]));
    const added = json(
      ok(
        await run([
          "delegation",
          "add",
          "gamma",
          "--path",
          "gamma/*",
          "--offline",
          "--owner-key",
          "owner-a.key",
          "--owner-key",
          "owner-b.key",
          "--threshold",
          "2",
          "--metadata",
          "gamma-1.json",
          "--json",
        ]),
      ),
    );
    expect(added.delegation).toMatchObject({ name: "gamma", signing: "offline", threshold: 2, version: 1 });

    await writeFile(join(scratch, "gamma-2.json"), role(2, { "gamma/tool-1.0.tgz": entry }));
    ok(await run(["delegation", "sign", "gamma-2.json", "--key", "owner-b.key"]));
    // One of two signatures: refused by the service (exit 4), nothing published.
    const short = await run(["delegation", "submit", "gamma", "gamma-2.json"]);
    expect(short.code).toBe(4);
    expect(short.stderr).toContain("threshold_not_met");
    ok(await run(["delegation", "sign", "gamma-2.json", "--key", "owner-a.key"]));
    const submitted = json(ok(await run(["delegation", "submit", "gamma", "gamma-2.json", "--json"])));
    expect(submitted.version).toBe(2);
    const served = await fetch(`${urls.metadata}/2.gamma.json`);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(await readFile(join(scratch, "gamma-2.json")));
    const found = await lookUp("gamma/tool-1.0.tgz");
    expect(found.info?.hashes).toEqual(entry.hashes);
    expect(found.roles).toContain("gamma");
  });
});
