/**
 * Publishing in bounded slices: a round held between invocations does not
 * hold up acknowledgements, a round resumed in later invocations signs what
 * it would have signed in one (a step that died after reserving its pack
 * version is retried at a new one: durable-objects/pack-versions.ts), and
 * large rounds (a rotation that re-signs 16,384 bins) run as many
 * invocations, each within its budget
 * (durable-objects/invocation-budget.ts: roles signed and R2 operations);
 * a 16,384-bin bootstrap is one.
 */
import { env } from "cloudflare:workers";
import { STEP_PACK_BINS } from "../../src/storage/bin-pack.ts";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { PackVersions } from "../../durable-objects/pack-versions.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { R2_FINISH_RESERVE, R2_OPERATIONS_PER_INVOCATION } from "../../durable-objects/invocation-budget.ts";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { drain, withAlarms } from "./alarms.ts";
import {
  adminClient,
  allPublishedTargets,
  BASE,
  bootstrapped,
  getJson,
  recentRuns,
  runsOnceLogCaughtUp,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";
import { decodeEntryBundle } from "../../src/log/tiles.ts";

const T0 = Date.parse("2031-05-01T00:00:00Z");

afterEach(() => {
  vi.useRealTimers();
});

/** Roles of the round under way signed so far and still to sign (null when no round runs). */
function roundUnderWay(repo: string) {
  return runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
    const active = state.storage.sql
      .exec<{ value: number }>("SELECT value FROM state WHERE key = 'round_active'")
      .toArray()[0]?.value;
    if (active !== 1) return null;
    return state.storage.sql
      .exec<{ staged: number; pending: number }>(
        `SELECT COALESCE(SUM(IFNULL(c.dirty, 0) != 2 AND r.staged_version IS NOT NULL), 0) AS staged,
           COALESCE(SUM(c.dirty = 2), 0) AS pending
         FROM roles LEFT JOIN role_changes AS c USING (name) LEFT JOIN reserved_versions AS r USING (name)
         WHERE name NOT IN ('snapshot', 'timestamp')`,
      )
      .one();
  });
}

async function target(path: string) {
  return { path, length: path.length, hashes: { sha256: await sha256Hex(utf8(path)) } };
}

/** The served text of a file's `signed` part (what its signature covers, as served). */
async function signedText(repo: string, file: string): Promise<string> {
  const text = await (await workerFetch(`${BASE}/${repo}/metadata/${file}`)).text();
  return text.slice(text.indexOf(',"signed":') + ',"signed":'.length, -1);
}

/**
 * Repositories of 1,024 bins given the same 40 targets at the same time (the fake clock's), each publish step
 * signing 8 roles (a step pack of 8 bins): `whole` publishes them with its invocations back to back, at that moment; `sliced` starts
 * its round at once and holds it after its first step, until the test runs its alarms. `one`, if given, signs
 * them all in one step (the default budget: one step pack where the others store a pack per bin).
 */
async function slicedAndWhole(sliced: string, whole: string, prefix: string, one?: string): Promise<void> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
  await withAlarms(sliced, bootstrapped(sliced, { bins: 1024, binsPerInvocation: 8 }));
  await withAlarms(whole, bootstrapped(whole, { bins: 1024, binsPerInvocation: 8 }));
  if (one) await withAlarms(one, bootstrapped(one, { bins: 1024 }));
  const add = await Promise.all(Array.from({ length: 40 }, (_, i) => target(`${prefix}/${i}.tgz`)));
  const t1 = Date.now();
  await withAlarms(whole, adminChange(whole, add));
  if (one) {
    vi.setSystemTime(t1);
    await adminChange(one, add);
  }
  vi.setSystemTime(t1);
  await adminChange(sliced, add, false);
  await vi.waitFor(async () => expect((await roundUnderWay(sliced))?.staged).toBeGreaterThan(0));
}

