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
import type { Signer } from "../../src/tuf/signer.ts";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import {
  applied,
  BASE,
  inDays,
  publishedTargets,
  refusal,
  refused,
  resolve,
  rootSigners,
  targetEntry,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";

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
    const { path: _, ...file } = await targetEntry(path);
    targets[path] = file;
  }
  const signed = { _type: "targets", spec_version: "1.0.31", version, expires, targets };
  const message = canonicalBytes(signed);
  const signatures = [];
  for (const signer of signers) signatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
  return utf8(JSON.stringify({ signatures, signed }, null, 2));
}

async function setUp(repo: string) {
  const context = await withHmacRegistry(repo);
  const owners = await rootSigners(3);
  const v1 = await ownersVersion(owners.slice(0, 2), 1, ["@acme/a-1.0.tgz"]);
  const added = applied(
    await context.client.addDelegation({
      name: "acme",
      paths: ["@acme/*"],
      terminating: true,
      signing: "offline",
      keys: owners.map((o) => o.key),
      threshold: 2,
      metadata: fromUtf8(v1),
    }),
  );
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

  it("an offline delegation cannot take over targets the service already lists, nor have roles added under it", async () => {
    const repo = "dlg-offline-existing";
    const { client, owners } = await setUp(repo);
    await client.changeTargets({ add: [await targetEntry("@taken/x.tgz")] });
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

  it("a delegation added before an offline one cannot take a path its owners list (their next version could not list it)", async () => {
    const repo = "dlg-offline-listed";
    const { client, root, owners } = await setUp(repo);
    const [a, b] = owners as unknown as [Signer, Signer];
    const before = await publishedTargets(repo);
    // Searched before acme: it would claim @acme/a-1.0.tgz, which acme's version 1 lists.
    const carve = { name: "carve", paths: ["@acme/a-*"], position: 0 };
    const online = await refused(client.addDelegation(carve));
    expect(online).toMatchObject({ status: 409, code: "offline_namespace" });
    expect(online.detail).toContain('"@acme/a-1.0.tgz"');
    const offline = {
      ...carve,
      signing: "offline" as const,
      keys: [a.key],
      threshold: 1,
      metadata: fromUtf8(await ownersVersion([a], 1, [])),
    };
    expect(await refusal(client.addDelegation(offline))).toEqual({ status: 409, code: "offline_namespace" });
    // Refused, so nothing changed: the path still resolves in acme, and the owners' next version still lists it.
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["acme"]);
    expect((await publishedTargets(repo)).snapshot.version).toBe(before.snapshot.version);
    expect((await resolve(repo, root, "@acme/a-1.0.tgz")).role).toBe("acme");
    const v2 = await ownersVersion([a, b], 2, ["@acme/a-1.0.tgz", "@acme/b-1.0.tgz"]);
    expect((await client.submitDelegationMetadata("acme", v2)).version).toBe(2);
    // A delegation before acme that claims none of the paths its owners list is added as before.
    expect(applied(await client.addDelegation({ ...carve, paths: ["@acme/c-*"] })).delegation.name).toBe("carve");
  });
});

