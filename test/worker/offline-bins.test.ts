import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeyVault } from "../../durable-objects/key-vault.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import { toHex, utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { firstVersions } from "../../src/tuf/offline-bins.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import type { OfflineDraftView } from "../../src/repository-api.ts";
import {
  applied,
  BASE,
  inDays,
  publishedTargets,
  refusal,
  resolve,
  rootSigners,
  targetEntry,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";

const bins = new HashBins(2, "acme.bins");

/** An envelope of `signed` signed by `signers`, as the owners' CLI writes it. */
async function envelope(signed: unknown, signers: readonly Signer[]): Promise<string> {
  const message = canonicalBytes(signed);
  const signatures = [];
  for (const s of signers) signatures.push({ keyid: s.keyid, sig: toHex(await s.sign(message)) });
  return JSON.stringify({ signatures, signed });
}

/** Paths of the acme namespace, one in each of two different bins. */
async function pathsInTwoBins(): Promise<[string, string]> {
  const byBin = new Map<string, string>();
  for (let i = 0; byBin.size < 2; i++) {
    const path = `@acme/pkg-${i}.tgz`;
    const bin = await bins.binFor(path);
    if (!byBin.has(bin)) byBin.set(bin, path);
  }
  return [...byBin.values()] as [string, string];
}

/** One owner's signature over each of `drafts`, as `POST …/drafts/signatures` takes them. */
async function signAll(drafts: readonly OfflineDraftView[], signer: Signer) {
  return Promise.all(
    drafts.map(async (d) => ({
      role: d.delegation,
      sha256: d.sha256,
      signature: await signDraft({ draft: d.signed, canonical: d.canonical }, signer),
    })),
  );
}

/** A repository with an offline delegation "acme" whose targets are in 4 bins its 3 owners sign (2 of them). */
async function setUp(repo: string, binExpiry = inDays(30)) {
  const context = await withHmacRegistry(repo);
  const owners = await rootSigners(3);
  const keys = Object.fromEntries(owners.map((o) => [o.keyid, o.key]));
  const [role, ...firstBins] = firstVersions("acme", { keys, threshold: 2 }, 4, inDays(30));
  const signers = owners.slice(0, 2);
  const metadata = await envelope(role?.signed, signers);
  const binsMetadata = await Promise.all(firstBins.map((b) => envelope({ ...b.signed, expires: binExpiry }, signers)));
  const spec = {
    name: "acme",
    paths: ["@acme/*"],
    terminating: true,
    signing: "offline" as const,
    keys: owners.map((o) => o.key),
    threshold: 2,
    bins: 4,
    metadata,
    binsMetadata,
  };
  const added = applied(await context.client.addDelegation(spec));
  return { ...context, owners, spec, added, metadata, binsMetadata };
}

describe("offline delegations with hash bins: every bin signed by the owners", () => {
  it("adds the delegation with the owners' version 1 of its role and of every bin, served as signed and listed in the snapshot", async () => {
    const repo = "dlg-obins";
    const { client, root, owners, added, metadata, binsMetadata } = await setUp(repo);
    expect(added.delegation).toMatchObject({ name: "acme", signing: "offline", bins: 4, version: 1 });
    const { targets, snapshot } = await publishedTargets(repo);
    expect(targets.delegations.roles[0]).toMatchObject({ name: "acme", threshold: 2 });
    expect(snapshot.meta["acme.json"].version).toBe(1);
    for (const [i, name] of bins.names().entries()) {
      expect(snapshot.meta[`${name}.json`].version).toBe(1);
      const served = await workerFetch(`${BASE}/${repo}/metadata/1.${name}.json`);
      expect(await served.text()).toBe(binsMetadata[i]);
    }
    const served = JSON.parse(await (await workerFetch(`${BASE}/${repo}/metadata/1.acme.json`)).text());
    expect(await (await workerFetch(`${BASE}/${repo}/metadata/1.acme.json`)).text()).toBe(metadata);
    expect(served.signed.delegations.succinct_roles).toEqual({
      keyids: owners.map((o) => o.keyid).sort(),
      threshold: 2,
      bit_length: 2,
      name_prefix: "acme.bins",
    });
    // A path in the namespace is searched through acme into its bin (not listed yet).
    const [path] = await pathsInTwoBins();
    expect((await resolve(repo, root, path)).role).toBeNull();
    expect((await client.delegations()).delegations[0]).toMatchObject({ pending: 0, binDrafts: [] });
  });

  it("refuses bins the owners did not sign as the delegation's: other keys, another bit length, a missing bin, too many bins", async () => {
    const repo = "dlg-obins-refusals";
    const { client, owners, spec } = await setUp(repo);
    const keys = Object.fromEntries(owners.map((o) => [o.keyid, o.key]));
    const signers = owners.slice(0, 2);
    const other = (await rootSigners(1))[0] as Signer;
    const [role8] = firstVersions("wide", { keys, threshold: 2 }, 8, inDays(30));
    const [roleOther, ...binsOther] = firstVersions(
      "odd",
      { keys: { [other.keyid]: other.key }, threshold: 1 },
      4,
      inDays(30),
    );
    const base = { ...spec, paths: undefined };
    const cases: Array<[string, Record<string, unknown>, { status: number; code: string }]> = [
      [
        "a role whose succinct_roles has another bit length",
        { ...base, name: "wide", paths: ["@wide/*"], metadata: await envelope(role8?.signed, signers) },
        { status: 422, code: "invalid_metadata" },
      ],
      [
        "bins signed by another key",
        {
          ...base,
          name: "odd",
          paths: ["@odd/*"],
          metadata: await envelope(roleOther?.signed, signers),
          binsMetadata: await Promise.all(binsOther.map((b) => envelope(b.signed, [other]))),
        },
        { status: 422, code: "invalid_metadata" },
      ],
      [
        "a bin missing",
        { ...base, name: "short", paths: ["@short/*"], binsMetadata: spec.binsMetadata.slice(1) },
        { status: 400, code: "invalid_request" },
      ],
      ["32 bins", { ...base, name: "many", paths: ["@many/*"], bins: 32 }, { status: 400, code: "invalid_request" }],
    ];
    for (const [what, body, expected] of cases) {
      expect(await refusal(client.addDelegation(body as never)), what).toEqual(expected);
    }
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["acme"]);
  });

  it("queues a push per bin; the owners sign every bin's draft in one request each; the drafts at threshold publish together", async () => {
    const repo = "dlg-obins-queue";
    const { client, registry, root, owners } = await setUp(repo);
    const [a, b] = owners as unknown as [Signer, Signer];
    const [p1, p2] = await pathsInTwoBins();
    const [bin1, bin2] = [await bins.binFor(p1), await bins.binFor(p2)];
    const pushed = await registry.push([
      { type: "targets.add", ...(await targetEntry(p1)) },
      { type: "targets.add", ...(await targetEntry(p2)) },
      { type: "targets.add", ...(await targetEntry("other/x.tgz")) },
    ]);
    expect(pushed.status).toBe(202);
    expect(pushed.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: [bin1, bin2].sort() });
    // Not in any published metadata.
    expect((await resolve(repo, root, p1)).role).toBeNull();
    expect((await resolve(repo, root, "other/x.tgz")).target).toBeDefined();
    expect((await publishedTargets(repo)).snapshot.meta[`${bin1}.json`].version).toBe(1);
    expect((await client.delegations()).delegations[0]).toMatchObject({ pending: 2 });
    expect((await client.status()).warnings.some((w) => w.startsWith(`delegation ${bin1}: 1 change(s) wait`))).toBe(
      true,
    );

    // One draft per bin with changes; the role itself and the untouched bins need nothing.
    const drafts = await client.delegationDrafts("acme");
    expect(drafts.map((d) => [d.delegation, d.version, d.changes.map((c) => c.path)])).toEqual(
      [
        [bin1, 2, [p1]],
        [bin2, 2, [p2]],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    const sign = (signer: Signer) => signAll(drafts, signer);
    // A role that is not the delegation's, and a signature over another bin's bytes: refused, nothing kept.
    const mine = await sign(a);
    expect(
      await refusal(client.signDelegationDrafts("acme", [{ ...(mine[0] as (typeof mine)[0]), role: "bins-00" }])),
    ).toEqual({
      status: 422,
      code: "invalid_request",
    });
    const crossed = [{ ...(mine[0] as (typeof mine)[0]), signature: (mine[1] as (typeof mine)[1]).signature }, mine[1]];
    expect(await refusal(client.signDelegationDrafts("acme", crossed as typeof mine))).toEqual({
      status: 422,
      code: "invalid_signature",
    });
    expect((await client.delegationDrafts("acme")).every((d) => d.signatures.length === 0)).toBe(true);

    // Owner a: both drafts signed in one request, one of two signatures each: nothing published.
    const first = await client.signDelegationDrafts("acme", mine);
    expect(first.published).toBeNull();
    expect(first.drafts.map((d) => d.frozen)).toEqual([true, true]);
    expect((await publishedTargets(repo)).snapshot.meta[`${bin1}.json`].version).toBe(1);
    expect((await resolve(repo, root, p1)).role).toBeNull();

    // Owner b: both bins published in one round.
    const second = await client.signDelegationDrafts("acme", await sign(b));
    expect(second.published?.roles).toEqual(drafts.map((d) => ({ role: d.delegation, version: 2 })));
    const after = await publishedTargets(repo);
    expect(after.snapshot.meta[`${bin1}.json`].version).toBe(2);
    expect(after.snapshot.meta[`${bin2}.json`].version).toBe(2);
    expect(after.snapshot.meta["acme.json"].version).toBe(1);
    expect(await resolve(repo, root, p1)).toMatchObject({ role: bin1, visited: ["targets", "acme", bin1] });
    expect(await resolve(repo, root, p2)).toMatchObject({ role: bin2, visited: ["targets", "acme", bin2] });
    const served = JSON.parse(await (await workerFetch(`${BASE}/${repo}/metadata/2.${bin1}.json`)).text());
    expect(served.signatures.map((s: { keyid: string }) => s.keyid)).toEqual([a.keyid, b.keyid]);
    const task = await registry.task(pushed.task.id);
    expect(task.state).toBe("published");
    expect(task.versions?.timestamp).toBe(second.published?.versions.timestamp);
    expect(await client.delegationDrafts("acme")).toEqual([]);
    // Each publish is a transparency-log entry.
    const { events } = await client.events(50);
    expect(events.filter((e) => e.kind === "delegation-signed").map((e) => e.detail.split(" ")[0])).toEqual(
      expect.arrayContaining([bin1, bin2]),
    );

    // A stale signature (a published draft) is refused.
    expect(await refusal(client.signDelegationDrafts("acme", mine))).toEqual({ status: 409, code: "stale_draft" });
    // A yank of p1 touches its bin only.
    await registry.push([{ type: "targets.yank", path: p1, reason: "CVE-2" }]);
    expect((await client.delegationDrafts("acme")).map((d) => d.delegation)).toEqual([bin1]);
    // Renewing: every role's draft (the role keeps its succinct bins), re-signed by two owners, published together.
    const renew = await client.delegationDrafts("acme", true);
    expect(renew.map((d) => d.delegation)).toEqual(["acme", ...bins.names()]);
    expect((renew[0]?.signed as { delegations?: unknown } | undefined)?.delegations).toEqual(
      JSON.parse(await (await workerFetch(`${BASE}/${repo}/metadata/1.acme.json`)).text()).signed.delegations,
    );
    await client.signDelegationDrafts("acme", await signAll(renew, a));
    const renewed = await client.signDelegationDrafts("acme", await signAll(renew, b));
    expect(renewed.published?.roles.map((r) => r.role)).toEqual(["acme", ...bins.names()]);
    expect((await resolve(repo, root, p1)).target?.custom).toEqual({ yanked: true, yanked_reason: "CVE-2" });
  });

  it("the online key cannot change a bin, the service never re-signs one, and an offline bin's expiry reaches its owners", async () => {
    const repo = "dlg-obins-online";
    const soon = inDays(3);
    const { client, root, registry, owners } = await setUp(repo, soon);
    const [p1] = await pathsInTwoBins();
    const bin1 = await bins.binFor(p1);
    await registry.push([{ type: "targets.add", ...(await targetEntry(p1)) }]);
    const drafts = await client.delegationDrafts("acme");
    for (const signer of owners.slice(0, 2)) {
      await client.signDelegationDrafts("acme", await signAll(drafts, signer));
    }
    // (Not fetched before it is forged below: a client's cache would keep the genuine immutable file.)
    expect((await publishedTargets(repo)).snapshot.meta[`${bin1}.json`].version).toBe(2);

    // Status warns of the bins that expire soon (only their owners can re-sign them); the service does not re-sign them.
    const status = await client.status();
    const other = bins.names().find((n) => n !== bin1) as string;
    expect(status.warnings).toContain(
      `delegation ${other} version 1 expires at ${soon}: its owners sign and submit version 2`,
    );
    expect(status.roles.bins?.name.startsWith("acme.")).toBe(false);
    // `delegation status` shows the earliest expiry of the role (30 days) and its bins: the one its owners must act on first.
    expect((await client.delegations()).delegations[0]?.expires).toBe(soon);
    const stub = env.REPOSITORY.getByName(repo);
    await stub.refresh();
    expect((await publishedTargets(repo)).snapshot.meta[`${other}.json`].version).toBe(1);

    // The repository's own online key signs a forged bin, written into storage behind the API's back.
    const online = await runInDurableObject(stub, async (_i: Repository, state) => {
      const vault = new KeyVault({ sql: state.storage.sql, repo, sealer: new Sealer(env.KEY_ENCRYPTION_KEY) });
      const active = vault.find("active");
      if (!active) throw new Error("no active online key");
      return vault.signer(active.keyid);
    });
    const evil = await targetEntry(p1);
    const forged = utf8(
      await envelope(
        {
          _type: "targets",
          spec_version: "1.0.31",
          version: 2,
          expires: inDays(30),
          targets: { [p1]: { length: evil.length + 1, hashes: evil.hashes } },
        },
        [online],
      ),
    );
    await new RepositoryBucket(env.BUCKET, repo).putMetadata(`2.${bin1}.json`, forged, await sha256Hex(forged));
    await expect(resolve(repo, root, p1)).rejects.toThrow(
      `${bin1}: 0 valid signature(s) from authorised keys, threshold is 2`,
    );
  });
});
