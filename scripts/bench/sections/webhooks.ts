/**
 * (c) Registry webhooks: how many target events a repository accepts per
 * second from 1, 10 and 100 concurrent registry pushers, how long an
 * accepted change takes to be published, and how many timestamp versions
 * the pushes produce (group commit), against a repository that already holds
 * many targets in many bins (the size sets the cost of every round: the
 * snapshot lists every bin).
 *
 * Each push is one signed (HMAC, Standard Webhooks) POST …/webhooks/registry
 * with one targets.add event and `Prefer: respond-async`: it answers 202 once
 * the change is stored, and the publish runs on. Each pusher sends its next
 * push as soon as the previous one is answered (closed loop).
 *
 * Publish latency is measured from the acknowledgement until the change is
 * published, by polling GET …/tasks/{id} (state "published"): a watcher polls
 * a few outstanding tasks at a time (oldest, quartiles, newest) every 20 ms.
 * A task found published also settles every outstanding task acknowledged
 * before it was sent (the repository orders changes: such a task has a
 * smaller change sequence, and "published" means every change up to the
 * published sequence is). So every push gets a latency, at the resolution of
 * the watcher's period, without polling every task.
 */
import { RegistryClient } from "../../lib/registry-client.ts";
import { startBenchInstance } from "../instance.ts";
import { loadRepository } from "../loaded-repository.ts";
import { InstanceMonitor } from "../monitor.ts";
import { getJson, makePoolFetch, sleep } from "../pool-fetch.ts";
import { ratio, summarize } from "../stats.ts";
import type { BenchContext, Cell, Section, SectionResult, Table } from "../types.ts";
import { defined } from "../../lib/defined.ts";

const REPO = "bench-webhooks";
const LEVELS = [1, 10, 100];
const WATCH_PERIOD_MS = 20;
const DRAIN_TIMEOUT_MS = 10 * 60_000;

interface Pending {
  id: string;
  sentAt: number;
  ackAt: number;
  publishedAt?: number;
}

interface LevelResult {
  pushers: number;
  seconds: number;
  accepted: number;
  failed: number;
  errors: string[];
  ackMs: number[];
  publishMs: number[];
  /** From sending the push until it was seen published (ack + publish). */
  sendToPublishMs: number[];
  unresolved: number;
  timestampVersions: number;
  watcherPolls: number;
  watcherPeriodMs: number;
  drainMs: number;
  workerdCores: number;
  otherCores: number;
  clientCores: number;
  restarts: number;
}

const randomHex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");

