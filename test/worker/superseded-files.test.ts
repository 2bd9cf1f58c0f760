/**
 * Superseded files (durable-objects/superseded-files.ts): a round records
 * the files of the versions it replaced, and they leave R2 once the
 * repository's retention has passed; nothing a current version needs does.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { SupersededFiles } from "../../durable-objects/superseded-files.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { STEP_PACK_SLICE } from "../../src/storage/bin-pack.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { withAlarms } from "./alarms.ts";
import { applied, bootstrapped, getJson, recentRuns, refusal, resolve, targetEntry } from "./helpers.ts";

const DAY_MS = 86_400_000;

/** The current snapshot's meta, from the served timestamp. */
async function currentSnapshot(repo: string) {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const version = ts.signed.meta["snapshot.json"].version as number;
  const { json } = await getJson(`/${repo}/metadata/${version}.snapshot.json`);
  return { version, meta: json.signed.meta as Record<string, { version: number }> };
}

function inObject<T>(repo: string, fn: (instance: Repository, state: DurableObjectState) => Promise<T> | T) {
  return runInDurableObject(env.REPOSITORY.getByName(repo), fn);
}

const supersededRows = (repo: string) =>
  inObject(repo, (_i, state) =>
    state.storage.sql
      .exec<{ key: string }>("SELECT key FROM superseded_files ORDER BY key")
      .toArray()
      .map((r) => r.key),
  );

const livePacks = (repo: string) =>
  inObject(repo, (_i, state) =>
    state.storage.sql
      .exec<{ version: number; slice: number; live: number }>("SELECT * FROM bin_packs ORDER BY version, slice")
      .toArray()
      .map((r) => ({ ...r })),
  );

/** What collect() deletes at `now` with `retainSeconds`, on the object's own tables and the real bucket. */
const collect = (repo: string, now: number, retainSeconds = 86_400) =>
  inObject(repo, (_i, state) =>
    new SupersededFiles(state.storage.sql).collect(new RepositoryBucket(env.BUCKET, repo), now, retainSeconds),
  );

const stored = async (key: string) => (await env.BUCKET.head(key)) !== null;

/** Adds `count` targets under `prefix` and waits for their round. */
async function addTargets(client: Awaited<ReturnType<typeof bootstrapped>>["client"], prefix: string, count: number) {
  const add = await Promise.all(Array.from({ length: count }, (_, i) => targetEntry(`${prefix}/${i}.tgz`)));
  await client.changeTargets({ add });
  return add.map((t) => t.path);
}

