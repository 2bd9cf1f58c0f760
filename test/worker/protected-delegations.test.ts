/**
 * Protected-delegations mode (docs/operators.md §12): top-level targets
 * signed offline by its key holders; delegation changes are ceremonies that
 * change nothing before the holders' threshold; the online key cannot make
 * a targets that clients accept.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyVault } from "../../durable-objects/key-vault.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { type AdminClient, signDraft } from "../../scripts/lib/admin-client.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { walkToTarget } from "../../scripts/lib/delegation-walk.ts";
import type { CeremonyView } from "../../src/repository-api.ts";
import { fromUtf8, toHex, utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { parseEnvelope, SPEC_VERSION, sign, verifyThreshold } from "../../src/tuf/metadata.ts";
import { parseRoot, type Root } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import type { Targets } from "../../src/tuf/targets.ts";
import type { TrustedFiles } from "../../src/tuf/client/trusted-metadata.ts";
import { type FetchFile, findTarget, updateMetadata } from "../../src/tuf/client/updater.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import {
  BASE,
  getJson,
  inDays,
  publishedTargets,
  refusal,
  resolve,
  rootSigners,
  targetEntry,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";

/** A key holder's signature over the ceremony's targets draft (its canonical bytes). */
async function signTargets(view: CeremonyView, signer: Signer) {
  const targets = defined(view.targets);
  return { keyid: signer.keyid, sig: toHex(await signer.sign(utf8(targets.canonical))) };
}

/** The newest published root, parsed, and as an envelope for the client walk. */
async function latestRoot(repo: string, version: number): Promise<{ signed: Root }> {
  const { json } = await getJson(`/${repo}/metadata/${version}.root.json`);
  return { signed: await parseRoot(json.signed) };
}

/** What a client can see now: the timestamp and targets versions, the delegations targets lists. */
async function visible(repo: string) {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const { targets, snapshot } = await publishedTargets(repo);
  const roles = (targets.delegations?.roles ?? []) as Array<{ name: string }>;
  return {
    timestamp: ts.signed.version as number,
    targets: snapshot.meta["targets.json"].version as number,
    roles: roles.map((r) => r.name),
  };
}

/** Adds terminating delegation acme (`@acme/*`) in protected mode: its ceremony signed by `signers`. */
async function addApproved(client: AdminClient, signers: Signer[]) {
  const add = await client.addDelegation({ name: "acme", paths: ["@acme/*"], terminating: true });
  if (!("ceremony" in add)) throw new Error("added at once");
  for (const signer of signers) await client.submitSignature(add.ceremony.id, await signTargets(add.ceremony, signer));
}

/** A repository in protected mode: targets signed by 2 of 3 targets keys (not the root keys). */
async function protectedRepository(repo: string, settings?: Record<string, unknown>) {
  const context = await withHmacRegistry(repo, settings);
  const { client, signers } = context;
  const holders = await rootSigners(3);
  await client.changeTargets({ add: [await targetEntry("@acme/a-1.0.tgz"), await targetEntry("plain/x.txt")] });
  const opened = await client.openCeremony({
    kind: "protect-delegations",
    keys: holders.map((h) => h.key),
    threshold: 2,
  });
  for (const s of signers.slice(0, 2)) await client.submitSignature(opened.id, await signDraft(opened, s));
  await client.submitSignature(opened.id, await signTargets(opened, defined(holders[0])));
  const done = await client.submitSignature(opened.id, await signTargets(opened, defined(holders[1])));
  expect(done.ceremony.state).toBe("published");
  return { ...context, holders, protectRoot: await latestRoot(repo, 2), protectCeremony: opened };
}

afterEach(() => vi.useRealTimers());

