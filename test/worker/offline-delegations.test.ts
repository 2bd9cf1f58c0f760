import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeyVault } from "../../durable-objects/key-vault.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { fromUtf8, toHex, utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { formatExpires } from "../../src/tuf/metadata.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { BASE, publishedTargets, resolve, rootSigners, withHmacRegistry, workerFetch } from "./helpers.ts";

const entry = async (path: string) => ({ path, length: path.length, hashes: { sha256: await sha256Hex(utf8(path)) } });
const inDays = (days: number) => formatExpires(new Date(Date.now() + days * 86_400_000));

/**
 * A version of an offline role as its owners would sign it, serialised with
 * indentation: bytes the service could not have produced itself, so serving
 * them unchanged is visible.
 */
async function ownersVersion(
  signers: readonly Signer[],
  version: number,
  paths: string[],
  expires = inDays(30),
): Promise<Uint8Array<ArrayBuffer>> {
  const targets: Record<string, unknown> = {};
  for (const path of paths) {
    const { path: _, ...file } = await entry(path);
    targets[path] = file;
  }
  const signed = { _type: "targets", spec_version: "1.0.31", version, expires, targets };
  const message = canonicalBytes(signed);
  const signatures = [];
  for (const signer of signers) signatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
  return utf8(JSON.stringify({ signatures, signed }, null, 2));
}

async function refused(promise: Promise<unknown>): Promise<{ status: number; code: string; detail: string }> {
  try {
    await promise;
  } catch (error) {
    const { status, problem } = error as { status?: number; problem?: { code: string; detail: string } };
    if (status !== undefined && problem) return { status, code: problem.code, detail: problem.detail };
    throw error;
  }
  throw new Error("the request was accepted");
}

async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  const { status, code } = await refused(promise);
  return { status, code };
}

async function setUp(repo: string) {
  const context = await withHmacRegistry(repo);
  const owners = await rootSigners(3);
  const v1 = await ownersVersion(owners.slice(0, 2), 1, ["@acme/a-1.0.tgz"]);
  const added = await context.client.addDelegation({
    name: "acme",
    paths: ["@acme/*"],
    terminating: true,
    signing: "offline",
    keys: owners.map((o) => o.key),
    threshold: 2,
    metadata: fromUtf8(v1),
  });
  return { ...context, owners, v1, added };
}