describe("superseded files", () => {
  it("deletes replaced snapshots and packs once the retention has passed, and never a file a current version needs", async () => {
    // Two bins: each round signs few, so stores them as its version's one step pack (bin-pack.ts).
    const repo = "superseded";
    const step = STEP_PACK_SLICE;
    const { client, root } = await bootstrapped(repo, { bins: 2 });
    const first = await addTargets(client, "a", 20); // both bins: pack A holds both
    const a = await currentSnapshot(repo);
    const packA = defined(a.meta["bins-0.json"]).version;
    expect(defined(a.meta["bins-1.json"]).version).toBe(packA);
    expect(await livePacks(repo)).toEqual([{ version: packA, slice: step, live: 2 }]);

    const second = await addTargets(client, "b", 1); // one bin: pack A keeps the other
    const b = await currentSnapshot(repo);
    const moved = Object.keys(b.meta).filter((name) => name.startsWith("bins-") && b.meta[name]?.version !== packA);
    expect(moved).toHaveLength(1);
    const packB = defined(b.meta[defined(moved[0])]).version;
    expect(await livePacks(repo)).toEqual([
      { version: packA, slice: step, live: 1 },
      { version: packB, slice: step, live: 1 },
    ]);
    // Nothing of pack A is superseded yet: one of its bins is current.
    expect((await supersededRows(repo)).filter((k) => k.startsWith("packs/"))).toEqual([]);

    const third = await addTargets(client, "c", 20); // both bins again: packs A and B are replaced
    const c = await currentSnapshot(repo);
    const packC = defined(c.meta["bins-0.json"]).version;
    expect(await livePacks(repo)).toEqual([{ version: packC, slice: step, live: 2 }]);
    const rows = await supersededRows(repo);
    expect(rows).toContain(`packs/${packA}/${step}`);
    expect(rows).toContain(`packs/${packB}/${step}`);
    for (const v of [1, a.version, b.version]) expect(rows).toContain(`metadata/${v}.snapshot.json`);
    expect(rows).not.toContain(`metadata/${c.version}.snapshot.json`);
    // Version 1 of every bin is the one empty-bin file; timestamp.json and roots are never superseded.
    expect(rows.filter((k) => /bins-|timestamp|root/.test(k))).toEqual([]);

    // Within the retention nothing goes.
    expect(await collect(repo, Date.now() + DAY_MS - 60_000)).toBe(0);
    expect(await stored(`${repo}/packs/${packA}/${step}`)).toBe(true);

    expect(await collect(repo, Date.now() + DAY_MS + 60_000)).toBe(rows.length);
    expect(await supersededRows(repo)).toEqual([]);
    for (const key of rows) expect(await stored(`${repo}/${key}`), key).toBe(false);

    // What the current snapshot names is all still in R2 (read past every cache), and a client resolves every target.
    const bucket = new RepositoryBucket(env.BUCKET, repo);
    for (const [name, { version }] of Object.entries(c.meta)) {
      expect(await bucket.getMetadata(`${version}.${name}`), name).not.toBeNull();
    }
    expect(await stored(`${repo}/metadata/${c.version}.snapshot.json`)).toBe(true);
    expect(await stored(`${repo}/metadata/timestamp.json`)).toBe(true);
    expect(await stored(`${repo}/metadata/1.root.json`)).toBe(true);
    expect(await stored(`${repo}/shared/empty-bin.json`)).toBe(true);
    for (const path of [defined(first[3]), defined(second[0]), defined(third[7])]) {
      expect((await resolve(repo, root, path)).target, path).toBeDefined();
    }
  });

  it("counts a round's packs once when its bins are signed in several invocations", async () => {
    // 256 bins; at most 64 roles per invocation, so step packs of at most 64 bins, and a step takes whole packs.
    const repo = "superseded-steps";
    const { client } = await withAlarms(repo, bootstrapped(repo, { bins: 256, binsPerInvocation: 64 }));
    const runsBefore = (await recentRuns(repo)).length;
    await withAlarms(repo, addTargets(client, "a", 600));
    // The round's roles were signed in more than one publish run (invocation).
    expect((await recentRuns(repo)).length - runsBefore).toBeGreaterThan(1);
    const { meta } = await currentSnapshot(repo);
    const bins = Object.entries(meta).filter(([name]) => name.startsWith("bins-"));
    const changed = bins.filter(([, m]) => m.version > 1);
    // A version per pack of 64 bins (the last one smaller), each pack counted once with its bins.
    const perVersion = new Map<number, number>();
    for (const [, m] of changed) perVersion.set(m.version, (perVersion.get(m.version) ?? 0) + 1);
    expect(perVersion.size).toBe(Math.ceil(changed.length / 64));
    expect(await livePacks(repo)).toEqual(
      [...perVersion].sort(([a], [b]) => a - b).map(([version, live]) => ({ version, slice: STEP_PACK_SLICE, live })),
    );
    // Every bin is read from the pack that holds it.
    const bucket = new RepositoryBucket(env.BUCKET, repo);
    for (const [name, m] of changed) {
      const file = await bucket.getMetadata(`${m.version}.${name}`);
      expect(file, name).not.toBeNull();
      expect((await file?.json<{ signed: { version: number } }>())?.signed.version, name).toBe(m.version);
    }
  });

  it("deletes the replaced versions of a delegated role and of targets, and clients still resolve through them", async () => {
    const repo = "superseded-delegated";
    const { client, root } = await bootstrapped(repo, { bins: 2 });
    applied(await client.addDelegation({ name: "acme", paths: ["@acme/*"] }));
    const first = await addTargets(client, "@acme", 2);
    const before = await currentSnapshot(repo);
    const acmeBefore = defined(before.meta["acme.json"]).version;
    await client.changeTargets({ add: [await targetEntry("@acme/later.tgz")] });
    const after = await currentSnapshot(repo);
    const acmeAfter = defined(after.meta["acme.json"]).version;
    expect(acmeAfter).toBeGreaterThan(acmeBefore);
    const rows = await supersededRows(repo);
    expect(rows).toContain(`metadata/${acmeBefore}.acme.json`);
    expect(rows).toContain("metadata/1.targets.json"); // the delegation's targets replaced the bootstrap's
    expect(rows).not.toContain(`metadata/${acmeAfter}.acme.json`);

    expect(await collect(repo, Date.now() + DAY_MS + 60_000)).toBe(rows.length);
    expect(await stored(`${repo}/metadata/${acmeBefore}.acme.json`)).toBe(false);
    expect(await stored(`${repo}/metadata/${acmeAfter}.acme.json`)).toBe(true);
    const targetsVersion = defined(after.meta["targets.json"]).version;
    expect(await stored(`${repo}/metadata/${targetsVersion}.targets.json`)).toBe(true);
    expect((await resolve(repo, root, defined(first[1]))).role).toBe("acme");
  });

  it("keeps every file with retainSuperseded 0", async () => {
    const repo = "superseded-kept";
    const { client } = await bootstrapped(repo, { bins: 2, retainSuperseded: 0 });
    await addTargets(client, "a", 5);
    await addTargets(client, "b", 5);
    const rows = await supersededRows(repo);
    expect(rows.length).toBeGreaterThan(0);
    expect(await collect(repo, Date.now() + 365 * DAY_MS, 0)).toBe(0);
    for (const key of rows) expect(await stored(`${repo}/${key}`), key).toBe(true);
  });

  it("is collected by the object's refresh (the alarm and the cron) once due; status warns of files long overdue", async () => {
    const repo = "superseded-refresh";
    const { client } = await bootstrapped(repo, { bins: 2, retainSuperseded: 600 });
    await addTargets(client, "a", 5);
    const rows = await supersededRows(repo);
    expect(rows).toContain("metadata/1.snapshot.json");
    // Not due: the refresh leaves them.
    await inObject(repo, (instance) => instance.refresh());
    for (const key of rows) expect(await stored(`${repo}/${key}`), key).toBe(true);
    expect((await client.status()).warnings.filter((w) => w.includes("replaced metadata"))).toEqual([]);
    // Replaced over an hour past the retention: status warns until they are deleted, which the refresh does.
    await inObject(repo, (_i, state) => {
      state.storage.sql.exec("UPDATE superseded_files SET since = since - 600000 - 3660000");
    });
    expect((await client.status()).warnings).toContainEqual(
      expect.stringMatching(/^replaced metadata files due for deletion since .* are still in R2/),
    );
    await inObject(repo, (instance) => instance.refresh());
    expect(await supersededRows(repo)).toEqual([]);
    expect((await client.status()).warnings.filter((w) => w.includes("replaced metadata"))).toEqual([]);
    for (const key of rows) expect(await stored(`${repo}/${key}`), key).toBe(false);
    expect((await currentSnapshot(repo)).version).toBeGreaterThan(1);
  });

  it("refuses a retention shorter than 10 minutes at bootstrap", async () => {
    expect(await refusal(bootstrapped("superseded-short", { bins: 2, retainSuperseded: 300 }))).toEqual({
      status: 422,
      code: "invalid_settings",
    });
  });
});