describe("protected-delegations mode", () => {
  it("is enabled by a ceremony: nothing changes below either threshold; at both, root 2 hands targets to offline keys", async () => {
    const repo = "prot-enable";
    const { client, signers } = await withHmacRegistry(repo);
    const holders = await rootSigners(2);
    await client.changeTargets({ add: [await targetEntry("plain/x.txt")] });
    const before = await visible(repo);
    const opened = await client.openCeremony({
      kind: "protect-delegations",
      keys: holders.map((h) => h.key),
      threshold: 2,
    });
    expect(opened).toMatchObject({ kind: "protect-delegations", rootVersion: 2, state: "awaiting-signatures" });
    expect(opened.draft?.roles.targets).toEqual({ keyids: holders.map((h) => h.keyid), threshold: 2 });
    expect(opened.progress).toEqual({
      trustedRoot: { signed: 0, threshold: 2 },
      draftRoot: { signed: 0, threshold: 2 },
      targets: { signed: 0, threshold: 2 },
    });
    const targets = defined(opened.targets);
    expect(targets.keyids).toEqual(holders.map((h) => h.keyid));
    // The first offline targets: the catch-all bins, nothing else delegated.
    expect(targets.summary.rolesAdded.map((r) => r.name)).toEqual(["bins"]);
    expect(targets.summary.rolesRemoved.map((r) => r.name)).toEqual(["bins-* (16 hash bins)"]);

    // The root is fully signed, the targets by one holder of two: nothing is published.
    for (const s of signers.slice(0, 2)) await client.submitSignature(opened.id, await signDraft(opened, s));
    const one = await client.submitSignature(opened.id, await signTargets(opened, defined(holders[0])));
    expect(one.ceremony.state).toBe("awaiting-signatures");
    expect(one.ceremony.progress.targets).toEqual({ signed: 1, threshold: 2 });
    expect(await visible(repo)).toEqual(before);
    expect((await workerFetch(`${BASE}/${repo}/metadata/2.root.json`)).status).toBe(404);
    expect((await client.delegations()).targets.signing).toBe("online");

    const done = await client.submitSignature(opened.id, await signTargets(opened, defined(holders[1])));
    expect(done.ceremony.state).toBe("published");
    const root2 = await latestRoot(repo, 2);
    const after = await visible(repo);
    expect(after.targets).toBe(targets.version);
    expect(after.roles).toEqual(["bins"]);
    // Served as the holders signed it, and verified by their keys (not the online key's).
    const served = await workerFetch(`${BASE}/${repo}/metadata/${targets.version}.targets.json`);
    const envelope = parseEnvelope(new Uint8Array(await served.arrayBuffer()), "targets");
    expect(await verifyThreshold(envelope, root2.signed.roles.targets, root2.signed.keys, "targets")).toHaveLength(2);
    expect(envelope.signed).toEqual(JSON.parse(targets.canonical));
    expect((await resolve(repo, root2, "plain/x.txt")).role).toMatch(/^bins-/);
    const overview = await client.delegations();
    expect(overview.targets).toMatchObject({ signing: "offline", version: targets.version, threshold: 2 });
    // Pushes keep publishing (the bins are online), and do not re-sign targets.
    await client.changeTargets({ add: [await targetEntry("plain/y.txt")] });
    expect((await visible(repo)).targets).toBe(targets.version);
    expect((await resolve(repo, root2, "plain/y.txt")).role).toMatch(/^bins-/);
    const status = await client.status();
    expect(status.roles.targets).not.toHaveProperty("nextResign");
    // Enabling it twice is refused.
    expect(await refusal(client.openCeremony({ kind: "protect-delegations" }))).toEqual({
      status: 409,
      code: "already_protected",
    });
  });

  it("a root change gives targets new keys: root 3 and the next targets, signed by them, publish together; a client that trusted the old keys follows", async () => {
    const repo = "prot-rekey";
    const { client, signers, holders, rootBytes, onlineKeyId } = await protectedRepository(repo);
    await addApproved(client, holders.slice(0, 2));
    // A client that pinned root 1 refreshes now: root 2, and targets signed by the old holders.
    const files: TrustedFiles = { root: rootBytes };
    const persist = (next: TrustedFiles) => void Object.assign(files, next);
    const fetchFile: FetchFile = async (_kind, name) => {
      const response = await workerFetch(`${BASE}/${repo}/metadata/${name}`);
      return response.status === 404 ? null : new Uint8Array(await response.arrayBuffer());
    };
    expect((await updateMetadata(files, new Date(), fetchFile, persist)).report.rootVersion).toBe(2);

    // Root 3: the old holders' keys go, two new keys (2 of 2) sign targets.
    const root2 = (await latestRoot(repo, 2)).signed;
    const hardware = await rootSigners(2);
    const draft = structuredClone(root2);
    draft.version = 3;
    for (const old of root2.roles.targets.keyids) delete draft.keys[old];
    for (const h of hardware) draft.keys[h.keyid] = h.key;
    draft.roles.targets = { keyids: hardware.map((h) => h.keyid), threshold: 2 };
    // Never the online key.
    const withOnline = structuredClone(draft);
    withOnline.keys[onlineKeyId] = defined(root2.keys[onlineKeyId]);
    withOnline.roles.targets = { keyids: [...draft.roles.targets.keyids, onlineKeyId], threshold: 2 };
    expect(await refusal(client.openCeremony({ kind: "root-change", signed: withOnline }))).toEqual({
      status: 422,
      code: "invalid_root",
    });

    const before = await visible(repo);
    const opened = await client.openCeremony({ kind: "root-change", signed: draft });
    expect(opened).toMatchObject({
      kind: "root-change",
      rootVersion: 3,
      progress: { targets: { signed: 0, threshold: 2 } },
      targets: { keyids: draft.roles.targets.keyids, threshold: 2 },
    });
    expect(opened.targets?.change).toBe(
      `the same delegations, signed from now on by 2 of the 2 targets key(s) the new root names (${draft.roles.targets.keyids.join(", ")})`,
    );
    expect(
      JSON.parse(defined(opened.targets).canonical).delegations.roles.map((r: { name: string }) => r.name),
    ).toEqual(["acme", "bins"]);
    // The keys that sign targets now are not the signers of its next version.
    expect(await refusal(client.submitSignature(opened.id, await signTargets(opened, defined(holders[0]))))).toEqual({
      status: 422,
      code: "not_a_signer",
    });
    // Root's thresholds (root 2's keys and the draft's: the same two) and one of the two new keys: nothing yet.
    for (const signer of signers.slice(0, 2)) await client.submitSignature(opened.id, await signDraft(opened, signer));
    await client.submitSignature(opened.id, await signTargets(opened, defined(hardware[0])));
    expect(await visible(repo)).toEqual(before);
    expect((await workerFetch(`${BASE}/${repo}/metadata/3.root.json`)).status).toBe(404);
    const done = await client.submitSignature(opened.id, await signTargets(opened, defined(hardware[1])));
    expect(done.ceremony.state).toBe("published");
    const after = await visible(repo);
    expect(after).toMatchObject({ targets: defined(opened.targets).version, roles: ["acme", "bins"] });

    // The same client: root 3 (signed by root 2's threshold and its own), then targets by the new keys' threshold.
    const updated = await updateMetadata(files, new Date(), fetchFile, persist);
    expect(updated.report).toMatchObject({ rootVersion: 3, targetsVersion: after.targets });
    expect(await findTarget(updated.state, "@acme/a-1.0.tgz", fetchFile, persist)).toMatchObject({
      length: "@acme/a-1.0.tgz".length,
    });
    // From now on the new keys sign targets: a refresh needs them, the old holders are no signers.
    const refresh = await client.openCeremony({ kind: "targets-refresh" });
    expect(refresh.progress.targets).toEqual({ signed: 0, threshold: 2 });
    expect(await refusal(client.submitSignature(refresh.id, await signTargets(refresh, defined(holders[1]))))).toEqual({
      status: 422,
      code: "not_a_signer",
    });
  });

  it("adds a delegation only when the targets key holders sign: one signature below threshold publishes nothing", async () => {
    const repo = "prot-add";
    const { client, holders, protectRoot } = await protectedRepository(repo);
    const before = await visible(repo);
    const delegationsBefore = (await client.delegations()).delegations;

    const proposed = await client.addDelegation({ name: "acme", paths: ["@acme/*"], terminating: true });
    if (!("ceremony" in proposed)) throw new Error("the delegation was added at once in protected mode");
    const view = proposed.ceremony;
    expect(view).toMatchObject({ kind: "delegation-change", draft: null, state: "awaiting-signatures" });
    expect(view.targets?.summary.rolesAdded).toEqual([
      { name: "acme", keyids: [expect.any(String)], threshold: 1, terminating: true, paths: ["@acme/*"] },
    ]);
    expect(view.targets?.change).toBe("add delegation acme (paths @acme/*, terminating, online)");
    // Nothing changed: not published, not in the delegations, the target still in its bin.
    expect(await visible(repo)).toEqual(before);
    expect((await client.delegations()).delegations).toEqual(delegationsBefore);
    expect((await client.delegations()).pending).toEqual([
      expect.objectContaining({ id: view.id, kind: "delegation-change" }),
    ]);
    expect((await resolve(repo, protectRoot, "@acme/a-1.0.tgz")).role).toMatch(/^bins-/);
    // Another change waits for this one (one ceremony at a time).
    expect(await refusal(client.addDelegation({ name: "other", paths: ["other/*"] }))).toEqual({
      status: 409,
      code: "ceremony_open",
    });

    const one = await client.submitSignature(view.id, await signTargets(view, defined(holders[2])));
    expect(one.ceremony.progress.targets).toEqual({ signed: 1, threshold: 2 });
    expect(await visible(repo)).toEqual(before);
    expect((await client.delegations()).delegations).toEqual(delegationsBefore);

    // A root key that is not a targets key, and the online key, are not signers here.
    const online = await onlineSigner(repo);
    expect(await refusal(client.submitSignature(view.id, await signTargets(view, online)))).toEqual({
      status: 422,
      code: "not_a_signer",
    });

    const done = await client.submitSignature(view.id, await signTargets(view, defined(holders[0])));
    expect(done.ceremony.state).toBe("published");
    const after = await visible(repo);
    expect(after.targets).toBe(defined(view.targets).version);
    expect(after.roles).toEqual(["acme", "bins"]);
    // The target it claims moved into it, as an immediate add moves it.
    expect(await resolve(repo, protectRoot, "@acme/a-1.0.tgz")).toMatchObject({
      role: "acme",
      visited: ["targets", "acme"],
    });
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["acme"]);
    expect((await client.delegations()).pending).toEqual([]);
  });

  it("removes a delegation only at threshold; a cancelled removal changes nothing", async () => {
    const repo = "prot-remove";
    const { client, holders, protectRoot } = await protectedRepository(repo);
    await addApproved(client, holders.slice(0, 2));
    const withAcme = await visible(repo);
    expect(withAcme.roles).toEqual(["acme", "bins"]);

    const cancelled = await client.removeDelegation("acme");
    if (!("ceremony" in cancelled)) throw new Error("removed at once");
    await client.submitSignature(cancelled.ceremony.id, await signTargets(cancelled.ceremony, defined(holders[0])));
    await client.cancelCeremony(cancelled.ceremony.id, "changed our minds");
    expect(await visible(repo)).toEqual(withAcme);
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["acme"]);
    expect((await resolve(repo, protectRoot, "@acme/a-1.0.tgz")).role).toBe("acme");

    const removal = await client.removeDelegation("acme");
    if (!("ceremony" in removal)) throw new Error("removed at once");
    expect(removal.ceremony.targets?.summary.rolesRemoved.map((r) => r.name)).toEqual(["acme"]);
    expect(removal.ceremony.targets?.version).toBeGreaterThan(withAcme.targets);
    for (const h of holders.slice(1, 3))
      await client.submitSignature(removal.ceremony.id, await signTargets(removal.ceremony, h));
    const after = await visible(repo);
    expect(after.roles).toEqual(["bins"]);
    expect((await resolve(repo, protectRoot, "@acme/a-1.0.tgz")).role).toMatch(/^bins-/);
  });

  it("a removal that reaches its threshold after changes were queued for the role's owners is refused, changing nothing", async () => {
    const repo = "prot-pending";
    const { client, holders, registry } = await protectedRepository(repo);
    const owner = defined((await rootSigners(1))[0]);
    const expires = inDays(30);
    const v1 = await sign({ _type: "targets", spec_version: SPEC_VERSION, version: 1, expires, targets: {} }, [owner]);
    const add = await client.addDelegation({
      name: "beta",
      paths: ["@beta/*"],
      terminating: true,
      signing: "offline",
      keys: [owner.key],
      threshold: 1,
      metadata: fromUtf8(v1.bytes),
    });
    if (!("ceremony" in add)) throw new Error("added at once");
    for (const h of holders.slice(0, 2))
      await client.submitSignature(add.ceremony.id, await signTargets(add.ceremony, h));

    const removal = await client.removeDelegation("beta");
    if (!("ceremony" in removal)) throw new Error("removed at once");
    await client.submitSignature(removal.ceremony.id, await signTargets(removal.ceremony, defined(holders[0])));
    // Meanwhile a registry push into the namespace is accepted for the owners to sign.
    const pushed = await registry.push([{ type: "targets.add", ...(await targetEntry("@beta/tool-1.0.tgz")) }]);
    expect(pushed.task.state).toBe("awaiting-owners");
    const before = await visible(repo);
    const last = await signTargets(removal.ceremony, defined(holders[1]));
    expect(await refusal(client.submitSignature(removal.ceremony.id, last))).toEqual({
      status: 409,
      code: "pending_changes",
    });
    expect(await visible(repo)).toEqual(before);
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["beta"]);
    expect((await client.ceremony(removal.ceremony.id)).state).toBe("awaiting-signatures");
  });

  it("the online key cannot produce a targets clients accept", async () => {
    const repo = "prot-forge";
    const { client, holders, protectRoot } = await protectedRepository(repo);
    await addApproved(client, holders.slice(0, 2));
    const { targets } = await publishedTargets(repo);
    // The thief re-delegates: targets without acme, signed with the repository's own online key,
    // written in place of the published version behind the service's back.
    const online = await onlineSigner(repo);
    const forged = structuredClone(targets) as Targets & { delegations: { roles: Array<{ name: string }> } };
    forged.delegations.roles = forged.delegations.roles.filter((r) => r.name !== "acme");
    const file = await sign(forged, [online]);
    const bucket = new RepositoryBucket(env.BUCKET, repo);
    await bucket.putMetadata(`${targets.version}.targets.json`, file.bytes, await sha256Hex(file.bytes));
    // Read straight from R2 (the edge cache keeps the immutable file the test itself read before);
    // a top-level bin from its pack.
    const fromR2 = async (name: string) => {
      const object = await bucket.getMetadata(name);
      return object ? new Uint8Array(await object.arrayBuffer()) : null;
    };
    await expect(walkToTarget(fromR2, protectRoot.signed, "@acme/a-1.0.tgz")).rejects.toThrow(
      "targets: 0 valid signature(s) from authorised keys, threshold is 2",
    );
    // The same bytes signed by two targets key holders would be accepted: only the signer was wrong
    const byHolders = await sign(forged, holders.slice(0, 2));
    await bucket.putMetadata(`${targets.version}.targets.json`, byHolders.bytes, await sha256Hex(byHolders.bytes));
    // (and would drop the namespace: the client then finds the path nowhere).
    expect((await walkToTarget(fromR2, protectRoot.signed, "@acme/a-1.0.tgz")).found).toBeNull();
  });

  it("a refresh or an online-key rotation never re-signs targets with the online key; a rotation re-keys the bins through the targets holders", async () => {
    const repo = "prot-rotate";
    const { client, signers, holders } = await protectedRepository(repo);
    const before = await visible(repo);
    await env.REPOSITORY.getByName(repo).refresh();
    expect((await visible(repo)).targets).toBe(before.targets);

    const rotation = await client.openCeremony({ kind: "online-key-rotation", reason: "quarterly" });
    const newKey = defined(rotation.draft?.roles.timestamp.keyids[0]);
    // targets keeps its offline keys in root 3; the targets draft delegates the bins to the new key.
    expect(rotation.draft?.roles.targets.keyids).toEqual(holders.map((h) => h.keyid));
    expect(rotation.targets?.summary.rolesChanged).toEqual([
      expect.objectContaining({ name: "bins", keyidsAdded: [newKey] }),
    ]);
    for (const s of signers.slice(0, 2)) await client.submitSignature(rotation.id, await signDraft(rotation, s));
    expect((await workerFetch(`${BASE}/${repo}/metadata/3.root.json`)).status).toBe(404);
    await client.submitSignature(rotation.id, await signTargets(rotation, defined(holders[0])));
    const done = await client.submitSignature(rotation.id, await signTargets(rotation, defined(holders[2])));
    expect(done.ceremony.state).toBe("published");
    const root3 = await latestRoot(repo, 3);
    expect((await client.status()).onlineKeyId).toBe(newKey);
    const { targets } = await publishedTargets(repo);
    expect(targets.version).toBe(defined(rotation.targets).version);
    expect(targets.delegations.roles.find((r: { name: string }) => r.name === "bins").keyids).toEqual([newKey]);
    expect((await resolve(repo, root3, "plain/x.txt")).role).toMatch(/^bins-/);
  });
});

