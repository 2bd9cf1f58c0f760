/**
 * (d) Attestations: what verifying a real PEP 740 attestation adds to a
 * registry push, and how many bundle verifications per second the verifier
 * does inside workerd.
 *
 * Against a pypi-flavoured repository, the same push is sent with and
 * without an attestation, interleaved, many times:
 *   plain     targets.add  plain-<i>/pypi_attestations-0.0.19.tar.gz
 *   attested  targets.add  run-<i>/pypi_attestations-0.0.19.tar.gz
 *             + attestations.add of the real PyPI publish attestation
 * Every path is new (a path is immutable once published) and every target
 * carries the real artifact digest: the attestation's in-toto subject (the
 * file name and SHA-256 read from the fixture's statement) must match it.
 * Each pair is measured twice: a push that waits for its publish (200), and
 * the acknowledgement of a push with `Prefer: respond-async` (202; the
 * attestation is verified and stored before the acknowledgement).
 *
 * A batch push with K targets and K attestations beside the same batch
 * without them gives the repository's own cost per verification (including
 * storing the bundle in R2), hence verifications per second in the Durable
 * Object. Then the workerd verifier loop (test/unit/attestations/
 * throughput.test.ts, run with vitest's workers pool) gives the verifier
 * alone, per bundle kind; and the corpus of real bundles, verified by ours
 * and by @sigstore/verify under Node, gives the agreement count.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { RegistryClient } from "../../lib/registry-client.ts";
import { compareOnCorpus } from "../../lib/sigstore-reference.ts";
import { bootstrap, startBenchInstance } from "../instance.ts";
import { InstanceMonitor } from "../monitor.ts";
import { getJson, makePoolFetch, sleep } from "../pool-fetch.ts";
import { ratio, summarize } from "../stats.ts";
import type { BenchContext, Cell, Section, SectionResult, Table } from "../types.ts";
import { defined } from "../../lib/defined.ts";

const REPO = "bench-attest";
const BINS = 256;
const FIXTURE = "test/unit/attestations/fixtures/pypi/pypi_attestations-0.0.19.tar.gz.publish.attestation.json";
/** The sdist's length (not checked by the attestation; as in test/worker/attestations.test.ts). */
const ARTIFACT_LENGTH = 29_882;
const BATCH = 50;
const VITEST_TIMEOUT_MS = 300_000;

interface VerifierFigure {
  label: string;
  perS: number;
  msEach: number | null;
}

/** Runs the workerd verifier throughput test in the frozen project copy and parses its printed figures. */
async function workerdVerifierLoop(
  root: string,
): Promise<{ figures: VerifierFigure[]; seconds: number; error?: string; output: string }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      join(root, "node_modules/vitest/vitest.mjs"),
      "run",
      "--project",
      "workers",
      "test/unit/attestations/throughput.test.ts",
    ],
    {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill("SIGTERM"), VITEST_TIMEOUT_MS);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  // biome-ignore lint: ANSI escapes
  const clean = output.replace(/\x1b\[[0-9;]*m/g, "");
  const figures: VerifierFigure[] = [];
  for (const line of clean.split("\n")) {
    const m = /^(.+?): (\d+) verifications\/s(?: \(\d+ in [\d.]+ s, ([\d.]+) ms each\))?/.exec(line.trim());
    if (m) figures.push({ label: defined(m[1]), perS: Number(m[2]), msEach: m[3] ? Number(m[3]) : null });
  }
  const error = code === 0 ? undefined : `vitest exited with ${code}`;
  return { figures, seconds, output: clean.slice(-3000), ...(error ? { error } : {}) };
}

