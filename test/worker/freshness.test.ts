import { env } from "cloudflare:workers";
import {
  createExecutionContext,
  createScheduledController,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import worker from "../../src/index.ts";
import { BASE, bootstrapped, getJson, runsOnceLogCaughtUp, workerFetch } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse("2031-03-01T00:00:00Z");

afterEach(() => {
  vi.useRealTimers();
});

/** Earliest expiry among the published online roles, the number of roles, and the scheduled alarm. */
async function snapshotOfState(repo: string) {
  return runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
    const rows = state.storage.sql
      .exec<{ name: string; version: number; expires: string }>(
        "SELECT name, version, expires FROM roles WHERE version > 0",
      )
      .toArray();
    const earliest = Math.min(...rows.map((r) => Date.parse(r.expires)));
    return { rows, earliest, alarm: await state.storage.getAlarm() };
  });
}

describe("freshness", () => {
  it("keeps every role unexpired for 30 days, driven by its own alarms, each bounded", {
    timeout: 300_000,
  }, async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const repo = "fresh-30d";
    const binsPerInvocation = 16;
    const stub = env.REPOSITORY.getByName(repo);
    // With a fake clock, alarms set for "now" do not fire by themselves: run them.
    await withAlarms(stub, bootstrapped(repo, { bins: 64, binsPerInvocation }));
    let now = T0;
    let alarms = 0;
    let before = await snapshotOfState(repo);
    let maxResigned = 0;
    while (now < T0 + 30 * DAY) {
      expect(before.alarm, "an alarm is always scheduled").not.toBeNull();
      const next = Math.max(defined(before.alarm), now);
      // Nothing changes until the alarm runs: every role must outlive it,
      // so the repository is valid at every minute in between.
      expect(
        before.earliest,
        `earliest expiry ${new Date(before.earliest).toISOString()} at alarm ${new Date(next).toISOString()}`,
      ).toBeGreaterThan(next + MINUTE);
      now = next;
      vi.setSystemTime(now);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      alarms++;
      const after = await snapshotOfState(repo);
      const versionsBefore = new Map(before.rows.map((r) => [r.name, r.version]));
      const resignedBins = after.rows.filter(
        (r) => r.name.startsWith("bins-") && r.version !== versionsBefore.get(r.name),
      ).length;
      expect(resignedBins).toBeLessThanOrEqual(binsPerInvocation);
      maxResigned = Math.max(maxResigned, resignedBins);
      before = after;
    }
    // Bins were re-signed in bounded batches, not one alarm per bin.
    expect(maxResigned).toBeGreaterThan(1);
    expect(alarms).toBeLessThan(30 * 24 * 4);
    const { json } = await getJson(`/${repo}/metadata/timestamp.json`);
    expect(Date.parse(json.signed.expires)).toBeGreaterThan(now);
    const status = await stub.status();
    expect(status.pendingChanges).toBe(false);
    expect(defined(defined(status.roles.timestamp).nextResign) > new Date(now).toISOString()).toBe(true);
  });

  it("signs every bin's version 1 once at bootstrap, then spreads bin expiries so that bins do not all come due together", {
    timeout: 120_000,
  }, async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const repo = "fresh-stagger";
    const stub = env.REPOSITORY.getByName(repo);
    await bootstrapped(repo, { bins: 256 });
    // The run that published the bootstrap ends once the log's tiles are stored, and only then sets the alarm.
    await runsOnceLogCaughtUp(repo);
    const boot = await snapshotOfState(repo);
    const bins = (rows: typeof boot.rows) => rows.filter((r) => r.name.startsWith("bins-"));
    // One empty bin is every bin's version 1: one expiry, one file in R2 (served under each bin's name).
    expect(new Set(bins(boot.rows).map((r) => `${r.version} ${r.expires}`))).toEqual(
      new Set([`1 ${bins(boot.rows)[0]?.expires}`]),
    );
    const stored = await env.BUCKET.list({ prefix: `${repo}/` });
    expect(stored.objects.filter((o) => o.key.includes("bins-"))).toEqual([]);
    const a = await workerFetch(`${BASE}/${repo}/metadata/1.bins-00.json`);
    const b = await workerFetch(`${BASE}/${repo}/metadata/1.bins-ff.json`);
    expect(a.status).toBe(200);
    expect(await a.text()).toBe(await b.text());
    // Their first re-signing (due a margin before that one expiry) spreads them by bin index.
    vi.setSystemTime(Date.parse(defined(bins(boot.rows)[0]).expires) - 5 * 60 * MINUTE);
    let after = boot;
    for (let pass = 0; pass < 20 && bins(after.rows).some((r) => r.version === 1); pass++) {
      await runDurableObjectAlarm(stub);
      after = await snapshotOfState(repo);
    }
    expect(bins(after.rows).every((r) => r.version === 2)).toBe(true);
    expect(new Set(bins(after.rows).map((r) => r.expires)).size).toBeGreaterThan(200);
  });

  it("re-signs empty bins and idle repositories when the cron wakes them, even without an alarm", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const repo = "fresh-cron";
    await bootstrapped(repo, { bins: 16 });
    const stub = env.REPOSITORY.getByName(repo);
    await runInDurableObject(stub, (_i: Repository, state) => state.storage.deleteAlarm());
    // 19 hours later, nothing has run: the timestamp and the bins (all of version 1, one expiry) are due.
    vi.setSystemTime(T0 + 19 * 60 * MINUTE);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const { rows, alarm } = await snapshotOfState(repo);
    // Everything that was due (within its margin: 12 h for timestamp, 6 h for bins) was re-signed.
    expect(Math.min(...rows.map((r) => Date.parse(r.expires)))).toBeGreaterThan(Date.now() + 6 * 60 * MINUTE);
    expect(defined(rows.find((r) => r.name === "timestamp")).version).toBe(2);
    expect(rows.filter((r) => r.name.startsWith("bins-") && r.version >= 2).length).toBeGreaterThan(0);
    expect(alarm).not.toBeNull();
  });

  it("refuses changes while the online key cannot be unsealed (503 naming the cause), storing nothing", async () => {
    const repo = "fresh-blocked";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const stub = env.REPOSITORY.getByName(repo);
    // The active key's sealed bytes no longer open (as after KEY_ENCRYPTION_KEY was replaced);
    // the object is evicted so that the unsealed key cached in memory is dropped.
    await runInDurableObject(stub, (_i: Repository, state) => {
      state.storage.sql.exec("UPDATE online_keys SET sealed = zeroblob(48) WHERE state = 'active'");
    });
    await evictDurableObject(stub);
    const status = await client.status();
    expect(status.publishingBlocked).toMatchObject({ code: "kek_unseal_failed" });
    expect(status.warnings.join(" ")).toContain("publishing is blocked: a signing key cannot be unsealed");
    const refused = await client
      .changeTargets({ add: [{ path: "never/stored.tgz", length: 1, hashes: { sha256: "a".repeat(64) } }] })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, problem: { code: "kek_unseal_failed" } });
    expect(await client.status()).toMatchObject({ targetsCount: 0, pendingChanges: false });
    const health = await workerFetch(`${BASE}/${repo}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ repositories: [{ status: "blocked" }] });
  });

  it("reports a failed publish, retries it, and publishes the change once it succeeds", async () => {
    const repo = "fresh-fail";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const stub = env.REPOSITORY.getByName(repo);
    // A change is accepted (stored, its publish scheduled on a timer that is held), then
    // signing breaks before the publish runs: the active key's sealed bytes are replaced
    // and the object evicted, so only the alarm publishes, with the broken key.
    const path = "kept/even-if-publish-fails.tgz";
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const sealed = await runInDurableObject(stub, async (instance: Repository, state) => {
      const accepted = await instance.changeTargets(
        { add: [{ path, length: 1, hashes: { sha256: "a".repeat(64) } }] },
        { wait: false },
      );
      expect(accepted).toMatchObject({ ok: true, pending: true });
      const row = state.storage.sql
        .exec<{ sealed: ArrayBuffer }>("SELECT sealed FROM online_keys WHERE state = 'active'")
        .one();
      state.storage.sql.exec("UPDATE online_keys SET sealed = zeroblob(48) WHERE state = 'active'");
      return row.sealed;
    });
    await evictDurableObject(stub);
    vi.useRealTimers();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const status = await client.status();
    expect(status.lastFailure?.detail).toMatch(/Error/);
    expect(status.warnings.join(" ")).toMatch(/publish failed/);
    expect(status.pendingChanges).toBe(true);
    expect(Date.parse(defined(status.nextAlarm))).toBeGreaterThan(Date.now());
    expect((await stub.events(10)).some((e) => e.kind === "publish-failed")).toBe(true);

    // The key is repaired; the retry alarm publishes the acknowledged change.
    await runInDurableObject(stub, (_i: Repository, state) => {
      state.storage.sql.exec("UPDATE online_keys SET sealed = ? WHERE state = 'active'", sealed);
    });
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await client.status();
    expect(after.pendingChanges).toBe(false);
    expect(after.lastFailure).toBeNull();
    expect(after.targetsCount).toBe(1);
    const { json } = await getJson(`/${repo}/metadata/timestamp.json`);
    expect(json.signed.version).toBe(2);
  });
});

/** Runs the object's alarms until `work` settles (alarms set for a fake "now" never fire on their own). */
async function withAlarms<T>(stub: DurableObjectStub<Repository>, work: Promise<T>): Promise<T> {
  let settled = false;
  const result = work.finally(() => {
    settled = true;
  });
  while (!settled) {
    await runDurableObjectAlarm(stub);
    await new Promise((r) => setTimeout(r, 5));
  }
  return result;
}