describe("offline delegations: roles their owners sign, served as signed", () => {
  it("publishes the owners' version 1 with the delegation, then each next version, byte for byte", async () => {
    const repo = "dlg-offline";
    const { client, root, owners, v1, added } = await setUp(repo);
    expect(added.delegation).toEqual({
      name: "acme",
      parent: "targets",
      terminating: true,
      signing: "offline",
      keyids: owners.map((o) => o.keyid),
      threshold: 2,
      version: 1,
      paths: ["@acme/*"],
    });
    const { targets, snapshot } = await publishedTargets(repo);
    const role = targets.delegations.roles[0];
    expect(role).toEqual({
      name: "acme",
      keyids: owners.map((o) => o.keyid),
      threshold: 2,
      terminating: true,
      paths: ["@acme/*"],
    });
    for (const o of owners) expect(targets.delegations.keys[o.keyid]).toEqual(o.key);
    expect(snapshot.meta["acme.json"].version).toBe(1);
    const served = await workerFetch(`${BASE}/${repo}/metadata/1.acme.json`);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(v1);
    expect(await resolve(repo, root, "@acme/a-1.0.tgz")).toMatchObject({ role: "acme", visited: ["targets", "acme"] });

    // The next version, signed by another two of the three keys.
    const v2 = await ownersVersion([owners[2], owners[0]] as Signer[], 2, ["@acme/a-1.0.tgz", "@acme/b-2.0.tgz"]);
    const submitted = await client.submitDelegationMetadata("acme", v2);
    expect(submitted.version).toBe(2);
    expect((await publishedTargets(repo)).snapshot.meta["acme.json"].version).toBe(2);
    const served2 = await workerFetch(`${BASE}/${repo}/metadata/2.acme.json`);
    expect(new Uint8Array(await served2.arrayBuffer())).toEqual(v2);
    expect((await resolve(repo, root, "@acme/b-2.0.tgz")).role).toBe("acme");
    expect((await client.delegations()).delegations[0]?.version).toBe(2);
  });

  it("refuses a version that is not the next valid one, and a refused one changes nothing", async () => {
    const repo = "dlg-offline-refusals";
    const { client, owners } = await setUp(repo);
    const before = await publishedTargets(repo);
    const stranger = (await rootSigners(1))[0] as Signer;
    const [a, b] = owners as unknown as [Signer, Signer];
    const cases: Array<[string, Promise<Uint8Array>, { status: number; code: string }]> = [
      ["one signature of two", ownersVersion([a], 2, []), { status: 422, code: "threshold_not_met" }],
      ["a key it does not trust", ownersVersion([a, stranger], 2, []), { status: 422, code: "threshold_not_met" }],
      ["the same signature twice", ownersVersion([a, a], 2, []), { status: 422, code: "threshold_not_met" }],
      ["a rollback to version 1", ownersVersion([a, b], 1, []), { status: 409, code: "bad_version" }],
      ["a skipped version", ownersVersion([a, b], 3, []), { status: 409, code: "bad_version" }],
      ["expired", ownersVersion([a, b], 2, [], "2020-01-01T00:00:00Z"), { status: 422, code: "expired" }],
      [
        "a path outside its patterns",
        ownersVersion([a, b], 2, ["@other/x.tgz"]),
        { status: 422, code: "path_not_claimed" },
      ],
      [
        "a path one segment deeper",
        ownersVersion([a, b], 2, ["@acme/x/y.tgz"]),
        { status: 422, code: "path_not_claimed" },
      ],
      ["not JSON", Promise.resolve(utf8("{")), { status: 422, code: "invalid_metadata" }],
    ];
    for (const [what, bytes, expected] of cases) {
      expect(await refusal(client.submitDelegationMetadata("acme", await bytes)), what).toEqual(expected);
    }
    // Signatures over other bytes than the canonical form of what is served.
    const tampered = fromUtf8(await ownersVersion([a, b], 2, ["@acme/c.tgz"])).replace(
      '"@acme/c.tgz"',
      '"@acme/d.tgz"',
    );
    expect(await refusal(client.submitDelegationMetadata("acme", utf8(tampered)))).toEqual({
      status: 422,
      code: "threshold_not_met",
    });
    const after = await publishedTargets(repo);
    expect(after.snapshot.version).toBe(before.snapshot.version);
    expect(after.snapshot.meta["acme.json"].version).toBe(1);
    // Version 2 is still free: the refused submissions took nothing.
    expect((await client.submitDelegationMetadata("acme", await ownersVersion([a, b], 2, []))).version).toBe(2);

    // An online delegation takes no owners' metadata; an unknown one is not found.
    await client.addDelegation({ name: "web", paths: ["web/*"] });
    expect(await refusal(client.submitDelegationMetadata("web", await ownersVersion([a, b], 1, [])))).toEqual({
      status: 409,
      code: "online_delegation",
    });
    expect(await refusal(client.submitDelegationMetadata("nope", await ownersVersion([a, b], 1, [])))).toEqual({
      status: 404,
      code: "not_found",
    });
  });

  it("a push or an operator change into the offline namespace is refused (409 offline_namespace), never signed online", async () => {
    const repo = "dlg-offline-push";
    const { client, registry, root } = await setUp(repo);
    const before = await publishedTargets(repo);
    expect(await refusal(client.changeTargets({ add: [await entry("@acme/evil.tgz")] }))).toEqual({
      status: 409,
      code: "offline_namespace",
    });
    const push = await refused(registry.push([{ type: "targets.add" as const, ...(await entry("@acme/evil.tgz")) }]));
    expect(push).toMatchObject({ status: 409, code: "offline_namespace" });
    expect(push.detail).toContain('delegation "acme"');
    expect((await publishedTargets(repo)).snapshot.version).toBe(before.snapshot.version);
    expect((await resolve(repo, root, "@acme/evil.tgz")).role).toBeNull();
    // Paths outside the namespace are pushed as before.
    await client.changeTargets({ add: [await entry("other/fine.tgz")] });
    expect((await resolve(repo, root, "other/fine.tgz")).visited?.[1]).toBe("bins");
  });

  it("an offline delegation cannot take over targets the service already lists, nor have roles added under it", async () => {
    const repo = "dlg-offline-existing";
    const { client, owners } = await setUp(repo);
    await client.changeTargets({ add: [await entry("@taken/x.tgz")] });
    const spec = {
      name: "taken",
      paths: ["@taken/*"],
      signing: "offline" as const,
      keys: owners.map((o) => o.key),
      threshold: 2,
      metadata: fromUtf8(await ownersVersion(owners.slice(0, 2), 1, [])),
    };
    expect(await refusal(client.addDelegation(spec))).toEqual({ status: 409, code: "offline_namespace" });
    expect(await refusal(client.addDelegation({ name: "sub", parent: "acme", paths: ["@acme/sub*"] }))).toEqual({
      status: 409,
      code: "offline_namespace",
    });
    // An offline delegation needs its keys, threshold and version 1; an online one has none of them.
    for (const bad of [
      { ...spec, name: "n1", metadata: undefined },
      { ...spec, name: "n2", threshold: 4 },
      { ...spec, name: "n3", keys: [{ keytype: "rsa", scheme: "rsassa-pss-sha256", keyval: { public: "x" } }] },
      { name: "n4", paths: ["n4/*"], threshold: 1 },
    ]) {
      expect(await refusal(client.addDelegation(bad as never)), JSON.stringify(bad)).toMatchObject({ status: 400 });
    }
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["acme"]);
  });
});