export const attestations: Section = {
  name: "attestations",
  title: "Attestations: added push latency, verifications per second per bundle kind, agreement with @sigstore/verify",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const notes: string[] = [];
    const runs = options.quick ? 20 : 100;
    const batchRuns = options.quick ? 3 : 10;

    // The fixture, and the artifact it is about (read from its own statement).
    const text = await readFile(join(context.project.root, FIXTURE), "utf8");
    const attestation = JSON.parse(text) as { envelope: { statement: string } };
    const bundle = JSON.stringify(attestation);
    const statement = JSON.parse(Buffer.from(attestation.envelope.statement, "base64").toString("utf8")) as {
      subject: Array<{ name: string; digest: { sha256: string } }>;
      predicateType: string;
    };
    const subject = defined(statement.subject[0]);
    const fileName = subject.name;
    const sha256 = subject.digest.sha256;

    const pool = makePoolFetch(8);
    const bench = await startBenchInstance(context, "attestations");
    const monitor = new InstanceMonitor(bench.instance.port, 200);
    try {
      const admin = bench.client(REPO);
      const base = bench.instance.baseUrl;
      log(`attestations: bootstrapping "${REPO}" (${BINS} bins, pypi flavour)`);
      await bootstrap(admin, { bins: BINS });
      await admin.setAttestationPolicy({ flavour: "pypi" });
      const { secret } = await admin.addRegistryCredential("pypi", { kind: "hmac" });
      const registry = new RegistryClient({
        baseUrl: base,
        repo: REPO,
        credential: { kind: "hmac", secret: defined(secret) },
        fetch: pool.fetch,
      });

      const target = (path: string) => ({
        type: "targets.add" as const,
        path,
        length: ARTIFACT_LENGTH,
        hashes: { sha256 },
      });
      const plainEvents = (dir: string) => [target(`${dir}/${fileName}`)];
      const attestedEvents = (dir: string) => [
        target(`${dir}/${fileName}`),
        { type: "attestations.add" as const, path: `${dir}/${fileName}`, bundle },
      ];
      const waitPublished = async (id: string) => {
        const deadline = Date.now() + 120_000;
        while ((await registry.task(id)).state !== "published") {
          if (Date.now() > deadline) throw new Error(`task ${id} not published within 120 s`);
          await sleep(5);
        }
      };
      const time = async (f: () => Promise<unknown>) => {
        const t0 = performance.now();
        await f();
        return performance.now() - t0;
      };

      log("attestations: warm-up");
      for (let i = 0; i < 3; i++) {
        await registry.push(plainEvents(`warm-plain-${i}`));
        await registry.push(attestedEvents(`warm-run-${i}`));
      }

      log(`attestations: ${runs} pairs of pushes, with and without an attestation (sync, then respond-async)`);
      const syncPlain: number[] = [];
      const syncAttested: number[] = [];
      const ackPlain: number[] = [];
      const ackAttested: number[] = [];
      const mark = monitor.mark();
      const seqStart = performance.now();
      for (let i = 0; i < runs; i++) {
        // Alternate which goes first, so that drift hits both alike.
        const order = i % 2 === 0 ? (["plain", "attested"] as const) : (["attested", "plain"] as const);
        for (const kind of order) {
          const events = kind === "plain" ? plainEvents(`plain-${i}`) : attestedEvents(`run-${i}`);
          (kind === "plain" ? syncPlain : syncAttested).push(await time(() => registry.push(events)));
        }
        for (const kind of order) {
          const events = kind === "plain" ? plainEvents(`plain-async-${i}`) : attestedEvents(`run-async-${i}`);
          let id = "";
          (kind === "plain" ? ackPlain : ackAttested).push(
            await time(async () => (id = (await registry.push(events, { async: true })).task.id)),
          );
          await waitPublished(id);
        }
        if ((i + 1) % 25 === 0) log(`  ${i + 1}/${runs} pairs`);
      }
      const seqSeconds = (performance.now() - seqStart) / 1000;
      const usage = monitor.since(mark);

      // Batches: K targets with K attestations vs the same K targets alone (respond-async acknowledgement).
      log(`attestations: ${batchRuns} batch pushes of ${BATCH} targets with and without ${BATCH} attestations`);
      const batchPlain: number[] = [];
      const batchAttested: number[] = [];
      for (let r = 0; r < batchRuns; r++) {
        for (const kind of r % 2 === 0 ? (["plain", "attested"] as const) : (["attested", "plain"] as const)) {
          const events = Array.from({ length: BATCH }, (_, k) =>
            kind === "plain" ? plainEvents(`batch-plain-${r}-${k}`) : attestedEvents(`batch-run-${r}-${k}`),
          ).flat();
          let id = "";
          (kind === "plain" ? batchPlain : batchAttested).push(
            await time(async () => (id = (await registry.push(events, { async: true })).task.id)),
          );
          await waitPublished(id);
        }
      }

      // Sanity: the attestations were accepted and bound.
      const listed = await getJson<{ attestations: unknown[] }>(
        pool.fetch,
        `${base}/${REPO}/attestations/run-0/${fileName}`,
      );
      if (listed.attestations.length !== 1)
        notes.push(`run-0/${fileName} lists ${listed.attestations.length} attestations, expected 1.`);
      const status = await admin.status();
      const expectedTargets = 6 + 4 * runs + 2 * BATCH * batchRuns;
      if (status.targetsCount !== expectedTargets)
        notes.push(`status counts ${status.targetsCount} targets, expected ${expectedTargets}.`);

      log("attestations: workerd verifier loop (vitest, workers pool)");
      const loop = await workerdVerifierLoop(context.project.root);
      if (loop.error) notes.push(`workerd verifier loop: ${loop.error}; last output: ${loop.output.slice(-500)}`);
      const pep740 = loop.figures.find((f) => f.label.startsWith("PEP 740"));

      log("attestations: the corpus of real bundles, ours against @sigstore/verify (Node)");
      const corpusStarted = performance.now();
      const corpus = await compareOnCorpus();
      const corpusSeconds = (performance.now() - corpusStarted) / 1000;
      const agreed = corpus.filter((r) => r.agree).length;
      const disagreements = corpus.filter((r) => !r.agree);

      const s = {
        syncPlain: summarize(syncPlain),
        syncAttested: summarize(syncAttested),
        ackPlain: summarize(ackPlain),
        ackAttested: summarize(ackAttested),
        batchPlain: summarize(batchPlain),
        batchAttested: summarize(batchAttested),
      };
      const perS = (x: { mean: number }) => 1000 / x.mean;
      const row = (
        label: string,
        what: string,
        x: ReturnType<typeof summarize>,
        baseline: ReturnType<typeof summarize> | null,
      ): Cell[] => [
        label,
        what,
        x.count,
        x.p50,
        x.p99,
        x.mean,
        perS(x),
        baseline ? x.p50 - baseline.p50 : null,
        baseline ? x.p99 - baseline.p99 : null,
        baseline ? ratio(x.p50, baseline.p50) : null,
      ];
      const pushes: Table = {
        title: `Attestations: pushes to a pypi-flavoured repository (${BINS} bins) with and without a real PEP 740 attestation`,
        columns: [
          { header: "push", align: "left" },
          { header: "measured until", align: "left" },
          { header: "runs" },
          { header: "p50 ms", digits: 1 },
          { header: "p99 ms", digits: 1 },
          { header: "mean ms", digits: 1 },
          { header: "pushes/s (one at a time)", digits: 1 },
          { header: "added p50 ms", digits: 1 },
          { header: "added p99 ms", digits: 1 },
          { header: "p50 ratio", digits: 2 },
        ],
        rows: [
          row("targets.add", "published (200)", s.syncPlain, null),
          row("targets.add + attestations.add", "published (200)", s.syncAttested, s.syncPlain),
          row("targets.add", "acknowledged (202, respond-async)", s.ackPlain, null),
          row("targets.add + attestations.add", "acknowledged (202, respond-async)", s.ackAttested, s.ackPlain),
          row(`${BATCH} × targets.add`, "acknowledged (202, respond-async)", s.batchPlain, null),
          row(
            `${BATCH} × (targets.add + attestations.add)`,
            "acknowledged (202, respond-async)",
            s.batchAttested,
            s.batchPlain,
          ),
        ],
        notes: [
          `Attestation: ${FIXTURE} (${bundle.length.toLocaleString("en-US")} bytes, predicate ${statement.predicateType}); every target is <dir>/${fileName} with the subject's SHA-256 ${sha256.slice(0, 16)}…, a new <dir> per push (plain-<i>, run-<i>, …).`,
          'Pairs are interleaved (alternating which goes first). "published": a push that waits for its publish round; "acknowledged": the 202 of a push with Prefer: respond-async (the attestation is verified and its bytes stored in R2 before it), then the publish is awaited (not timed) before the next push.',
          "pushes/s (one at a time) = 1000 ÷ mean ms: a single registry pushing sequentially. added = p50 (p99) with the attestation minus without; ratio = p50 with ÷ p50 without (same run).",
          `In the Durable Object: the ${BATCH}-attestation batch took ${(s.batchAttested.p50 - s.batchPlain.p50).toFixed(0)} ms more (p50) than the same ${BATCH} targets alone, i.e. ${((s.batchAttested.p50 - s.batchPlain.p50) / BATCH).toFixed(2)} ms per attestation accepted (verify + store in R2 + record) ≈ ${(BATCH / ((s.batchAttested.p50 - s.batchPlain.p50) / 1000)).toFixed(0)} attestations/s.`,
          `CPU during the pairs (${seqSeconds.toFixed(0)} s): workerd ${usage.workerdCores.toFixed(2)} cores, others ${usage.otherCores.toFixed(2)} cores on the ${context.machineCores}-core machine.`,
        ],
      };
      const verifier: Table = {
        title:
          "Attestations: the verifier alone in workerd (test/unit/attestations/throughput.test.ts, one bundle at a time, trusted root parsed once)",
        columns: [
          { header: "bundle", align: "left" },
          { header: "verifications/s", digits: 0 },
          { header: "ms each", digits: 2 },
        ],
        rows: loop.figures.map((f) => [f.label, f.perS, f.msEach ?? (f.perS > 0 ? 1000 / f.perS : null)]),
        notes: [
          `Run with: node node_modules/vitest/vitest.mjs run --project workers test/unit/attestations/throughput.test.ts (in the frozen project copy; ${loop.seconds.toFixed(0)} s including vitest's start), its console output parsed; 1.5 s per bundle. One real bundle per kind: bundle version, DSSE or message signature, Rekor v1 (signed entry timestamp) or v2 (checkpoint only), with or without an RFC 3161 timestamp.`,
          `Agreement with @sigstore/verify on the corpus of real bundles (test/unit/attestations/fixtures/corpus, Node, ${corpusSeconds.toFixed(0)} s): ${agreed}/${corpus.length} cases${disagreements.length ? `; disagreeing: ${disagreements.map((r) => `${r.id} (ours ${r.ours.slice(0, 80)}; reference ${r.reference})`).join("; ")}` : ""}.`,
          pep740
            ? `PEP 740 publish attestation: ${pep740.perS} verifications/s alone vs ≈ ${(BATCH / ((s.batchAttested.p50 - s.batchPlain.p50) / 1000)).toFixed(0)} attestations/s accepted in the Durable Object (verify + R2 put + SQL + log entry) and ${perS(s.syncAttested).toFixed(1)} attested pushes/s end to end (one at a time, each published).`
            : "The PEP 740 figure was not found in vitest's output.",
        ],
      };
      if (pool.retries() > 0)
        notes.push(
          `${pool.retries()} request(s) were sent again after the server closed a kept-alive connection as it was reused.`,
        );
      return {
        tables: [pushes, verifier],
        notes,
        data: {
          bins: BINS,
          runs,
          batch: BATCH,
          batchRuns,
          fixture: FIXTURE,
          bundleBytes: bundle.length,
          subject: { name: fileName, sha256 },
          latencyMs: s,
          perAttestationMsInObject: (s.batchAttested.p50 - s.batchPlain.p50) / BATCH,
          cpuCores: { workerd: usage.workerdCores, others: usage.otherCores },
          workerdVerifier: { figures: loop.figures, seconds: loop.seconds, error: loop.error ?? null },
          corpus: { cases: corpus.length, agree: agreed, disagreements },
        },
      };
    } finally {
      monitor.stop();
      pool.close();
      await bench.stop();
    }
  },
};
