/**
 * Resolution cost through delegations: the metadata a client downloads, and
 * the requests it makes, to find one target under a nested delegation with
 * hash bins inside (targets → org → team → team.bins-XX), against one under
 * the top-level bins of the same repository (targets → bins → bins-XX) and
 * one in a repository without delegations (targets → bins-XX): the
 * baselines, measured in the same run. Counted by walking the published
 * files as a TUF client does (scripts/lib/delegation-walk.ts: timestamp,
 * snapshot, then the spec's preorder search, every signature checked), from
 * a cold cache; root (1.root.json and the 404 for the next) is the same for
 * all and left out.
 */
import { httpMetadata, walkToTarget } from "../../lib/delegation-walk.ts";
import { parseRoot } from "../../../src/tuf/root.ts";
import { bootstrap, startBenchInstance } from "../instance.ts";
import { ratio } from "../stats.ts";
import type { BenchContext, Section, SectionResult, Table } from "../types.ts";

const REPO = "bench-delegations";
const PLAIN = "bench-no-delegations";
const BATCH = 1000;
const times = (a: number, b: number) => `${(ratio(a, b) ?? Number.NaN).toFixed(2)}×`;

export const delegations: Section = {
  name: "delegations",
  title: "Resolution cost: a target under a nested delegation with bins, against one under the top-level bins",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const fmt = (n: number) => n.toLocaleString("en-US");
    const targets = Math.min(options.targets, options.quick ? 2_000 : 40_000);
    const innerBins = options.quick ? 64 : 1024;
    const bench = await startBenchInstance(context, "delegations");
    try {
      const admin = bench.client(REPO);
      const { root } = await bootstrap(admin, { bins: options.bins });
      await admin.addDelegation({ name: "org", paths: ["org/*/*"] });
      await admin.addDelegation({ name: "team", parent: "org", paths: ["org/team/*"], bins: innerBins });
      // The same targets in a repository without delegations: targets → bins-XX directly.
      const plainAdmin = bench.client(PLAIN);
      const { root: plainRoot } = await bootstrap(plainAdmin, { bins: options.bins });
      log(
        `delegations: ${fmt(targets)} targets, half under org/team (${innerBins} bins), half in ${fmt(options.bins)} top-level bins; the same in a repository without delegations`,
      );
      const entry = (path: string, i: number) => ({
        path,
        length: 1000 + i,
        hashes: { sha256: (i.toString(16).padStart(8, "0") + "a".repeat(56)).slice(0, 64) },
      });
      for (let i = 0; i < targets; i += BATCH) {
        const add = [];
        for (let j = i; j < Math.min(i + BATCH, targets); j++) {
          add.push(entry(j % 2 === 0 ? `org/team/pkg-${j}.tgz` : `pkg/pkg-${j}.tgz`, j));
        }
        await admin.changeTargets({ add });
        await plainAdmin.changeTargets({ add });
      }
      const walk = async (repo: string, signedRoot: { signed: unknown }, path: string) => {
        const read = httpMetadata(`${bench.instance.baseUrl}/${repo}/metadata`);
        const result = await walkToTarget(read, await parseRoot(signedRoot.signed), path);
        if (!result.found) throw new Error(`${repo}: ${path} was not found`);
        return result;
      };
      const nested = await walk(REPO, root, "org/team/pkg-0.tgz");
      const top = await walk(REPO, root, "pkg/pkg-1.tgz");
      const plain = await walk(PLAIN, plainRoot, "pkg/pkg-1.tgz");
      const row = (what: string, w: typeof nested) => [
        what,
        w.files.length,
        w.bytes,
        w.files.map((f) => f.replace(/^\d+\./, "")).join(" → "),
      ];
      const table: Table = {
        title: `Finding one target from a cold cache: ${fmt(targets)} targets, ${fmt(options.bins)} top-level bins, ${innerBins} bins inside "team"`,
        columns: [
          { header: "target", align: "left" },
          { header: "requests" },
          { header: "bytes" },
          { header: "files, in order", align: "left" },
        ],
        rows: [
          row("org/team/pkg-0.tgz (nested delegation, bins inside)", nested),
          row("pkg/pkg-1.tgz (top-level bins, through the catch-all role)", top),
          row("pkg/pkg-1.tgz, a repository without delegations (baseline)", plain),
        ],
        notes: [
          `nested ÷ top-level bins: ${times(nested.files.length, top.files.length)} the requests, ${times(nested.bytes, top.bytes)} the bytes`,
          `nested ÷ no delegations: ${times(nested.files.length, plain.files.length)} the requests, ${times(nested.bytes, plain.bytes)} the bytes`,
          "Every walk also fetches root (the trusted root's successor: one 404), left out here.",
        ],
      };
      return {
        tables: [table],
        data: {
          targets,
          bins: options.bins,
          innerBins,
          nested: { requests: nested.files.length, bytes: nested.bytes, files: nested.files },
          top: { requests: top.files.length, bytes: top.bytes, files: top.files },
          plain: { requests: plain.files.length, bytes: plain.bytes, files: plain.files },
        },
      };
    } finally {
      await bench.stop();
    }
  },
};
