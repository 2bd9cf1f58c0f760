/**
 * (j) Sigstore trust through TUF: what one refresh of the Sigstore trusted
 * root costs tuf-edge's own TUF client (src/tuf/client, pure, in Node), on
 * the checked-in copy of Sigstore's public-good TUF repository
 * (test/fixtures/sigstore-tuf): the first refresh from the pinned root v5
 * (roots 6–12, timestamp, snapshot, targets, trusted_root.json), a refresh
 * that moves from that state to a year later (roots 13–15 and new metadata),
 * and the refresh the cron makes most often, when nothing changed (the
 * baseline, measured in the same run).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex } from "../../../src/lib/digest.ts";
import type { TrustedFiles } from "../../../src/tuf/client/trusted-metadata.ts";
import { downloadTarget, type FetchFile, findTarget, updateMetadata } from "../../../src/tuf/client/updater.ts";
import { ratio, summarize } from "../stats.ts";
import type { BenchContext, Section, SectionResult } from "../types.ts";

type Bytes = Uint8Array<ArrayBuffer>;

const STATES = {
  "2025-07-02": { roots: 12, snapshot: 159, targets: 11, at: new Date("2025-07-03T00:00:00Z") },
  "2026-08-21": { roots: 15, snapshot: 165, targets: 14, at: new Date("2026-08-22T00:00:00Z") },
} as const;
type State = keyof typeof STATES;

async function published(dir: string, state: State): Promise<FetchFile> {
  const read = async (path: string): Promise<Bytes> => new Uint8Array(await readFile(join(dir, path)));
  const files = new Map<string, Bytes>();
  for (let v = 5; v <= STATES[state].roots; v++) files.set(`${v}.root.json`, await read(`roots/${v}.root.json`));
  files.set("timestamp.json", await read(`${state}/timestamp.json`));
  files.set(`${STATES[state].snapshot}.snapshot.json`, await read(`${state}/snapshot.json`));
  files.set(`${STATES[state].targets}.targets.json`, await read(`${state}/targets.json`));
  const trustedRoot = await read(`${state}/targets/trusted_root.json`);
  files.set(`targets/${await sha256Hex(trustedRoot)}.trusted_root.json`, trustedRoot);
  return async (kind, name) => files.get(kind === "target" ? `targets/${name}` : name) ?? null;
}

async function refresh(trusted: TrustedFiles, fetchFile: FetchFile, at: Date): Promise<TrustedFiles> {
  let files = trusted;
  const { state } = await updateMetadata(trusted, at, fetchFile, (f) => {
    files = f;
  });
  const info = await findTarget(state, "trusted_root.json", fetchFile, () => {});
  if (!info) throw new Error("trusted_root.json is not listed");
  await downloadTarget(state, "trusted_root.json", info, fetchFile);
  return files;
}

export const sigstoreTrust: Section = {
  name: "sigstore-trust",
  title: "Sigstore trusted root through TUF (tuf-edge's TUF client, in Node)",
  async run(context: BenchContext): Promise<SectionResult> {
    const dir = join(context.project.root, "test/fixtures/sigstore-tuf");
    const iterations = context.options.quick ? 10 : 50;
    const pinned = { root: new Uint8Array(await readFile(join(dir, "roots/5.root.json"))) };
    const older = await published(dir, "2025-07-02");
    const newer = await published(dir, "2026-08-21");
    const at2025 = await refresh(pinned, older, STATES["2025-07-02"].at);
    const at2026 = await refresh(at2025, newer, STATES["2026-08-21"].at);
    const time = async (run: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const started = performance.now();
        await run();
        samples.push(performance.now() - started);
      }
      return summarize(samples);
    };
    context.log(`sigstore-trust: ${iterations} refreshes of each kind`);
    const unchanged = await time(() => refresh(at2026, newer, STATES["2026-08-21"].at));
    const first = await time(() => refresh(pinned, older, STATES["2025-07-02"].at));
    const yearLater = await time(() => refresh(at2025, newer, STATES["2026-08-21"].at));
    const row = (label: string, files: string, s: ReturnType<typeof summarize>) => [
      label,
      files,
      s.p50,
      s.p99,
      ratio(s.p50, unchanged.p50),
    ];
    return {
      tables: [
        {
          title: "One refresh of the Sigstore trusted root (ms; ratio to the unchanged refresh's p50)",
          columns: [
            { header: "refresh", align: "left" },
            { header: "files verified", align: "left" },
            { header: "p50 ms", digits: 2 },
            { header: "p99 ms", digits: 2 },
            { header: "× unchanged", digits: 1 },
          ],
          rows: [
            row("nothing changed (baseline)", "root (self-signed), timestamp, trusted_root.json", unchanged),
            row("first, from pinned root v5", "roots 6–12, timestamp, snapshot, targets, trusted_root.json", first),
            row(
              "a year later (2025-07 → 2026-08)",
              "roots 13–15, timestamp, snapshot, targets, trusted_root.json",
              yearLater,
            ),
          ],
          notes: [
            `${iterations} refreshes each, files served from memory (no network): the cost is ECDSA P-256 verification and hashing.`,
          ],
        },
      ],
      data: { iterations, unchanged, first, yearLater },
    };
  },
};
