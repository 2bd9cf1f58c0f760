/**
 * Registry push load: signed respond-async pushes of new targets, either by
 * closed-loop pushers (each sends its next push once the last is
 * acknowledged) or offered at a fixed rate (open loop). Each acknowledged
 * push is timed until a served timestamp.json contains its change: a watcher
 * notes when each timestamp version is first served, and after draining each
 * task's first timestamp version is read from its task. (A poller of the
 * oldest outstanding task, one request per task, fell behind 200 pushes a
 * second and timed itself rather than the publishing.) Shared by the scale
 * and growth sections.
 */
import type { AdminClient } from "../lib/admin-client.ts";
import { defined } from "../lib/defined.ts";
import type { RegistryClient } from "../lib/registry-client.ts";
import { sleep } from "./pool-fetch.ts";
import { type ChangeTimes, type RoundTimes, waitParts } from "./round-times.ts";

export const EVENTS_PER_PUSH = 10;
/** How often the poller asks for the oldest outstanding task. */
/** How often the watcher reads timestamp.json (and how late it may see a new version). */
export const POLL_MS = 25;
/** Task reads in flight at once, after draining (each acknowledged task's first timestamp version). */
const TASK_READS = 8;
const DRAIN_TIMEOUT_MS = 10 * 60_000;

export interface PushLoadOptions {
  registry: RegistryClient;
  /** Status is read until nothing is pending, after the last push. */
  admin: AdminClient;
  /** The served timestamp.json the watcher reads (the same front as the pushes). */
  timestampUrl: string;
  seconds: number;
  /** Closed-loop pushers, or (with pushRate) the number of path prefixes pushes rotate through. */
  pushers: number;
  /** Targets/s offered by open-loop pushes, or null for closed-loop pushers. */
  pushRate: number | null;
  /** Makes target paths unique to this load (a run may push several times into one repository). */
  label: string;
  /**
   * Called once everything is published, before the tasks are read: the
   * caller ends its measurements of the load there (CPU, profile, reads), so
   * the reads of the tasks afterwards are not counted in them.
   */
  onDrained?: () => Promise<void>;
  /** The object's publish rounds (a bundle the bench started), to split each change's wait into parts. */
  rounds?: RoundTimes | null;
}

export interface PushLoad {
  /** performance.now() at the first push, the last push's answer, and once nothing was pending. */
  start: number;
  pushEnd: number;
  drained: number;
  acceptedTargets: number;
  /** The first target path of each acknowledged push, in the order acknowledged. */
  pushedPaths: string[];
  failedPushes: number;
  /** Each push's acknowledgement, from when it fell due, ms. */
  ackMs: number[];
  /**
   * Of each acknowledgement, how late the bench began the push (from when it
   * fell due until its pusher ran: this process's own delay, its event loop
   * busy with the other pushes, the probes and Miniflare's work), ms.
   */
  ackLateMs: number[];
  /** Of each acknowledgement, the Worker's handling of the push (Server-Timing "total"), ms; empty without it. */
  ackWorkerMs: number[];
  /**
   * Of each acknowledgement, the Worker's wait for the repository's object
   * (the answer's Server-Timing "repository": its turn, the change stored and
   * committed), ms; empty for a code whose answers do not carry it.
   */
  ackObjectMs: number[];
  /** Of that, the time inside the object (Server-Timing "object", the object's own report), ms; empty without it. */
  ackInObjectMs: number[];
  /** Each acknowledged push, from its acknowledgement until a served timestamp.json contains its change, ms. */
  ackToPublishedMs: number[];
  /** Acknowledged tasks that were not published (no timestamp version) once drained. */
  unpublishedTasks: number;
  /** GET /{repo}/tasks/{id} requests made (once per acknowledged task, after draining). */
  taskPolls: number;
  /** GET timestamp.json requests the watcher made. */
  timestampReads: number;
  /** ack → published split into before its round, in it, and after it, over all changes and the slowest 1 % (needs rounds). */
  waitParts: ReturnType<typeof waitParts>;
  /** Each change with its round and when it was served (needs rounds), for the profile's windows. */
  changes: ChangeTimes[];
}

