/**
 * Driving a repository object's alarms from a test: with a fake clock
 * (vi.useFakeTimers for Date), an alarm set for "now" does not fire by
 * itself, so a test runs each invocation that continues a publish.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { vi } from "vitest";

/** Runs the object's alarms while `work` is pending. */
export async function withAlarms<T>(repo: string, work: Promise<T>): Promise<T> {
  let settled = false;
  const result = work.finally(() => {
    settled = true;
  });
  while (!settled) {
    await runDurableObjectAlarm(env.REPOSITORY.getByName(repo));
    await new Promise((r) => setTimeout(r, 5));
  }
  return result;
}

/** Runs alarms, `stepMs` of fake time apart, until nothing is pending; returns how many ran. */
export async function drain(repo: string, stepMs: number, limit = 200): Promise<number> {
  const stub = env.REPOSITORY.getByName(repo);
  let alarms = 0;
  while ((await stub.status()).pendingChanges) {
    if (++alarms > limit) throw new Error(`still pending after ${limit} alarms`);
    vi.setSystemTime(Date.now() + stepMs);
    await runDurableObjectAlarm(stub);
  }
  return alarms;
}
