/**
 * The repository's alarm (durable-objects/scheduler.ts): work that continues
 * "now" asks for its next invocation just after the present, never at it, and
 * an alarm long past due that never fired is set again when an operator reads
 * the status or the metrics. Both around cloudflare/workerd#6866: an alarm
 * set at or before the present from inside alarm() can be cleared by the
 * handler's end, or stay set without firing.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { ALARM_OVERDUE_MS, ALARM_SOON_MS } from "../../durable-objects/scheduler.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { withAlarms } from "./alarms.ts";
import { BASE, bootstrapped, workerFetch } from "./helpers.ts";

const T0 = Date.parse("2031-05-01T00:00:00Z");

afterEach(() => {
  vi.useRealTimers();
});

const alarmOf = (repo: string) =>
  runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => state.storage.getAlarm());

const setAlarmOf = (repo: string, at: number) =>
  runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => state.storage.setAlarm(at));

/** Whether a publish round is under way with some roles staged (it stopped at its invocation's budget). */
const roundHeld = (repo: string) =>
  runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
    const row = state.storage.sql
      .exec<{ value: number }>("SELECT value FROM state WHERE key = 'round_active'")
      .toArray()[0];
    return row?.value === 1;
  });

/** Polls `check` on real timers (vi.waitFor advances a fake clock) until it holds, for at most 10 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("still not so after 10 s");
}

async function scrapeMetrics(repo: string): Promise<string> {
  const response = await workerFetch(`${BASE}/${repo}/admin/metrics`, {
    headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return response.text();
}

const rearmedCount = (text: string) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith("tuf_edge_alarms_rearmed_total{"))
      ?.split(" ")
      .at(-1),
  );

describe("the repository's alarm", () => {
  it("asks for a round's next invocation just after the present, never at it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const repo = "alarm-soon";
    const { client } = await withAlarms(repo, bootstrapped(repo, { bins: 1024, binsPerInvocation: 4 }));
    const add = await Promise.all(
      Array.from({ length: 48 }, async (_, i) => {
        const path = `soon/${i}.tgz`;
        return { path, length: path.length, hashes: { sha256: await sha256Hex(utf8(path)) } };
      }),
    );
    await client.changeTargets({ add }, { wait: false });
    // The run stops at its budget with the round under way, and sets the alarm that continues it. The fake
    // clock stands still (vi.waitFor would move it), so "now" is T0 throughout.
    await until(async () => (await roundHeld(repo)) && (await alarmOf(repo)) !== null);
    expect(Date.now()).toBe(T0);
    expect(await alarmOf(repo)).toBe(T0 + ALARM_SOON_MS);
  });

  it("sets again, counts and logs an alarm long past due when an operator reads the metrics or the status", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const repo = "alarm-overdue";
    await withAlarms(repo, bootstrapped(repo, { bins: 4 }));
    const due = T0 + 60_000;
    await setAlarmOf(repo, due);
    const logged: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    });
    try {
      // Late, but by less than ALARM_OVERDUE_MS: an alarm waiting for a running handler may be. Left alone.
      vi.setSystemTime(due + ALARM_OVERDUE_MS - 1_000);
      expect(rearmedCount(await scrapeMetrics(repo))).toBe(0);
      expect(await alarmOf(repo)).toBe(due);

      vi.setSystemTime(due + ALARM_OVERDUE_MS + 1_000);
      expect(rearmedCount(await scrapeMetrics(repo))).toBe(1);
      expect(await alarmOf(repo)).toBe(Date.now() + ALARM_SOON_MS);
      const line = logged.map((l) => JSON.parse(l)).find((l) => l.event === "alarm.rearmed");
      expect(line).toMatchObject({ level: "warn", repository: repo, lateMs: ALARM_OVERDUE_MS + 1_000 });

      // The status read does the same for an alarm stuck again.
      await setAlarmOf(repo, due);
      await env.REPOSITORY.getByName(repo).status();
      expect(await alarmOf(repo)).toBe(Date.now() + ALARM_SOON_MS);
      expect(rearmedCount(await scrapeMetrics(repo))).toBe(2);
    } finally {
      warn.mockRestore();
    }
  });
});
