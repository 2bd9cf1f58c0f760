/**
 * (i) The write surface's property suite (issue 10): runs
 * test/worker/surface-property.test.ts in workerd (the vitest pool, as CI
 * does) with a fixed seed, and reports what it sent and where its time went:
 * the requests themselves (accepted ones wait for their publish round), the
 * state-digest checks (before and after every request: the published
 * timestamp's digest and the R2 listing of stored targets), and the walk of
 * the published bins against the model after each batch. The baseline is the
 * requests' own time in the same run: the digest's share says what the
 * invariant costs on top of exercising the surface.
 *
 * Full: the CI size (50 runs, ≥ 10,000 requests). Quick: 10 runs.
 */
import { spawnSync } from "node:child_process";
import { ratio } from "../stats.ts";
import type { BenchContext, Section, SectionResult } from "../types.ts";

/** A seed that reaches every status the test asks for (printed with the figures, so a run can be replayed). */
const SEED = 888503416;

interface SurfaceRun {
  seed: number;
  runs: number;
  seconds: number;
  published: number;
  sent: number;
  skipped: number;
  accepted: number;
  byStatus: Record<string, number>;
  /** Wall time summed over the streams, which run side by side (one workerd thread serves them all). */
  ms: { accepted: number; refused: number; digest: number; model: number };
}

const MARK = "surface property (json): ";

export const surface: Section = {
  name: "surface",
  title: "Property suite over the write surface: time to verify the state-digest invariant",
  async run(context: BenchContext): Promise<SectionResult> {
    const runs = context.options.quick ? 10 : 50;
    context.log(`surface: ${runs} property runs, seed ${SEED} (vitest, workers project)`);
    const child = spawnSync(
      process.execPath,
      ["node_modules/vitest/vitest.mjs", "run", "--project", "workers", "test/worker/surface-property.test.ts"],
      {
        cwd: context.project.root,
        env: { ...process.env, FC_SEED: String(SEED), SURFACE_RUNS: String(runs), CI: "1" },
        encoding: "utf8",
        maxBuffer: 1024 * 1024 * 1024,
      },
    );
    const line = child.stdout.split("\n").find((l) => l.includes(MARK));
    if (child.status !== 0 || !line) {
      throw new Error(
        `the property suite failed (exit ${child.status}):\n${child.stdout.slice(-4000)}${child.stderr.slice(-2000)}`,
      );
    }
    const run = JSON.parse(line.slice(line.indexOf(MARK) + MARK.length)) as SurfaceRun;
    const requestsMs = run.ms.accepted + run.ms.refused;
    const checks = run.sent + run.runs * 4; // one digest after every request, and one before each stream's batch
    return {
      tables: [
        {
          title: `Property suite: ${run.sent} requests (${run.accepted} accepted), seed ${run.seed}, ${run.runs} runs × 4 repositories`,
          columns: [
            { header: "part", align: "left" },
            { header: "ms (summed over streams)" },
            { header: "ms each", digits: 3 },
            { header: "× the requests' time", digits: 2 },
          ],
          rows: [
            [
              "requests accepted (each waits for its publish)",
              run.ms.accepted,
              run.ms.accepted / Math.max(1, run.accepted),
              ratio(run.ms.accepted, requestsMs),
            ],
            [
              "requests refused",
              run.ms.refused,
              run.ms.refused / Math.max(1, run.sent - run.accepted),
              ratio(run.ms.refused, requestsMs),
            ],
            ["state-digest checks", run.ms.digest, run.ms.digest / checks, ratio(run.ms.digest, requestsMs)],
            [
              "published bins walked against the model",
              run.ms.model,
              run.ms.model / (run.runs * 4),
              ratio(run.ms.model, requestsMs),
            ],
          ],
          notes: [
            `wall time of the suite ${run.seconds.toFixed(1)} s; statuses ${JSON.stringify(run.byStatus)}; ${run.skipped} generated requests HTTP cannot carry`,
            `replay: FC_SEED=${run.seed} SURFACE_RUNS=${run.runs} npx vitest run --project workers test/worker/surface-property.test.ts`,
          ],
        },
      ],
      data: { ...run },
    };
  },
};
