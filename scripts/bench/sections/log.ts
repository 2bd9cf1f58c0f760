/**
 * (f) The transparency log: appends per second, proof generation, and what
 * a monitor downloads to follow a day of activity.
 *
 * 1. Pure core, in Node (no Worker, no I/O): the code in src/log/merkle.ts
 *    over 1,000,000 entries (quick: 100,000): leafHash + MerkleAccumulator
 *    .append per entry, every completed subtree kept in flat per-level
 *    buffers (a SubtreeHashes store), then inclusion and consistency proofs
 *    generated (and some verified) against the full tree.
 * 2. Served by tuf-edge: a repository loaded with targets (each add is a log
 *    entry, and every publish round logs the files it published); log size
 *    (signed checkpoint) before and after gives entries/s end to end; the
 *    proof endpoints' latency on that log beside two baselines measured in
 *    the same run (a static file through the edge cache, and a trivial
 *    Durable Object round trip).
 * 3. A monitor (scripts/lib/log-monitor.ts) runs once on the loaded log
 *    (first run: downloads every entry), then a simulated day of registry
 *    pushes, then once more: the bytes it downloaded for that day.
 */
import { encodeEntry } from "../../../src/log/entry.ts";
import {
  consistencyProof,
  type Hash,
  HASH_SIZE,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  rootHash,
  type StoredNode,
  type SubtreeHashes,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/log/merkle.ts";
import { toHex } from "../../../src/lib/bytes.ts";
import { AdminClient } from "../../lib/admin-client.ts";
import { LogClient } from "../../lib/log-client.ts";
import { monitorLog } from "../../lib/log-monitor.ts";
import { RegistryClient } from "../../lib/registry-client.ts";
import { startBenchInstance } from "../instance.ts";
import { addTargetsAndWait } from "../loaded-repository.ts";
import { bootstrap } from "../instance.ts";
import { makePoolFetch } from "../pool-fetch.ts";
import { ratio, summarize } from "../stats.ts";
import type { BenchContext, Cell, Section, SectionResult, Table } from "../types.ts";
import { defined } from "../../lib/defined.ts";

const REPO = "bench-log";
const BINS = 1024;

/** Every complete subtree of a tree of up to `capacity` leaves, in one buffer per level. */
class FlatTree implements SubtreeHashes {
  readonly #levels: Uint8Array<ArrayBuffer>[] = [];
  readonly #counts: number[] = [];

  constructor(capacity: number) {
    for (let width = capacity; width >= 1; width = Math.floor(width / 2)) {
      this.#levels.push(new Uint8Array(width * HASH_SIZE));
      this.#counts.push(0);
    }
  }

  put(node: StoredNode): void {
    defined(this.#levels[node.level]).set(node.hash, node.index * HASH_SIZE);
    this.#counts[node.level] = Math.max(defined(this.#counts[node.level]), node.index + 1);
  }

  subtree(level: number, index: number): Hash {
    if (index >= (this.#counts[level] ?? 0)) throw new Error(`no subtree (${level}, ${index})`);
    return defined(this.#levels[level]).subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  get bytes(): number {
    return this.#levels.reduce((s, l) => s + l.length, 0);
  }
}

const randomIndex = (n: number) => Math.floor(Math.random() * n);

async function pureCore(context: BenchContext, entries: number, proofs: number) {
  const { log } = context;
  // One realistic entry (a target.add, ~200 bytes), its path's digits rewritten per entry.
  const template = encodeEntry({
    type: "target.add",
    repository: REPO,
    path: "pkg-0000000/pkg-0000000-1.0.0.tgz",
    hashes: { sha256: "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3" },
  });
  const text = new TextDecoder().decode(template);
  const offsets = [text.indexOf("pkg-0000000") + 4, text.lastIndexOf("pkg-0000000") + 4];
  const entry = Uint8Array.from(template);
  const tree = new FlatTree(entries);
  const acc = new MerkleAccumulator();
  log(`log: pure core, ${entries.toLocaleString("en-US")} appends in Node`);
  const start = performance.now();
  let lastLog = Date.now();
  for (let i = 0; i < entries; i++) {
    const digits = String(i).padStart(7, "0");
    for (const at of offsets) for (let d = 0; d < 7; d++) entry[at + d] = digits.charCodeAt(d);
    for (const node of await acc.append(await leafHash(entry))) tree.put(node);
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(
        `  ${(i + 1).toLocaleString("en-US")} appended (${((i + 1) / ((performance.now() - start) / 1000)).toFixed(0)}/s)`,
      );
    }
  }
  const appendMs = performance.now() - start;
  const root = await acc.root();
  const fromTree = await rootHash(tree, entries);
  if (toHex(root) !== toHex(fromTree)) throw new Error("the accumulator's root and the stored tree's root differ");

  log(`log: ${proofs} inclusion and ${proofs} consistency proofs at ${entries.toLocaleString("en-US")} entries`);
  const inclusionUs: number[] = [];
  const consistencyUs: number[] = [];
  const verifyUs: number[] = [];
  let verified = 0;
  for (let k = 0; k < proofs; k++) {
    const index = randomIndex(entries);
    let t0 = performance.now();
    const proof = await inclusionProof(tree, index, entries);
    inclusionUs.push((performance.now() - t0) * 1000);
    if (k < 100) {
      t0 = performance.now();
      const ok = await verifyInclusion(tree.subtree(0, index), index, entries, proof, root);
      verifyUs.push((performance.now() - t0) * 1000);
      if (!ok) throw new Error(`inclusion proof of ${index} does not verify`);
      verified++;
    }
    const size1 = 1 + randomIndex(entries - 1);
    t0 = performance.now();
    const cproof = await consistencyProof(tree, size1, entries);
    consistencyUs.push((performance.now() - t0) * 1000);
    if (k < 100) {
      if (!(await verifyConsistency(size1, entries, cproof, await rootHash(tree, size1), root)))
        throw new Error(`consistency proof ${size1}→${entries} does not verify`);
      verified++;
    }
  }
  return {
    entries,
    entryBytes: template.length,
    appendMs,
    appendsPerS: entries / (appendMs / 1000),
    treeBytes: tree.bytes,
    inclusionUs: summarize(inclusionUs),
    consistencyUs: summarize(consistencyUs),
    verifyInclusionUs: summarize(verifyUs),
    verified,
    proofLength: Math.ceil(Math.log2(entries)),
  };
}

export const log: Section = {
  name: "log",
  title: "Transparency log: appends, proofs, monitor bytes",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options } = context;
    const say = context.log;
    const notes: string[] = [];
    const fmt = (n: number) => n.toLocaleString("en-US");
    const coreEntries = options.quick ? 100_000 : 1_000_000;
    const coreProofs = options.quick ? 500 : 2_000;
    const initialTargets = options.quick ? 10_000 : 100_000;
    const day = options.quick ? { pushes: 25, targets: 20 } : { pushes: 200, targets: 50 };
    const servedRequests = options.quick ? 50 : 200;

    // 1. Pure core first, before any instance competes for the cores.
    const core = await pureCore(context, coreEntries, coreProofs);
    say(
      `  ${fmt(Math.round(core.appendsPerS))} appends/s; inclusion p50 ${core.inclusionUs.p50.toFixed(0)} µs, consistency p50 ${core.consistencyUs.p50.toFixed(0)} µs`,
    );

    // 2. The service.
    const pool = makePoolFetch(8);
    const bench = await startBenchInstance(context, "log");
    try {
      const base = bench.instance.baseUrl;
      const admin = new AdminClient({ baseUrl: base, repo: REPO, token: bench.token, fetch: pool.fetch });
      say(`log: bootstrapping "${REPO}" (${BINS} bins) and adding ${fmt(initialTargets)} targets`);
      await bootstrap(admin, { bins: BINS });
      const keyResponse = await pool.fetch(`${base}/${REPO}/admin/log`, {
        headers: { Authorization: `Bearer ${bench.token}` },
      });
      const { verifierKey } = (await keyResponse.json()) as { verifierKey: string };
      const logClient = new LogClient({ baseUrl: base, repo: REPO, fetch: pool.fetch });
      const size = async () => (await logClient.checkpoint(verifierKey)).size;

      // A round's metadata.publish entries are appended when it commits, after the checkpoint its timestamp
      // commits to: they are published by the next round. One 1-target change after each phase flushes them.
      let flushes = 0;
      const flush = () =>
        admin.changeTargets({
          add: [{ path: `flush-${flushes}/flush-${flushes++}.tgz`, length: 1, hashes: { sha256: "00".repeat(32) } }],
        });
      await flush();
      const sizeBoot = await size();
      const load = await addTargetsAndWait(admin, { targets: initialTargets, log: say });
      await flush();
      const sizeLoaded = await size();

      // The monitor's first run: the whole log.
      say(`log: monitor, first run over ${fmt(sizeLoaded)} entries`);
      const first = await monitorLog(null, { baseUrl: base, repo: REPO, verifierKey, fetch: pool.fetch });
      if (!first.report.ok) notes.push(`monitor first run: ${first.report.findings.map((f) => f.type).join(", ")}`);
      const firstStateBytes = Buffer.byteLength(JSON.stringify(first.state));

      // A day: registry pushes, each waiting for its publish (spread over a day, each would get its own round).
      say(
        `log: a day of activity: ${day.pushes} registry pushes of ${day.targets} targets, each published before the next`,
      );
      const { secret } = await admin.addRegistryCredential("registry", { kind: "hmac" });
      const registry = new RegistryClient({
        baseUrl: base,
        repo: REPO,
        credential: { kind: "hmac", secret: defined(secret) },
        fetch: pool.fetch,
      });
      const dayStart = performance.now();
      for (let p = 0; p < day.pushes; p++) {
        await registry.push(
          Array.from({ length: day.targets }, (_, k) => ({
            type: "targets.add" as const,
            path: `day-${p}/pkg-${k}/pkg-${k}-1.0.${p}.tgz`,
            length: 1000 + k,
            hashes: { sha256: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex") },
          })),
        );
      }
      const dayMs = performance.now() - dayStart;
      await flush();
      const sizeDay = await size();
      const dayEntries = sizeDay - sizeLoaded;

      say("log: monitor, run after the day");
      const second = await monitorLog(first.state, { baseUrl: base, repo: REPO, verifierKey, fetch: pool.fetch });
      if (!second.report.ok) notes.push(`monitor day run: ${second.report.findings.map((f) => f.type).join(", ")}`);
      if (second.report.entries.length !== dayEntries)
        notes.push(
          `the monitor reported ${second.report.entries.length} new entries, the checkpoints differ by ${dayEntries}.`,
        );
      const secondStateBytes = Buffer.byteLength(JSON.stringify(second.state));
      const byType = new Map<string, number>();
      for (const e of second.report.entries)
        byType.set(e.entry?.type ?? "invalid", (byType.get(e.entry?.type ?? "invalid") ?? 0) + 1);

      // Served proofs, and baselines.
      say(
        `log: ${servedRequests} requests each to the proof endpoints and the baselines (log of ${fmt(sizeDay)} entries)`,
      );
      const timed = async (url: string) => {
        const t0 = performance.now();
        const response = await pool.fetch(url);
        await response.arrayBuffer();
        return { ms: performance.now() - t0, status: response.status };
      };
      const series: Record<string, { ms: number[]; bad: number }> = {};
      const urls: Record<string, () => string> = {
        "GET log/proof/inclusion?index=I&size=N": () =>
          `${base}/${REPO}/log/proof/inclusion?index=${randomIndex(sizeDay)}&size=${sizeDay}`,
        "GET log/proof/consistency?from=M&to=N": () =>
          `${base}/${REPO}/log/proof/consistency?from=${1 + randomIndex(sizeDay - 1)}&to=${sizeDay}`,
        "baseline: GET log/checkpoint (edge cache, no object)": () => `${base}/${REPO}/log/checkpoint`,
        "baseline: GET tasks/<unknown id> (object round trip, 404)": () => `${base}/${REPO}/tasks/${"0".repeat(32)}`,
      };
      for (const name of Object.keys(urls)) series[name] = { ms: [], bad: 0 };
      for (let r = 0; r < servedRequests; r++) {
        for (const [name, url] of Object.entries(urls)) {
          const { ms, status } = await timed(url());
          defined(series[name]).ms.push(ms);
          const expected = name.includes("404") ? 404 : 200;
          if (status !== expected) defined(series[name]).bad++;
        }
      }
      // Check a few served proofs against the signed checkpoint.
      const checkpoint = await logClient.checkpoint(verifierKey);
      for (let k = 0; k < 5; k++) {
        const p = await logClient.inclusionProof({ index: randomIndex(checkpoint.size) }, checkpoint.size);
        if (!(await verifyInclusion(await leafHash(p.entry), p.index, checkpoint.size, p.proof, checkpoint.rootHash))) {
          notes.push(`served inclusion proof of entry ${p.index} does not verify against the checkpoint`);
        }
      }
      for (const [name, s] of Object.entries(series)) if (s.bad) notes.push(`${name}: ${s.bad} unexpected statuses.`);
      if (pool.retries() > 0)
        notes.push(
          `${pool.retries()} request(s) were sent again after the server closed a kept-alive connection as it was reused.`,
        );

      const objectRoundTrip = summarize(
        defined(series["baseline: GET tasks/<unknown id> (object round trip, 404)"]).ms,
      );
      const coreTable: Table = {
        title: `Transparency log, pure core in Node (src/log/merkle.ts, no I/O): ${fmt(core.entries)} entries`,
        columns: [
          { header: "operation", align: "left" },
          { header: "count" },
          { header: "total s", digits: 2 },
          { header: "per second", digits: 0 },
          { header: "p50 µs", digits: 1 },
          { header: "p99 µs", digits: 1 },
        ],
        rows: [
          [
            "append: leafHash + MerkleAccumulator.append + store nodes",
            core.entries,
            core.appendMs / 1000,
            core.appendsPerS,
            null,
            null,
          ],
          [
            `inclusion proof at size ${fmt(core.entries)}`,
            core.inclusionUs.count,
            core.inclusionUs.total / 1e6,
            1e6 / core.inclusionUs.mean,
            core.inclusionUs.p50,
            core.inclusionUs.p99,
          ],
          [
            `consistency proof M → ${fmt(core.entries)}`,
            core.consistencyUs.count,
            core.consistencyUs.total / 1e6,
            1e6 / core.consistencyUs.mean,
            core.consistencyUs.p50,
            core.consistencyUs.p99,
          ],
          [
            "verify an inclusion proof",
            core.verifyInclusionUs.count,
            core.verifyInclusionUs.total / 1e6,
            1e6 / core.verifyInclusionUs.mean,
            core.verifyInclusionUs.p50,
            core.verifyInclusionUs.p99,
          ],
        ],
        notes: [
          `Entries: canonical target.add entries of ${core.entryBytes} bytes; SHA-256 via WebCrypto (crypto.subtle, one await per hash), as the Worker does. Every complete subtree is kept in one flat buffer per level (${(core.treeBytes / 1024 ** 2).toFixed(0)} MiB): the SubtreeHashes the proofs read; the accumulator's root equals the root recomputed from the stored tree.`,
          `Proofs for random indices / random old sizes at ${fmt(core.entries)} entries (≤ ${core.proofLength} hashes each); ${core.verified} of them verified with verifyInclusion / verifyConsistency.`,
        ],
      };
      const servedRows: Cell[][] = [
        [
          "appends, end to end: admin batches",
          `${load.batches} × POST /admin/targets (10,000, respond-async)`,
          sizeLoaded - sizeBoot,
          load.loadMs / 1000,
          (sizeLoaded - sizeBoot) / (load.loadMs / 1000),
          null,
          null,
          null,
        ],
        [
          "appends, end to end: registry pushes",
          `${day.pushes} pushes × ${day.targets} targets, each published`,
          dayEntries,
          dayMs / 1000,
          dayEntries / (dayMs / 1000),
          null,
          null,
          null,
        ],
        ...Object.entries(series).map(([name, s]): Cell[] => {
          const x = summarize(s.ms);
          return [
            name,
            `log of ${fmt(sizeDay)} entries`,
            x.count,
            x.total / 1000,
            null,
            x.p50,
            x.p99,
            ratio(x.p50, objectRoundTrip.p50),
          ];
        }),
      ];
      const servedTable: Table = {
        title: `Transparency log served by tuf-edge (wrangler dev): ${BINS} bins, ${fmt(load.targetsCount + day.pushes * day.targets + flushes - 1)} targets`,
        columns: [
          { header: "what", align: "left" },
          { header: "workload", align: "left" },
          { header: "entries / requests" },
          { header: "seconds", digits: 1 },
          { header: "entries/s", digits: 0 },
          { header: "p50 ms", digits: 2 },
          { header: "p99 ms", digits: 2 },
          { header: "p50 ÷ object round trip", digits: 2 },
        ],
        rows: servedRows,
        notes: [
          "Appends end to end: log size (signed checkpoint) after minus before, over the time from the first request until everything was published (the entries include the metadata.publish entries of every file each round published). A round's metadata.publish entries are appended after the checkpoint its own timestamp commits to, so they appear in the next round's checkpoint: a 1-target admin change after each phase (and before the first monitor run) publishes them.",
          `Requests sequential, one connection, through wrangler's proxy; proof endpoints are answered by the Worker from the published checkpoint, tiles and entry bundles through the edge cache (src/log/tile-proofs.ts; no Durable Object). Baselines in the same run: the checkpoint (Worker and edge cache only) and an unknown task id (a Durable Object round trip doing one SQL look-up, 404). 5 served inclusion proofs verified against the signed checkpoint.`,
        ],
      };
      const kinds = (stats: typeof first.report.stats) =>
        Object.entries(stats.byKind)
          .filter(([, v]) => v.requests > 0)
          .map(([k, v]) => `${k} ${v.requests} req / ${(v.bytes / 1024).toFixed(1)} KiB`)
          .join(", ");
      const dayTargets = day.pushes * day.targets;
      const monitorTable: Table = {
        title: "Transparency log: what a monitor downloads (scripts/lib/log-monitor.ts, tile checks on)",
        columns: [
          { header: "run", align: "left" },
          { header: "new entries" },
          { header: "requests" },
          { header: "bytes" },
          { header: "bytes/entry", digits: 1 },
          { header: "bytes/target pushed", digits: 1 },
          { header: "seconds", digits: 2 },
          { header: "state bytes" },
        ],
        rows: [
          [
            `first run (whole log, trust on first use)`,
            first.report.entries.length,
            first.report.stats.requests,
            first.report.stats.bytes,
            first.report.stats.bytes / Math.max(1, first.report.entries.length),
            null,
            first.report.durationMs / 1000,
            firstStateBytes,
          ],
          [
            `a day: ${day.pushes} pushes × ${day.targets} targets`,
            second.report.entries.length,
            second.report.stats.requests,
            second.report.stats.bytes,
            second.report.stats.bytes / Math.max(1, second.report.entries.length),
            second.report.stats.bytes / dayTargets,
            second.report.durationMs / 1000,
            secondStateBytes,
          ],
        ],
        notes: [
          `The day: ${day.pushes} signed registry pushes of ${day.targets} new targets each (${fmt(dayTargets)} targets), each waiting for its publish, as pushes spread over a day each get their own publish round, then one 1-target flush change; it logged ${fmt(dayEntries)} entries (${[...byType].map(([t, n]) => `${fmt(n)} ${t}`).join(", ")}).`,
          `First run: ${kinds(first.report.stats)}. Day run: ${kinds(second.report.stats)}; checks: consistency proof ${second.report.checks.consistencyProof}, recomputed root ${second.report.checks.recomputedRoot}, tiles ${second.report.checks.tiles}.`,
          "bytes: response bodies only (no HTTP headers). state bytes: the monitor's JSON state after the run (it keeps every path's digests).",
        ],
      };
      return {
        tables: [coreTable, servedTable, monitorTable],
        notes,
        data: {
          core,
          service: {
            bins: BINS,
            sizes: { afterBootstrap: sizeBoot, afterLoad: sizeLoaded, afterDay: sizeDay },
            load: {
              ...load,
              entries: sizeLoaded - sizeBoot,
              entriesPerS: (sizeLoaded - sizeBoot) / (load.loadMs / 1000),
            },
            day: {
              ...day,
              ms: dayMs,
              entries: dayEntries,
              entriesPerS: dayEntries / (dayMs / 1000),
              byType: Object.fromEntries(byType),
            },
            served: Object.fromEntries(Object.entries(series).map(([k, s]) => [k, { ...summarize(s.ms), bad: s.bad }])),
          },
          monitor: {
            first: {
              entries: first.report.entries.length,
              stats: first.report.stats,
              durationMs: first.report.durationMs,
              ok: first.report.ok,
              stateBytes: firstStateBytes,
            },
            day: {
              entries: second.report.entries.length,
              stats: second.report.stats,
              durationMs: second.report.durationMs,
              ok: second.report.ok,
              checks: second.report.checks,
              stateBytes: secondStateBytes,
              bytesPerEntry: second.report.stats.bytes / Math.max(1, second.report.entries.length),
              bytesPerTarget: second.report.stats.bytes / dayTargets,
            },
          },
        },
      };
    } finally {
      pool.close();
      await bench.stop();
    }
  },
};