/** A bin's signed text without its version (the one thing a step pack's size changes). */
const withoutVersion = (text: string) => text.replace(/^\{"_type":"targets","spec_version":"[^"]*","version":\d+,/, "");

/** The served snapshot's `meta`: each role's file and version. */
async function servedMeta(repo: string): Promise<Record<string, { version: number }>> {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const { json } = await getJson(`/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`);
  return json.signed.meta;
}

describe("publishing in slices", () => {
  it("acknowledges a respond-async push (202) while a round is held mid-way, and publishes it after", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const repo = "slices-ack";
    const { client, registry } = await withAlarms(repo, withHmacRegistry(repo, { bins: 1024, binsPerInvocation: 4 }));
    const add = await Promise.all(Array.from({ length: 48 }, (_, i) => target(`held/${i}.tgz`)));
    await client.changeTargets({ add }, { wait: false });
    // The publish started at once signs one pack of bins (4 of them), then waits for an alarm that (with this
    // clock) only the test runs.
    await vi.waitFor(async () => expect((await roundUnderWay(repo))?.staged).toBeGreaterThan(0));
    const held = defined(await roundUnderWay(repo));
    expect(held.pending).toBeGreaterThan(0);

    const pushed = await registry.push([{ type: "targets.add", ...(await target("late/one.tgz")) }], { async: true });
    expect(pushed.status).toBe(202);
    expect(pushed.task.state).not.toBe("published");

    await drain(repo, 1000);
    const runs = await recentRuns(repo);
    // Packs of at most the budget's 4 bins, claimed whole: a run goes past its budget by less than a pack (a run
    // that finishes a round with budget left starts the next one's first pack).
    for (const run of runs) expect(run.roles).toBeLessThan(2 * 4);
    expect((await registry.task(pushed.task.id)).state).toBe("published");
    const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
    expect(ts.signed.version).toBeGreaterThanOrEqual(3);
  });

  it("a round interrupted at every step, minutes apart, signs each bin as one run of back-to-back steps does", async () => {
    const [sliced, whole, one] = ["slices-every", "slices-whole", "slices-one"];
    await slicedAndWhole(sliced, whole, "same", one);
    // One pack of 8 bins per invocation, two minutes apart (a round keeps its start time for up to an hour).
    const alarms = await drain(sliced, 2 * 60_000);
    expect(alarms).toBeGreaterThan(3);
    for (const run of await recentRuns(sliced)) expect(run.roles).toBeLessThanOrEqual(8);

    const [a, b, c] = [await servedMeta(sliced), await servedMeta(whole), await servedMeta(one)];
    let compared = 0;
    for (const [file, meta] of Object.entries(a)) {
      if (file === "targets.json" || meta.version === 1) continue;
      expect(b[file]?.version, file).toBe(meta.version);
      const text = await signedText(sliced, `${meta.version}.${file}`);
      expect(text, file).toBe(await signedText(whole, `${meta.version}.${file}`));
      // Signed in one step, as one step pack, only its version differs.
      expect(withoutVersion(text), file).toBe(withoutVersion(await signedText(one, `${c[file]?.version}.${file}`)));
      compared++;
    }
    expect(compared).toBeGreaterThan(3);
    expect(
      new Set(
        Object.entries(c)
          .filter(([f, m]) => f.startsWith("bins-") && m.version > 1)
          .map(([, m]) => m.version),
      ).size,
    ).toBe(1);
  });

  it("a step that died after reserving its pack version is retried at a new one: the round publishes what one run does, version numbers aside", async () => {
    const [sliced, whole] = ["slices-died", "slices-died-whole"];
    await slicedAndWhole(sliced, whole, "died");
    // The next step dies after it reserved the round's pack version for its first bins and stored a pack of other
    // bytes at that version's key (a step can die after its write, before it records the bins as staged).
    const died = await runInDurableObject(env.REPOSITORY.getByName(sliced), async (_i: Repository, state) => {
      const roles = new RoleTable(state.storage.sql);
      const packs = new PackVersions(state.storage.sql, roles);
      const index = (name: string) => (/^bins-[0-9a-f]{3}$/.test(name) ? Number.parseInt(name.slice(5), 16) : -1);
      const batch = packs.claimedBatch(1, { indexOf: index }, 8).names.filter((name) => index(name) >= 0);
      const version = packs.version(batch);
      expect(packs.reserve(batch, version).size).toBe(batch.length);
      const other = batch.map((name) => ({ index: index(name), bytes: utf8(`{"not":"${name}"}`) }));
      await new RepositoryBucket(env.BUCKET, sliced).putStepPack(version, 3, other);
      return { version, name: defined(batch[0]) };
    });
    // A client that reads that file now gets those bytes (the edge cache keeps them: a version's file never changes).
    const early = await workerFetch(`${BASE}/${sliced}/metadata/${died.version}.${died.name}.json`);
    expect(await early.text()).toBe(`{"not":"${died.name}"}`);

    await drain(sliced, 2 * 60_000);
    const [a, b] = [await servedMeta(sliced), await servedMeta(whole)];
    expect(defined(a[`${died.name}.json`]).version).toBeGreaterThan(died.version);
    let compared = 0;
    for (const [file, meta] of Object.entries(a)) {
      if (file === "targets.json" || meta.version === 1) continue;
      expect(b[file]?.version, file).toBeGreaterThan(1);
      const [mine, theirs] = [
        await signedText(sliced, `${meta.version}.${file}`),
        await signedText(whole, `${b[file]?.version}.${file}`),
      ];
      expect(mine, file).toMatch(/^\{"_type":"targets"/);
      expect(withoutVersion(mine), file).toBe(withoutVersion(theirs));
      compared++;
    }
    expect(compared).toBeGreaterThan(3);
  });

  it("bootstraps 16,384 bins in one bounded invocation and rotates them through many, each within its budget", {
    timeout: 900_000,
  }, async () => {
    const repo = "slices-16k";
    const { client, signers } = await bootstrapped(repo, { bins: 16_384 });
    // Bootstrap signs targets; the bins' version 1 is one shared empty bin, stored before the round.
    const boot = await runsOnceLogCaughtUp(repo);
    expect(boot.map((r) => [r.roles, r.rounds])).toEqual([[1, 1]]);
    expect(defined(boot[0]).r2Operations).toBeLessThanOrEqual(R2_OPERATIONS_PER_INVOCATION);
    const bins = await env.BUCKET.list({ prefix: `${repo}/metadata/`, limit: 1000 });
    expect(bins.objects.filter((o) => o.key.includes("bins-"))).toEqual([]);

    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) =>
      state.storage.kv.delete("publish:recent-invocations"),
    );
    const opened = await client.openCeremony({ kind: "online-key-rotation", reason: "scale test" });
    await client.submitSignature(opened.id, await signDraft(opened, defined(signers[0])));
    await client.submitSignature(opened.id, await signDraft(opened, defined(signers[1])));
    const runs = await runsOnceLogCaughtUp(repo);
    expect(runs.reduce((n, r) => n + r.roles, 0)).toBe(16_385);
    expect(runs.filter((r) => r.roles > 0).length).toBeGreaterThanOrEqual(16);
    for (const run of runs) {
      expect(run.roles).toBeLessThanOrEqual(1024);
      expect(run.r2Operations).toBeLessThanOrEqual(R2_OPERATIONS_PER_INVOCATION);
    }
    const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
    const { json: snapshot } = await getJson(
      `/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`,
    );
    const meta = snapshot.signed.meta as Record<string, { version: number }>;
    expect(Object.keys(meta)).toHaveLength(16_385);
    // Every role was re-signed under the new key: targets at version 2, the bins in 32 step packs of 512, each
    // at a version of its own from 2 on.
    expect(meta["targets.json"]?.version).toBe(2);
    const binVersions = Object.entries(meta)
      .filter(([file]) => file.startsWith("bins-"))
      .map(([, m]) => m.version);
    expect(binVersions.every((v) => v >= 2)).toBe(true);
    expect(new Set(binVersions).size).toBe(16_384 / STEP_PACK_BINS);
  });

  it("stores the log tiles a round's entries fill ahead of its checkpoint, a budget's worth per invocation, and proves with them", {
    timeout: 600_000,
  }, async () => {
    // Two batches of 10,000 (respond-async) while the first one's round is held: that round's checkpoint covers
    // both, about 78 full level-0 tiles and their entry bundles. Stored with the checkpoint, that was one run of
    // over 160 R2 writes, past the 16 roles' budget and the finish's reserve.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const repo = "slices-log-ahead";
    const budget = 16;
    await withAlarms(repo, bootstrapped(repo, { bins: 256, binsPerInvocation: budget }));
    const all = await Promise.all(Array.from({ length: 20_000 }, (_, i) => target(`ahead/${i}.tgz`)));
    await adminChange(repo, all.slice(0, 10_000), false);
    await vi.waitFor(async () => expect((await roundUnderWay(repo))?.staged).toBeGreaterThan(0));
    await adminChange(repo, all.slice(10_000), false);
    await drain(repo, 1000, 400);

    const runs = await recentRuns(repo);
    const largest = await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) =>
      state.storage.kv.get<{ r2Operations: number }>("publish:largest-invocation"),
    );
    expect(defined(largest).r2Operations).toBeLessThanOrEqual(budget + R2_FINISH_RESERVE);
    for (const run of runs) expect(run.r2Operations).toBeLessThanOrEqual(budget + R2_FINISH_RESERVE);
    // The tiles went out over several runs that signed no role, each within the budget.
    const ahead = runs.filter((r) => r.roles === 0 && (r.logWrites ?? 0) > 0);
    expect(ahead.length).toBeGreaterThan(3);
    for (const run of ahead) expect(run.logWrites).toBeLessThanOrEqual(budget);

    // What the Worker proves from the served tiles is what the object proves from its own nodes, up to the
    // root the timestamp commits to; an entry bundle stored ahead holds the entries.
    const { json: timestamp } = await getJson(`/${repo}/metadata/timestamp.json`);
    const { size, root_hash: rootHash } = timestamp.signed["x-tuf-edge-log"];
    expect(size).toBeGreaterThan(20_000);
    const stub = env.REPOSITORY.getByName(repo);
    for (const index of [0, 255, 256, 10_000, 19_999, size - 1]) {
      const { json: proof } = await getJson(`/${repo}/log/proof/inclusion?index=${index}`);
      const expected = await stub.logInclusion({ index, size });
      expect(expected.ok && proof, `entry ${index}`).toEqual(expected.ok && expected.proof);
      expect(proof.rootHash).toBe(rootHash);
    }
    const bundle = decodeEntryBundle(
      new Uint8Array(await (await workerFetch(`${BASE}/${repo}/log/tile/entries/039`)).arrayBuffer()),
    );
    const entry = await stub.logInclusion({ index: 39 * 256 + 7, size });
    expect(entry.ok && entry.proof.entry).toBe(new TextDecoder().decode(bundle[7]));
    expect((await allPublishedTargets(repo)).listings.size).toBe(20_000);
  });

  it("stops a run at its R2 operations when the roles it signs are files of their own (a delegation's 2,048 bins)", {
    timeout: 600_000,
  }, async () => {
    // 4,096 roles per invocation would allow every bin in one run; their one write each (delegated bins are
    // not packed) must not: the run hands over to an alarm before it spends R2_OPERATIONS_PER_INVOCATION.
    const repo = "slices-r2-budget";
    const { client } = await bootstrapped(repo, { bins: 16, binsPerInvocation: 4096 });
    await client.addDelegation({ name: "wide", paths: ["wide/*"], bins: 2048 });
    const runs = await runsOnceLogCaughtUp(repo);
    const signing = runs.filter((r) => r.roles > 0);
    expect(signing.reduce((n, r) => n + r.roles, 0)).toBeGreaterThanOrEqual(2048);
    expect(signing.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect(run.r2Operations).toBeLessThanOrEqual(R2_OPERATIONS_PER_INVOCATION);
    const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
    const { json: snapshot } = await getJson(
      `/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`,
    );
    const meta = snapshot.signed.meta as Record<string, { version: number }>;
    expect(Object.keys(meta).filter((name) => name.startsWith("wide.bins-"))).toHaveLength(2048);
  });
});

function adminChange(repo: string, add: Awaited<ReturnType<typeof target>>[], wait = true) {
  return adminClient(repo).changeTargets({ add }, { wait });
}
