/**
 * `tuf-edge log`: the repository's transparency log, checked from outside.
 *   log verify --target PATH      prove a target's latest log entry is in the signed checkpoint
 *   log monitor --state FILE      follow the log: signature, consistency, new entries, digest changes, split views
 * The log's verifier key comes from --verifier-key / --verifier-key-file, or
 * from the repository's TUF metadata verified from a pinned root (--root).
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { LogHttpError, logVerifier, LogVerificationError } from "../lib/log-client.ts";
import { trustedLogVerifierKey, verifyInclusionForTarget } from "../lib/log-target.ts";
import { loadMonitorState, monitorLogFile } from "../lib/log-monitor.ts";
import type { MonitorFinding, MonitorReport } from "../lib/log-monitor-report.ts";
import { guardedFetch, requireRepo, requireUrl } from "./config.ts";
import { EXIT, failed, isNetworkError, UnreachableError, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { intOption, settingsOf } from "./options.ts";
import { color, out, outJson } from "./output.ts";

interface KeyFlags {
  verifierKey?: string;
  verifierKeyFile?: string;
  root?: string;
  origin?: string;
}

const KEY_HELP = `The log's verifier key (<origin>+<key id>+<base64>) is the custom.tuf_edge_log.verifier_key
of the target tuf-edge/log-verifier-key.txt in the top-level targets metadata. Give it with
--verifier-key or --verifier-key-file, or give --root to read it through TUF from a pinned root.`;

async function verifierKeyOf(flags: KeyFlags, base: string): Promise<string | undefined> {
  const given = [flags.verifierKey, flags.verifierKeyFile, flags.root].filter((v) => v !== undefined).length;
  if (given > 1) throw usageError("give one of --verifier-key, --verifier-key-file and --root");
  let key: string | undefined = flags.verifierKey?.trim();
  if (flags.verifierKeyFile) {
    try {
      key = (await readFile(flags.verifierKeyFile, "utf8")).trim();
    } catch (error) {
      throw usageError(`cannot read --verifier-key-file: ${(error as Error).message}`);
    }
  }
  if (key !== undefined) {
    try {
      await logVerifier(key);
    } catch (error) {
      throw usageError((error as Error).message, "a log verifier key looks like <origin>+<8 hex digits>+<base64>");
    }
    return key;
  }
  if (flags.root) {
    let rootBytes: Uint8Array;
    try {
      rootBytes = await readFile(flags.root);
    } catch (error) {
      throw usageError(`cannot read the trusted root ${flags.root}: ${(error as Error).message}`);
    }
    try {
      return (await trustedLogVerifierKey({ metadataBaseUrl: `${base}/metadata`, rootBytes })).verifierKey;
    } catch (error) {
      if (isNetworkError(error) || isNetworkError((error as Error)?.cause)) throw new UnreachableError(base, error);
      throw failed(`cannot get the log's verifier key through TUF: ${(error as Error).message}`);
    }
  }
  return undefined;
}

/** A log verification failure as exit code 1 with its reason; anything else is left to the CLI's handler. */
function explainLogError(error: unknown): unknown {
  if (error instanceof LogVerificationError) return failed(`log verification failed (${error.code}): ${error.message}`);
  if (error instanceof LogHttpError) return failed(error.message);
  return error;
}

const short = (hex: string) => `${hex.slice(0, 16)}…`;

function describeEntry(entry: NonNullable<MonitorReport["entries"][number]["entry"]>): string {
  switch (entry.type) {
    case "metadata.publish":
      return `${entry.role} v${entry.version} (${entry.length} bytes, sha256 ${short(entry.sha256)})`;
    case "root.change":
      return `root v${entry.version} (sha256 ${short(entry.sha256)})`;
    case "attestation.add":
      return `${entry.path}  ${entry.predicate_type} (bundle sha256 ${short(entry.bundle_sha256)})`;
    default:
      return `${entry.path}  ${Object.entries(entry.hashes)
        .map(([a, h]) => `${a} ${short(h)}`)
        .join(", ")}`;
  }
}

