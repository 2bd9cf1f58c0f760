/**
 * Registry push load: signed respond-async pushes of new targets, either by
 * closed-loop pushers (each sends its next push once the last is
 * acknowledged) or offered at a fixed rate (open loop), with a poller that
 * times each acknowledged push until it is published. Shared by the scale
 * and growth sections.
 */
import type { AdminClient } from "../lib/admin-client.ts";
import { defined } from "../lib/defined.ts";
import type { RegistryClient } from "../lib/registry-client.ts";
import { sleep } from "./pool-fetch.ts";

export const EVENTS_PER_PUSH = 10;
/** How often the poller asks for the oldest outstanding task. */
export const POLL_MS = 25;
const DRAIN_TIMEOUT_MS = 10 * 60_000;

export interface PushLoadOptions {
  registry: RegistryClient;
  /** Status is read until nothing is pending, after the last push. */
  admin: AdminClient;
  seconds: number;
  /** Closed-loop pushers, or (with pushRate) the number of path prefixes pushes rotate through. */
  pushers: number;
  /** Targets/s offered by open-loop pushes, or null for closed-loop pushers. */
  pushRate: number | null;
  /** Makes target paths unique to this load (a run may push several times into one repository). */
  label: string;
}

export interface PushLoad {
  /** performance.now() at the first push, the last push's answer, and once nothing was pending. */
  start: number;
  pushEnd: number;
  drained: number;
  acceptedTargets: number;
  failedPushes: number;
  /** Each push's acknowledgement, from when it fell due, ms. */
  ackMs: number[];
  /** Each acknowledged push, from its acknowledgement until published, ms. */
  ackToPublishedMs: number[];
  /** GET /{repo}/tasks/{id} requests the poller made. */
  taskPolls: number;
}

const randomHex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");

export async function runPushLoad(options: PushLoadOptions): Promise<PushLoad> {
  const { registry, label } = options;
  const ackMs: number[] = [];
  const latency: number[] = [];
  /** Acknowledged, not yet seen published: oldest first. */
  const outstanding: Array<{ id: string; sentAt: number; ackAt: number }> = [];
  let accepted = 0;
  let failed = 0;
  let serial = 0;
  let polls = 0;
  let pushing = true;
  let drainStart = Number.POSITIVE_INFINITY;
  // The poller asks for the oldest outstanding task; once it is published, so is every change acknowledged before it was sent.
  const poller = (async () => {
    const deadline = () => (pushing ? Number.POSITIVE_INFINITY : drainStart + DRAIN_TIMEOUT_MS);
    while ((pushing || outstanding.length > 0) && performance.now() < deadline()) {
      const oldest = outstanding[0];
      if (oldest) {
        polls++;
        const task = await registry.task(oldest.id).catch(() => null);
        const at = performance.now();
        if (task?.state === "published") {
          for (let i = outstanding.length - 1; i >= 0; i--) {
            const o = defined(outstanding[i]);
            if (o === oldest || o.ackAt < oldest.sentAt) {
              latency.push(at - o.ackAt);
              outstanding.splice(i, 1);
            }
          }
          continue;
        }
      }
      await sleep(POLL_MS);
    }
  })();
  const start = performance.now();
  const stop = start + options.seconds * 1000;
  /** One signed respond-async push of 10 new targets by pusher `p`; `sentAt` is when it was due. */
  const pushOnce = async (p: number, sentAt: number) => {
    const events = Array.from({ length: EVENTS_PER_PUSH }, () => {
      const i = serial++;
      return {
        type: "targets.add" as const,
        path: `scale-${label}-${p}/t-${i}.tgz`,
        length: 1000 + i,
        hashes: { sha256: randomHex() },
      };
    });
    try {
      const response = await registry.push(events, { async: true });
      const ackAt = performance.now();
      ackMs.push(ackAt - sentAt);
      accepted += EVENTS_PER_PUSH;
      if (response.task.state === "published") latency.push(0);
      else outstanding.push({ id: response.task.id, sentAt, ackAt });
    } catch {
      failed++;
      await sleep(10);
    }
  };
  const rate = options.pushRate;
  if (rate === null) {
    // Closed loop: each pusher sends its next push once the last one is acknowledged.
    await Promise.all(
      Array.from({ length: options.pushers }, async (_, p) => {
        while (performance.now() < stop) await pushOnce(p, performance.now());
      }),
    );
  } else {
    // Open loop: pushes fall due at a fixed rate whatever the answers; an acknowledgement is timed
    // from when its push fell due, so a slow answer that delays the sender still counts.
    const gapMs = (EVENTS_PER_PUSH * 1000) / rate;
    const sent: Promise<void>[] = [];
    for (let k = 0; start + k * gapMs < stop; k++) {
      const due = start + k * gapMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sent.push(pushOnce(k % options.pushers, due));
    }
    await Promise.all(sent);
  }
  const pushEnd = performance.now();
  pushing = false;
  drainStart = pushEnd;
  await poller;
  while ((await options.admin.status()).pendingChanges && performance.now() - pushEnd < DRAIN_TIMEOUT_MS)
    await sleep(100);
  return {
    start,
    pushEnd,
    drained: performance.now(),
    acceptedTargets: accepted,
    failedPushes: failed,
    ackMs,
    ackToPublishedMs: latency,
    taskPolls: polls,
  };
}