describe("offline delegations: expiry and pending changes reach the owners", () => {
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

  it("the expiry and the changes waiting for the owners reach health and the audit log (the expiry once per version)", async () => {
    const repo = "dlg-offline-reminders";
    const { client, registry, owners } = await setUp(repo);
    const soon = inDays(3);
    await client.submitDelegationMetadata("acme", await ownersVersion(owners.slice(0, 2), 2, [], soon));
    await registry.push([{ type: "targets.add", ...(await targetEntry("@acme/new.tgz")) }]);
    const stub = env.REPOSITORY.getByName(repo);
    await stub.refresh();
    await stub.refresh();
    const { events } = await client.events(100);
    const expiring = events.filter((e) => e.kind === "delegation-expiring");
    expect(expiring.map((e) => e.detail)).toEqual([
      `acme version 2 expires at ${soon}: its owners sign and submit version 3 (tuf-edge delegation draft acme; with nothing pending, the draft re-signs the same targets)`,
    ]);
    expect(events.find((e) => e.kind === "delegation-change-queued")?.detail).toContain(
      "acme: 1 change(s) by registry registry (add @acme/new.tgz)",
    );
    const health = await (await workerFetch(`${BASE}/${repo}/health`)).json<{
      repositories: Array<{ status: string; warnings: string[] }>;
    }>();
    const [mine] = health.repositories;
    expect(mine?.status).toBe("warning");
    expect(mine?.warnings).toContain(
      `delegation acme version 2 expires at ${soon}: its owners sign and submit version 3`,
    );
    expect(mine?.warnings.some((w) => w.startsWith("delegation acme: 1 change(s) wait for its owners since"))).toBe(
      true,
    );
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

describe("offline delegations: changes wait for the owners' signatures", () => {
  /** An owner's signature over the draft the service showed (canonical bytes recomputed here). */
  const signed = (draft: { signed: unknown; canonical: string }, signer: Signer) =>
    signDraft({ draft: draft.signed, canonical: draft.canonical }, signer);

  it("a push into the namespace is accepted and queued; clients never see it; one signature publishes nothing; the threshold publishes it", async () => {
    const repo = "dlg-queue";
    const { client, registry, root, owners } = await setUp(repo);
    const [a, b] = owners as unknown as [Signer, Signer];
    const before = await publishedTargets(repo);
    const add = { type: "targets.add" as const, ...(await targetEntry("@acme/b-2.0.tgz")) };
    const pushed = await registry.push([add, { type: "targets.add" as const, ...(await targetEntry("other/x.tgz")) }]);
    // Accepted, not published: the task waits for the owners of "acme" (the other path is published).
    expect(pushed.status).toBe(202);
    expect(pushed.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: ["acme"] });
    expect(pushed.task.versions).toBeUndefined();
    expect((await resolve(repo, root, "other/x.tgz")).target).toBeDefined();
    const yank = await registry.push([{ type: "targets.yank", path: "@acme/a-1.0.tgz", reason: "CVE-1" }], {
      async: true,
    });
    // Answered at once (202) as its poll says: waiting for the owners of "acme".
    expect(yank.status).toBe(202);
    expect(yank.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: ["acme"] });
    expect(await registry.task(yank.task.id)).toEqual(yank.task);

    // Nothing of it is in any published metadata.
    const queued = await publishedTargets(repo);
    expect(queued.snapshot.meta["acme.json"].version).toBe(1);
    expect(queued.targets.version).toBe(before.targets.version);
    expect((await resolve(repo, root, "@acme/b-2.0.tgz")).role).toBeNull();
    expect((await resolve(repo, root, "@acme/a-1.0.tgz")).target?.custom).toBeUndefined();
    const status = await client.status();
    expect(status.warnings.some((w) => w.startsWith("delegation acme: 2 change(s) wait for its owners"))).toBe(true);
    const listed = (await client.delegations()).delegations[0];
    expect(listed).toMatchObject({ name: "acme", version: 1, pending: 2 });

    const draft = await client.delegationDraft("acme");
    expect(draft).toMatchObject({ delegation: "acme", publishedVersion: 1, version: 2, threshold: 2, frozen: false });
    expect(draft.changes.map((c) => [c.type, c.path, c.actor])).toEqual([
      ["targets.add", "@acme/b-2.0.tgz", "registry registry"],
      ["targets.yank", "@acme/a-1.0.tgz", "registry registry"],
    ]);
    expect(draft.canonical).toBe(fromUtf8(canonicalBytes(draft.signed)));
    expect(draft.sha256).toBe(await sha256Hex(utf8(draft.canonical)));
    expect(draft.signed).toMatchObject({
      _type: "targets",
      version: 2,
      targets: {
        "@acme/a-1.0.tgz": { custom: { yanked: true, yanked_reason: "CVE-1" } },
        "@acme/b-2.0.tgz": { length: add.length, hashes: add.hashes },
      },
    });
    // Asked again with nothing new: the same draft.
    expect((await client.delegationDraft("acme")).sha256).toBe(draft.sha256);

    // One signature of two: collected, the draft frozen, nothing published.
    const first = await client.signDelegationDraft("acme", draft.sha256, await signed(draft, a));
    expect(first.published).toBeNull();
    expect(first.draft).toMatchObject({ frozen: true, signatures: [{ keyid: a.keyid }] });
    expect((await publishedTargets(repo)).snapshot.meta["acme.json"].version).toBe(1);
    expect((await resolve(repo, root, "@acme/b-2.0.tgz")).role).toBeNull();

    // The second: version 2 is published, listing the changes; the tasks are published with it.
    const second = await client.signDelegationDraft("acme", draft.sha256, await signed(draft, b));
    expect(second.published?.version).toBe(2);
    const after = await publishedTargets(repo);
    expect(after.snapshot.meta["acme.json"].version).toBe(2);
    expect(await resolve(repo, root, "@acme/b-2.0.tgz")).toMatchObject({ role: "acme" });
    expect((await resolve(repo, root, "@acme/a-1.0.tgz")).target?.custom).toEqual({
      yanked: true,
      yanked_reason: "CVE-1",
    });
    const served = JSON.parse(await (await workerFetch(`${BASE}/${repo}/metadata/2.acme.json`)).text());
    expect(served.signed).toEqual(draft.signed);
    expect(served.signatures.map((s: { keyid: string }) => s.keyid)).toEqual([a.keyid, b.keyid]);
    for (const id of [pushed.task.id, yank.task.id]) {
      const task = await registry.task(id);
      expect(task.state).toBe("published");
      expect(task.versions?.timestamp).toBe(second.published?.versions.timestamp);
    }
    expect((await client.status()).warnings.filter((w) => w.startsWith("delegation acme:"))).toEqual([]);
    const next = await client.delegationDraft("acme");
    expect(next).toMatchObject({ version: 3, changes: [], queued: [] });
    const kinds = (await client.events(50)).events.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["delegation-change-queued", "delegation-draft-signed"]));
  });

  it("the draft is pinned: a signature over a superseded or other draft is refused and changes nothing; later pushes wait for the next version", async () => {
    const repo = "dlg-queue-stale";
    const { client, registry, root, owners } = await setUp(repo);
    const [a, b, c] = owners as unknown as [Signer, Signer, Signer];
    const push = async (path: string) =>
      registry.push([{ type: "targets.add" as const, ...(await targetEntry(path)) }]);
    await push("@acme/c.tgz");
    const d1 = await client.delegationDraft("acme");
    await push("@acme/d.tgz");
    // No signature yet: asked again, the draft is made again with the new change; the first is superseded.
    const d2 = await client.delegationDraft("acme");
    expect(d2.sha256).not.toBe(d1.sha256);
    expect(d2.changes.map((x) => x.path)).toEqual(["@acme/c.tgz", "@acme/d.tgz"]);
    expect(await refused(client.signDelegationDraft("acme", d1.sha256, await signed(d1, a)))).toMatchObject({
      status: 409,
      code: "stale_draft",
    });
    // A signature named for the current draft but made over the superseded one's bytes.
    expect(await refusal(client.signDelegationDraft("acme", d2.sha256, await signed(d1, a)))).toEqual({
      status: 422,
      code: "invalid_signature",
    });
    const stranger = (await rootSigners(1))[0] as Signer;
    expect(await refusal(client.signDelegationDraft("acme", d2.sha256, await signed(d2, stranger)))).toEqual({
      status: 422,
      code: "invalid_signature",
    });
    expect((await client.delegationDraft("acme")).signatures).toEqual([]);

    // The first signature freezes it: a push after it waits for the version after.
    await client.signDelegationDraft("acme", d2.sha256, await signed(d2, a));
    await push("@acme/e.tgz");
    const frozen = await client.delegationDraft("acme");
    expect(frozen.sha256).toBe(d2.sha256);
    expect(frozen.queued.map((x) => x.path)).toEqual(["@acme/e.tgz"]);
    const done = await client.signDelegationDraft("acme", d2.sha256, await signed(d2, c));
    expect(done.published?.version).toBe(2);
    expect((await resolve(repo, root, "@acme/d.tgz")).role).toBe("acme");
    expect((await resolve(repo, root, "@acme/e.tgz")).role).toBeNull();
    // The published draft cannot be signed again.
    expect(await refusal(client.signDelegationDraft("acme", d2.sha256, await signed(d2, b)))).toEqual({
      status: 409,
      code: "stale_draft",
    });

    // A version the owners submit whole supersedes a draft being signed; the pending change stays pending.
    const d3 = await client.delegationDraft("acme");
    expect(d3.changes.map((x) => x.path)).toEqual(["@acme/e.tgz"]);
    await client.signDelegationDraft("acme", d3.sha256, await signed(d3, a));
    await client.submitDelegationMetadata("acme", await ownersVersion([a, b], 3, ["@acme/c.tgz"]));
    const snapshot = (await publishedTargets(repo)).snapshot;
    expect(await refusal(client.signDelegationDraft("acme", d3.sha256, await signed(d3, b)))).toEqual({
      status: 409,
      code: "stale_draft",
    });
    expect((await publishedTargets(repo)).snapshot.version).toBe(snapshot.version);
    expect((await resolve(repo, root, "@acme/d.tgz")).role).toBeNull();
    const d4 = await client.delegationDraft("acme");
    expect(d4).toMatchObject({ publishedVersion: 3, version: 4, signatures: [] });
    expect(Object.keys(d4.signed.targets as object).sort()).toEqual(["@acme/c.tgz", "@acme/e.tgz"]);
  });

  it("queued changes follow the rules of every change; uploads and operator changes queue too; quarantine cannot", async () => {
    const repo = "dlg-queue-rules";
    const { client, registry, root } = await setUp(repo);
    const b = await targetEntry("@acme/b.tgz");
    await registry.push([{ type: "targets.add", ...b }]);
    // Another digest for a path waiting for the owners, or for one they published.
    const other = { ...b, hashes: { sha256: "0".repeat(64) } };
    expect(await refusal(registry.push([{ type: "targets.add", ...other }]))).toEqual({
      status: 409,
      code: "immutable_target",
    });
    const a = await targetEntry("@acme/a-1.0.tgz");
    expect(await refusal(registry.push([{ type: "targets.add", ...a, length: a.length + 1 }]))).toEqual({
      status: 409,
      code: "immutable_target",
    });
    expect(await refusal(registry.push([{ type: "targets.yank", path: "@acme/nope.tgz", reason: "x" }]))).toEqual({
      status: 409,
      code: "unknown_target",
    });
    // Added, then yanked before the owners signed: the yank finds the pending add.
    await registry.push([{ type: "targets.add", ...(await targetEntry("@acme/c.tgz")) }]);
    const yank = await registry.push([{ type: "targets.yank", path: "@acme/c.tgz", reason: "broken" }]);
    expect(yank.task.state).toBe("awaiting-owners");
    expect(await refusal(client.quarantine({ path: "@acme/a-1.0.tgz", reason: "malware?" }))).toEqual({
      status: 409,
      code: "offline_namespace",
    });
    // The same entry again: nothing for the owners to sign, nothing waits.
    const again = await registry.push([{ type: "targets.add", ...a }]);
    expect(again.task.state).toBe("published");

    const operator = await client.changeTargets({ add: [await targetEntry("@acme/op.tgz")] });
    expect(operator.awaitingOwners).toEqual(["acme"]);
    const bytes = utf8("acme upload\n");
    const uploaded = await client.upload("@acme/up.tgz", bytes);
    expect(uploaded.awaitingOwners).toEqual(["acme"]);
    // The bytes are stored at their content address; the path is listed nowhere.
    const sha = await sha256Hex(bytes);
    expect((await workerFetch(`${BASE}/${repo}/targets/@acme/${sha}.up.tgz`)).status).toBe(200);
    expect((await resolve(repo, root, "@acme/up.tgz")).role).toBeNull();
    // Accepted changes are never dropped silently: the delegation stays until its owners have signed them.
    expect(await refusal(client.removeDelegation("acme"))).toEqual({ status: 409, code: "pending_changes" });
    // Nor is a waiting path taken out of the owners' namespace by a delegation searched before theirs.
    expect(await refusal(client.addDelegation({ name: "early", paths: ["@acme/op*"], position: 0 }))).toEqual({
      status: 409,
      code: "pending_changes",
    });
    const draft = await client.delegationDraft("acme");
    expect(draft.changes.map((x) => `${x.type} ${x.path}`)).toEqual([
      "targets.add @acme/b.tgz",
      "targets.add @acme/c.tgz",
      "targets.yank @acme/c.tgz",
      "targets.add @acme/op.tgz",
      "targets.add @acme/up.tgz",
    ]);
  });

  it("an unsigned draft a day old is made again, and a frozen draft that expired is replaced (its signatures could never publish)", async () => {
    const repo = "dlg-queue-aging";
    const { client, registry, owners } = await setUp(repo);
    const [a] = owners as unknown as [Signer];
    await registry.push([{ type: "targets.add", ...(await targetEntry("@acme/x.tgz")) }]);
    const first = await client.delegationDraft("acme");
    const stub = env.REPOSITORY.getByName(repo);
    const age = (sql: string, ...params: SqlStorageValue[]) =>
      runInDurableObject(stub, async (_i: Repository, state) => {
        state.storage.sql.exec(sql, ...params);
      });
    await age("UPDATE offline_drafts SET created_at = created_at - 2 * 86400000");
    const remade = await client.delegationDraft("acme");
    expect(remade.changes.map((c) => c.path)).toEqual(["@acme/x.tgz"]);
    // Made again (its expiry counts from now: the same bytes, if made within the second).
    const drafted = async () => (await client.events(100)).events.filter((e) => e.kind === "delegation-draft");
    expect(await drafted()).toHaveLength(2);
    expect(Date.parse(remade.expires)).toBeGreaterThanOrEqual(Date.parse(first.expires));

    await client.signDelegationDraft("acme", remade.sha256, await signed(remade, a));
    // The frozen draft as it would be after its expiry passed (stored as it was signed, with a past expiry).
    await age(
      "UPDATE offline_drafts SET canonical = ?",
      utf8(remade.canonical.replace(remade.expires, "2020-01-01T00:00:00Z")).buffer,
    );
    const replaced = await client.delegationDraft("acme");
    expect(replaced).toMatchObject({ version: 2, frozen: false, signatures: [] });
    expect(await drafted()).toHaveLength(3);
    expect(replaced.changes.map((c) => c.path)).toEqual(["@acme/x.tgz"]);
  });

  it("refuses a change that would make the next version larger than a version may be (it could never be published)", async () => {
    const repo = "dlg-queue-size";
    const { client, registry } = await setUp(repo);
    // Paths of 790 bytes: about 880 bytes of targets each in the draft.
    const long = (i: number) => `@acme/${String(i).padStart(780, "x")}.tgz`;
    const batch = async (from: number, count: number) =>
      Promise.all(
        Array.from({ length: count }, async (_, i) => ({
          type: "targets.add" as const,
          ...(await targetEntry(long(from + i))),
        })),
      );
    expect((await registry.push(await batch(0, 450))).task.state).toBe("awaiting-owners");
    const refusedPush = await refused(registry.push(await batch(450, 200)));
    expect(refusedPush).toMatchObject({ status: 409, code: "draft_too_large" });
    expect(refusedPush.detail).toContain('delegation "acme" would list');
    // Nothing of the refused batch was queued; the draft of what was accepted can be signed.
    const draft = await client.delegationDraft("acme");
    expect(draft.changes).toHaveLength(450);
    expect(utf8(draft.canonical).length).toBeLessThan(512 * 1024);
  });
});