const randomHex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");

/**
 * When each timestamp version was first served: timestamp.json read one
 * request at a time, every POLL_MS, until stopped.
 */
function watchTimestamps(url: string) {
  const firstSeen = new Map<number, number>();
  let reads = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const text = await response.text();
        reads++;
        const at = performance.now();
        if (response.ok) {
          const version = (JSON.parse(text) as { signed: { version: number } }).signed.version;
          if (!firstSeen.has(version)) firstSeen.set(version, at);
        }
      } catch {
        // a failed read is retried at the next tick
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    firstSeen,
    reads: () => reads,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/**
 * When a change was first served: the first read of a timestamp at or after
 * `version` (the first version that carries it; later ones carry it too).
 */
function servedAt(firstSeen: ReadonlyMap<number, number>, version: number): number | null {
  let best: number | null = null;
  for (const [v, at] of firstSeen) if (v >= version && (best === null || at < best)) best = at;
  return best;
}

export async function runPushLoad(options: PushLoadOptions): Promise<PushLoad> {
  const { registry, label } = options;
  const ackMs: number[] = [];
  const ackLateMs: number[] = [];
  const ackWorkerMs: number[] = [];
  const ackObjectMs: number[] = [];
  const ackInObjectMs: number[] = [];
  /** Acknowledged pushes: their task and when the acknowledgement arrived. */
  const acknowledged: Array<{ id: string; ackAt: number; publishedAtAck: boolean }> = [];
  const pushedPaths: string[] = [];
  let accepted = 0;
  let failed = 0;
  let serial = 0;
  const watcher = watchTimestamps(options.timestampUrl);
  const start = performance.now();
  const stop = start + options.seconds * 1000;
  /** One signed respond-async push of 10 new targets by pusher `p`; `sentAt` is when it was due. */
  const pushOnce = async (p: number, sentAt: number) => {
    const late = performance.now() - sentAt;
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
      ackLateMs.push(late);
      if (response.timing.total !== undefined) ackWorkerMs.push(response.timing.total);
      if (response.timing.repository !== undefined) ackObjectMs.push(response.timing.repository);
      if (response.timing.object !== undefined) ackInObjectMs.push(response.timing.object);
      accepted += EVENTS_PER_PUSH;
      acknowledged.push({ id: response.task.id, ackAt, publishedAtAck: response.task.state === "published" });
      pushedPaths.push(events[0]?.path ?? "");
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
  while ((await options.admin.status()).pendingChanges && performance.now() - pushEnd < DRAIN_TIMEOUT_MS)
    await sleep(100);
  const drained = performance.now();
  // One more tick of the watcher, so the last timestamp is seen.
  await sleep(2 * POLL_MS);
  await watcher.stop();
  await options.onDrained?.();
  // Each task's first timestamp version, read once now that nothing is pending.
  const latency: number[] = [];
  const changes: ChangeTimes[] = [];
  let unpublished = 0;
  let polls = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: TASK_READS }, async () => {
      while (next < acknowledged.length) {
        const task = defined(acknowledged[next++]);
        if (task.publishedAtAck) {
          latency.push(0);
          continue;
        }
        polls++;
        const view = await registry.task(task.id).catch(() => null);
        const version = view?.versions?.timestamp;
        const served = version === undefined ? null : servedAt(watcher.firstSeen, version);
        if (served === null) unpublished++;
        // A change served before its acknowledgement arrived counts as 0.
        else latency.push(Math.max(0, served - task.ackAt));
        const round = version === undefined ? undefined : options.rounds?.get(version);
        if (served !== null && round) changes.push({ ackAt: task.ackAt, round, servedAt: served });
      }
    }),
  );
  return {
    start,
    pushEnd,
    drained,
    acceptedTargets: accepted,
    pushedPaths,
    failedPushes: failed,
    ackMs,
    ackLateMs,
    ackWorkerMs,
    ackObjectMs,
    ackInObjectMs,
    ackToPublishedMs: latency,
    unpublishedTasks: unpublished,
    taskPolls: polls,
    timestampReads: watcher.reads(),
    waitParts: waitParts(changes),
    changes,
  };
}