function describeFinding(f: MonitorFinding): string {
  return `${f.type}${"reason" in f ? ` (${f.reason})` : ""}: ${f.detail}`;
}

function render(report: MonitorReport, stateFile: string, maxEntries: number): string[] {
  const lines: string[] = [];
  const where = `${report.repo} (${report.origin})`;
  if (!report.checkpoint) lines.push(`${where}: no verified checkpoint`);
  else if (!report.previous)
    lines.push(
      `${where}: first run, checkpoint of ${report.checkpoint.size} entries, root ${short(report.checkpoint.rootHash)}`,
    );
  else if (report.previous.size === report.checkpoint.size && report.entries.length === 0)
    lines.push(`${where}: no new entries (${report.checkpoint.size}, root ${short(report.checkpoint.rootHash)})`);
  else
    lines.push(
      `${where}: ${report.previous.size} → ${report.checkpoint.size} entries, root ${short(report.checkpoint.rootHash)}`,
    );
  const checks = Object.entries(report.checks)
    .filter(([, v]) => v !== "not_needed")
    .map(([k, v]) => `${k} ${v === "verified" ? color.green(v) : v === "failed" ? color.red(v) : v}`);
  if (checks.length) lines.push(`  checks: ${checks.join(", ")}`);
  if (report.entries.length) {
    lines.push(`  ${report.entries.length} new entr${report.entries.length === 1 ? "y" : "ies"}:`);
    for (const { index, entry } of report.entries.slice(0, maxEntries)) {
      lines.push(
        `    ${String(index).padStart(7)}  ${(entry?.type ?? "(invalid)").padEnd(16)}  ${entry ? describeEntry(entry) : ""}`,
      );
    }
    if (report.entries.length > maxEntries)
      lines.push(`    … and ${report.entries.length - maxEntries} more (--max-entries, or --json for all)`);
  }
  if (report.findings.length === 0) lines.push(`  findings: ${color.green("none")}`);
  for (const f of report.findings)
    lines.push(`  ${f.severity === "alert" ? color.red("ALERT") : color.yellow("notice")} ${describeFinding(f)}`);
  const kinds = Object.entries(report.stats.byKind)
    .filter(([, v]) => v.requests > 0)
    .map(([k, v]) => `${k} ${v.bytes}`)
    .join(", ");
  lines.push(
    color.dim(
      `  downloaded ${report.stats.bytes} bytes in ${report.stats.requests} requests (${kinds}); state ${report.advanced ? "advanced" : "kept"} in ${stateFile}`,
    ),
  );
  return lines;
}