describe("protected-delegations mode: expiry", () => {
  it("the service never re-signs the offline targets, even when due; status and health warn a week before it expires", async () => {
    const repo = "prot-expiry";
    const { client } = await protectedRepository(repo);
    const before = await visible(repo);
    const { targets } = await publishedTargets(repo);
    // Six days before the offline targets expires: due for re-signing by the online rules, and within the warning week.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(targets.expires) - 6 * 86_400_000);
    const { resigned } = await env.REPOSITORY.getByName(repo).refresh();
    expect(resigned).not.toContain("targets");
    expect((await visible(repo)).targets).toBe(before.targets);
    const warning = `targets version ${before.targets} expires at ${targets.expires}`;
    expect((await client.status()).warnings.join("\n")).toContain(warning);
    const { json: health } = await getJson(`/${repo}/health`);
    expect(JSON.stringify(health)).toContain(warning);
    // And once in the audit log, pointing at the refresh ceremony (not at an owners' draft).
    const reminders = (await client.events()).events.filter((e) => e.kind === "delegation-expiring");
    expect(reminders.map((e) => e.detail)).toEqual([expect.stringContaining(`${warning}: it is signed offline`)]);
  });
});

describe("protected-delegations mode: scheduled refresh", () => {
  it("opens the offline targets' refresh ceremony by itself rootRefreshLead before it expires; its holders publish a later expiry", async () => {
    const repo = "prot-due";
    // Root outlives targets, and no scheduled rotation: the targets refresh is the one ceremony due.
    const { client, holders } = await protectedRepository(repo, {
      bins: 16,
      onlineKeyRotationPeriod: 0,
      expiry: { root: 730 * 86_400 },
    });
    const waiting = async () => (await client.ceremonies()).ceremonies.filter((c) => c.state === "awaiting-signatures");
    const { targets } = await publishedTargets(repo);
    const lead = 30 * 86_400_000; // rootRefreshLead's default
    const object = env.REPOSITORY.getByName(repo);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(targets.expires) - lead - 3_600_000);
    await object.refresh();
    expect(await waiting()).toEqual([]);

    vi.setSystemTime(Date.parse(targets.expires) - lead + 3_600_000);
    await object.refresh();
    const open = await waiting();
    expect(open).toHaveLength(1);
    const refresh = defined(open[0]);
    expect(refresh.targets?.change).toBe("the same delegations with a later expiry");
    // Another tick opens nothing more while it waits for signatures.
    await object.refresh();
    expect(await waiting()).toHaveLength(1);

    await client.submitSignature(refresh.id, await signTargets(refresh, defined(holders[0])));
    const done = await client.submitSignature(refresh.id, await signTargets(refresh, defined(holders[1])));
    expect(done.ceremony.state).toBe("published");
    const after = await publishedTargets(repo);
    expect(after.targets.version).toBe(targets.version + 1);
    expect(Date.parse(after.targets.expires)).toBeGreaterThan(Date.parse(targets.expires));
  });
});

/** The repository's active online key, unsealed as the object does (what a thief of it holds). */
async function onlineSigner(repo: string): Promise<Signer> {
  return runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
    const vault = new KeyVault({ sql: state.storage.sql, repo, sealer: new Sealer(env.KEY_ENCRYPTION_KEY) });
    const active = vault.find("active");
    if (!active) throw new Error("no active online key");
    return vault.signer(active.keyid);
  });
}