describe("offline delegations: expiry reaches the owners", () => {
  it("status warns a week before an offline role expires (the service cannot re-sign it) and not before", async () => {
    const repo = "dlg-offline-expiry";
    const { client, owners } = await setUp(repo);
    expect((await client.status()).warnings.filter((w) => w.includes("delegation acme"))).toEqual([]);
    const soon = inDays(3);
    await client.submitDelegationMetadata("acme", await ownersVersion(owners.slice(0, 2), 2, [], soon));
    const status = await client.status();
    expect(status.warnings).toContain(
      `delegation acme version 2 expires at ${soon}: its owners sign and submit version 3`,
    );
    // The earliest role the service re-signs is a bin, not the owners' role.
    expect(status.roles.bins?.name).not.toBe("acme");
  });
});

describe("offline delegations: the online key cannot sign for the namespace", () => {
  it("a version signed with the online key is refused, and one written into storage is refused by the client", async () => {
    const repo = "dlg-offline-forged";
    const { client, root } = await setUp(repo);
    // The repository's own online key, unsealed as the object does.
    const online = await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const vault = new KeyVault({ sql: state.storage.sql, repo, sealer: new Sealer(env.KEY_ENCRYPTION_KEY) });
      const active = vault.find("active");
      if (!active) throw new Error("no active online key");
      return vault.signer(active.keyid);
    });
    // Through the API: the online key is not one of the owners'.
    const v2 = await ownersVersion([online], 2, ["@acme/evil.tgz"]);
    expect(await refusal(client.submitDelegationMetadata("acme", v2))).toEqual({
      status: 422,
      code: "threshold_not_met",
    });
    // Behind the API's back: version 1 re-signed with the online key, listing the attacker's file, in R2.
    const forged = await ownersVersion([online], 1, ["@acme/a-1.0.tgz", "@acme/evil.tgz"]);
    const bucket = new RepositoryBucket(env.BUCKET, repo);
    await bucket.putMetadata("1.acme.json", forged, await sha256Hex(forged));
    await expect(resolve(repo, root, "@acme/evil.tgz")).rejects.toThrow(
      "acme: 0 valid signature(s) from authorised keys, threshold is 2",
    );
  });
});