export function registerLog(program: Command): void {
  const log = program
    .command("log")
    .description("check the repository's transparency log from outside: inclusion of a target, and a monitor");
  log.addHelpText(
    "after",
    `\n${KEY_HELP}\n${examples(["tuf-edge log verify --root demo.1.root.json --target pkg/app-1.0.tgz", "tuf-edge log monitor --state demo-log.json --root demo.1.root.json --watch 300"])}`,
  );

  const keyOptions = (command: Command) =>
    command
      .option("--verifier-key <vkey>", "the log's verifier key")
      .option("--verifier-key-file <file>", "read the log's verifier key from a file")
      .option("--root <file>", "a pinned trusted root: read the verifier key through TUF")
      .option("--origin <origin>", "the expected checkpoint origin (default: the verifier key's name)");

  keyOptions(
    log
      .command("verify")
      .description(
        "prove that the log the repository signed records a target: checkpoint signature, inclusion proof, entry",
      )
      .requiredOption("--target <path>", "the target path"),
  )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `${examples(["tuf-edge log verify --verifier-key-file log.vkey --target pkg/app-1.0.tgz"])}
Exits 1 when the checkpoint, the proof or the entry does not verify, or the log has no entry about the path.
`,
    )
    .action(async (flags: KeyFlags & { target: string; json?: boolean }, command: Command) => {
      const settings = settingsOf(command);
      const baseUrl = requireUrl(settings);
      const repo = requireRepo(settings);
      const verifierKey = await verifierKeyOf(flags, `${baseUrl}/${repo}`);
      if (!verifierKey) throw usageError("no log verifier key", "pass --verifier-key, --verifier-key-file or --root");
      let result: Awaited<ReturnType<typeof verifyInclusionForTarget>>;
      try {
        result = await verifyInclusionForTarget({
          baseUrl,
          repo,
          verifierKey,
          path: flags.target,
          fetch: guardedFetch(baseUrl),
          ...(flags.origin ? { origin: flags.origin } : {}),
        });
      } catch (error) {
        throw explainLogError(error);
      }
      if (flags.json) return outJson({ verified: true, ...result });
      out(`verified: "${flags.target}" is entry ${result.index} of the log ${result.checkpoint.origin}`);
      out(`  ${result.entry.type}  ${describeEntry(result.entry)}`);
      out(
        `  included in the signed checkpoint of ${result.checkpoint.size} entries, root ${result.checkpoint.rootHash}`,
      );
    });

  keyOptions(
    log
      .command("monitor")
      .description(
        "follow the log: verify each checkpoint, its consistency with the last one (proof and recomputed root), report new entries, flag digest changes and split views",
      )
      .requiredOption(
        "--state <file>",
        "the monitor's state (JSON; created on the first run, which then needs the verifier key)",
      ),
  )
    .option("--watch <seconds>", "run again every SECONDS until interrupted")
    .option("--no-tiles", "do not check the hash tiles (saves ~32 bytes per entry)")
    .option("--max-entries <n>", "list at most N new entries in the text output (default 50)")
    .option("--json", "print the report as JSON (with --watch: one JSON document per line)")
    .addHelpText(
      "after",
      `${examples([
        "tuf-edge log monitor --state demo-log.json --verifier-key-file log.vkey",
        "tuf-edge log monitor --state demo-log.json --watch 600 --json >> demo-log.jsonl",
      ])}
Exits 1 when a run finds an alert: invalid_checkpoint, split_view, entries_mismatch,
tile_mismatch, digest_changed or invalid_entry. Split-view evidence (both signed
checkpoints) is kept in the state file.
`,
    )
    .action(
      async (
        flags: KeyFlags & { state: string; watch?: string; tiles: boolean; maxEntries?: string; json?: boolean },
        command: Command,
      ) => {
        const settings = settingsOf(command);
        const baseUrl = requireUrl(settings);
        const repo = requireRepo(settings);
        const watch = intOption("--watch", flags.watch, 1, 86_400);
        const maxEntries = intOption("--max-entries", flags.maxEntries, 0, 1_000_000) ?? 50;
        let existing: Awaited<ReturnType<typeof loadMonitorState>>;
        try {
          existing = await loadMonitorState(flags.state);
        } catch (error) {
          throw usageError(`cannot use --state ${flags.state}: ${(error as Error).message}`);
        }
        const verifierKey = await verifierKeyOf(flags, `${baseUrl}/${repo}`);
        if (!existing && !verifierKey)
          throw usageError(
            "the first run needs the log's verifier key",
            "pass --verifier-key, --verifier-key-file or --root",
          );
        for (;;) {
          let report: MonitorReport;
          try {
            ({ report } = await monitorLogFile(flags.state, {
              baseUrl,
              repo,
              fetch: guardedFetch(baseUrl),
              checkTiles: flags.tiles,
              ...(verifierKey ? { verifierKey } : {}),
              ...(flags.origin ? { origin: flags.origin } : {}),
            }));
          } catch (error) {
            throw explainLogError(error);
          }
          if (flags.json)
            process.stdout.write(watch ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`);
          else {
            if (watch) out(color.dim(new Date().toISOString()));
            for (const line of render(report, flags.state, maxEntries)) out(line);
          }
          if (!report.ok) process.exitCode = EXIT.failure;
          if (!watch) return;
          await new Promise((r) => setTimeout(r, watch * 1000));
        }
      },
    );
}