export const webhooks: Section = {
  name: "webhooks",
  title: "Registry webhooks: events/s accepted, publish latency, group commit",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const notes: string[] = [];
    const pushSeconds = options.quick ? 3 : 15;
    const fmt = (n: number) => n.toLocaleString("en-US");
    const pool = makePoolFetch(256);
    const bench = await startBenchInstance(context, "webhooks");
    const monitor = new InstanceMonitor(bench.instance.port, 200);
    try {
      const admin = bench.client(REPO);
      const base = bench.instance.baseUrl;
      log(`webhooks: loading "${REPO}" with ${fmt(options.targets)} targets in ${fmt(options.bins)} bins`);
      const loaded = await loadRepository(admin, { bins: options.bins, targets: options.targets, log });

      const { secret } = await admin.addRegistryCredential("bench-registry", { kind: "hmac" });
      const registry = new RegistryClient({
        baseUrl: base,
        repo: REPO,
        credential: { kind: "hmac", secret: defined(secret) },
        fetch: pool.fetch,
      });
      const timestampVersion = async () =>
        (await getJson<{ signed: { version: number } }>(pool.fetch, `${base}/${REPO}/metadata/timestamp.json`)).signed
          .version;
      const waitIdle = async () => {
        const deadline = Date.now() + DRAIN_TIMEOUT_MS;
        while ((await admin.status()).pendingChanges) {
          if (Date.now() > deadline) throw new Error("changes still pending after the drain timeout");
          await sleep(100);
        }
      };
      let serial = 0;
      const event = (tag: string) => {
        const i = serial++;
        return {
          type: "targets.add" as const,
          path: `wh-${tag}-${i}/wh-${i}-1.0.0.tgz`,
          length: 1000 + i,
          hashes: { sha256: randomHex() },
        };
      };

      // Warm-up: a few pushes that wait for their publish (code paths compiled, connections open).
      log("webhooks: warm-up (5 pushes that wait for their publish)");
      for (let i = 0; i < 5; i++) await registry.push([event("warm")]);
      await waitIdle();

      const levels: LevelResult[] = [];
      for (const pushers of LEVELS) {
        log(`webhooks: ${pushers} pusher(s) for ${pushSeconds} s`);
        await waitIdle();
        const versionBefore = await timestampVersion();
        const outstanding: Pending[] = [];
        const all: Pending[] = [];
        const ackMs: number[] = [];
        const errors = new Map<string, number>();
        let failed = 0;
        let pushing = true;
        let drainBegan = Infinity;

        // The watcher: settles outstanding tasks (see the file comment).
        let watcherPolls = 0;
        let iterations = 0;
        const watcherStart = performance.now();
        const watcher = (async () => {
          while (pushing || outstanding.length > 0) {
            const iterStart = performance.now();
            if (outstanding.length > 0) {
              const bySent = [...outstanding].sort((a, b) => a.sentAt - b.sentAt);
              const n = bySent.length;
              const probes = [
                ...new Set([0, Math.floor(n / 4), Math.floor(n / 2), Math.floor((3 * n) / 4), n - 1]),
              ].map((i) => defined(bySent[i]));
              watcherPolls += probes.length;
              const answers = await Promise.all(
                probes.map(async (p) => {
                  try {
                    const task = await registry.task(p.id);
                    return { p, published: task.state === "published", at: performance.now() };
                  } catch {
                    return { p, published: false, at: performance.now() };
                  }
                }),
              );
              for (const { p, published, at } of answers) {
                if (!published) continue;
                p.publishedAt = Math.min(p.publishedAt ?? Infinity, at);
                for (const a of outstanding)
                  if (a.ackAt < p.sentAt) a.publishedAt = Math.min(a.publishedAt ?? Infinity, at);
              }
              for (let i = outstanding.length - 1; i >= 0; i--)
                if (defined(outstanding[i]).publishedAt !== undefined) outstanding.splice(i, 1);
              iterations++;
            }
            const wait = WATCH_PERIOD_MS - (performance.now() - iterStart);
            if (wait > 0) await sleep(wait);
            if (performance.now() - drainBegan > DRAIN_TIMEOUT_MS) break;
          }
        })();

        const mark = monitor.mark();
        const cpu0 = process.cpuUsage();
        const start = performance.now();
        const deadline = start + pushSeconds * 1000;
        await Promise.all(
          Array.from({ length: pushers }, async (_, p) => {
            while (performance.now() < deadline) {
              const sentAt = performance.now();
              try {
                const response = await registry.push([event(`c${pushers}-p${p}`)], { async: true });
                const ackAt = performance.now();
                ackMs.push(ackAt - sentAt);
                const pending: Pending = { id: response.task.id, sentAt, ackAt };
                if (response.task.state === "published") pending.publishedAt = ackAt;
                else outstanding.push(pending);
                all.push(pending);
              } catch (error) {
                failed++;
                const message = (error as Error).message.slice(0, 160);
                errors.set(message, (errors.get(message) ?? 0) + 1);
                await sleep(10);
              }
            }
          }),
        );
        const seconds = (performance.now() - start) / 1000;
        const usage = monitor.since(mark);
        const cpu = process.cpuUsage(cpu0);
        pushing = false;
        const drainStart = performance.now();
        drainBegan = drainStart;
        await watcher;
        await waitIdle();
        const drainMs = performance.now() - drainStart;
        const versionAfter = await timestampVersion();
        const seen = all.filter((p) => p.publishedAt !== undefined);
        const publishMs = seen.map((p) => defined(p.publishedAt) - p.ackAt);
        const sendToPublishMs = seen.map((p) => defined(p.publishedAt) - p.sentAt);
        const level: LevelResult = {
          pushers,
          seconds,
          accepted: all.length,
          failed,
          errors: [...errors].map(([m, n]) => `${n} × ${m}`),
          ackMs,
          publishMs,
          sendToPublishMs,
          unresolved: all.length - publishMs.length,
          timestampVersions: versionAfter - versionBefore,
          watcherPolls,
          watcherPeriodMs: iterations ? (performance.now() - watcherStart) / iterations : 0,
          drainMs,
          workerdCores: usage.workerdCores,
          otherCores: usage.otherCores,
          clientCores: (cpu.user + cpu.system) / 1e6 / seconds,
          restarts: usage.restarts.length,
        };
        levels.push(level);
        const a = summarize(ackMs);
        const pub = summarize(publishMs);
        log(
          `  → ${level.accepted} accepted (${(level.accepted / seconds).toFixed(0)}/s), ${failed} failed; ack p50 ${a.p50.toFixed(1)} ms p99 ${a.p99.toFixed(1)} ms; publish p50 ${pub.p50.toFixed(0)} ms p99 ${pub.p99.toFixed(0)} ms; ${level.timestampVersions} timestamp versions; drained in ${(drainMs / 1000).toFixed(1)} s`,
        );
        for (const e of level.errors.slice(0, 3)) log(`    error: ${e}`);
        if (level.unresolved > 0)
          notes.push(
            `${pushers} pushers: ${level.unresolved} accepted pushes were not seen published within the drain timeout.`,
          );
        if (level.restarts > 0) notes.push(`${pushers} pushers: the Worker's workerd restarted during the run.`);
        for (const e of level.errors.slice(0, 5)) notes.push(`${pushers} pushers: failed pushes: ${e}`);
      }

      const baseRate = levels[0] ? levels[0].accepted / levels[0].seconds : Number.NaN;
      const rows: Cell[][] = levels.map((l) => {
        const a = summarize(l.ackMs);
        const p = summarize(l.publishMs);
        const e = summarize(l.sendToPublishMs);
        const rate = l.accepted / l.seconds;
        return [
          l.pushers,
          l.accepted,
          rate,
          ratio(rate, baseRate),
          a.p50,
          a.p99,
          p.p50,
          p.p99,
          e.p50,
          e.p99,
          l.timestampVersions,
          l.timestampVersions > 0 ? l.accepted / l.timestampVersions : null,
          l.workerdCores,
          l.otherCores,
          l.failed,
        ];
      });
      const period = levels.map((l) => l.watcherPeriodMs.toFixed(0)).join(" / ");
      const polls = levels.map((l) => (l.watcherPolls / (l.seconds + l.drainMs / 1000)).toFixed(0)).join(" / ");
      const table: Table = {
        title: `Webhooks: ${fmt(options.bins)} bins, ${fmt(loaded.targetsCount)} targets; 1-event pushes with Prefer: respond-async, ${pushSeconds} s per level`,
        columns: [
          { header: "pushers" },
          { header: "accepted" },
          { header: "events/s", digits: 0 },
          { header: "× 1 pusher", digits: 2 },
          { header: "ack p50 ms", digits: 1 },
          { header: "ack p99 ms", digits: 1 },
          { header: "publish p50 ms", digits: 0 },
          { header: "publish p99 ms", digits: 0 },
          { header: "send→published p50 ms", digits: 0 },
          { header: "send→published p99 ms", digits: 0 },
          { header: "timestamp versions" },
          { header: "pushes/version", digits: 1 },
          { header: "CPU workerd", digits: 2 },
          { header: "CPU others", digits: 2 },
          { header: "failed" },
        ],
        rows,
        notes: [
          "Each pusher is a closed loop: a signed POST /{repo}/webhooks/registry with one targets.add event and Prefer: respond-async, the next one as soon as it is answered (202: stored, publish pending). events/s: accepted events per second of pushing; × 1 pusher: that rate ÷ the 1-pusher rate (same run).",
          "ack: the push's round trip (through wrangler's proxy). publish: from the acknowledgement until the change is published (send→published: from sending the push), found by polling GET /{repo}/tasks/{id} for state \"published\" (not by timestamp.json). A watcher polls up to 5 outstanding tasks (oldest, quartiles, newest) every 20 ms; a task found published also settles every task acknowledged before it was sent (it has a smaller change sequence).",
          `Watcher resolution (mean period per level): ${period} ms; its task polls add ${polls} requests/s to the repository's object.`,
          "timestamp versions: timestamp.json's version after the level (drained: status shows nothing pending) minus before; pushes/version > 1 is group commit (one publish round carries every change stored while the previous round ran).",
          `Setup: bootstrap ${(loaded.bootstrapMs / 1000).toFixed(1)} s; ${loaded.batches} POST /admin/targets batch(es) of 10,000 with respond-async stored in ${(loaded.submitMs / 1000).toFixed(1)} s, all published ${(loaded.loadMs / 1000).toFixed(1)} s after the first was sent.`,
          `CPU: cores used while pushing by the two workerd processes and by every other process on the ${context.machineCores}-core machine; this benchmark process (signing and sending the pushes, the watcher) used ${levels.map((l) => l.clientCores.toFixed(2)).join(" / ")} cores.`,
        ],
      };
      if (pool.retries() > 0)
        notes.push(
          `${pool.retries()} request(s) were sent again after the server closed a kept-alive connection as it was reused.`,
        );
      return {
        tables: [table],
        notes,
        data: {
          bins: options.bins,
          targets: loaded.targetsCount,
          pushSeconds,
          setup: {
            bootstrapMs: loaded.bootstrapMs,
            submitMs: loaded.submitMs,
            loadMs: loaded.loadMs,
            batches: loaded.batches,
          },
          levels: levels.map((l) => ({
            pushers: l.pushers,
            seconds: l.seconds,
            accepted: l.accepted,
            eventsPerS: l.accepted / l.seconds,
            failed: l.failed,
            errors: l.errors,
            ackMs: summarize(l.ackMs),
            publishMs: summarize(l.publishMs),
            sendToPublishMs: summarize(l.sendToPublishMs),
            unresolved: l.unresolved,
            timestampVersions: l.timestampVersions,
            pushesPerVersion: l.timestampVersions > 0 ? l.accepted / l.timestampVersions : null,
            watcherPolls: l.watcherPolls,
            watcherPeriodMs: l.watcherPeriodMs,
            drainMs: l.drainMs,
            cpuCores: { workerd: l.workerdCores, others: l.otherCores, client: l.clientCores },
          })),
        },
      };
    } finally {
      monitor.stop();
      pool.close();
      await bench.stop();
    }
  },
};
