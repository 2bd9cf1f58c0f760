/**
 * `tuf-edge import FILE`: many targets (metadata only) into the repository.
 * Batches of up to 10,000 targets (the most one request takes) are sent with
 * "Prefer: respond-async" (answered once stored) and `"publish": "deferred"`,
 * a few at a time: each is stored durably, but none starts a publish round of
 * its own, so each bin is re-signed once per import rather than once per batch
 * (durable-objects/import-hold.ts). Once every batch is acknowledged, the
 * import asks the service to publish (POST /admin/publish) and waits until it
 * has. An import that stops early (interrupted, a refused line, a crash) is
 * published by the service itself 30 s after its last batch.
 *
 * Resumable: FILE.import-state.json records how many lines of FILE the
 * service has acknowledged (the contiguous prefix; batches can finish out of
 * order) and the SHA-256 of those lines. A rerun resumes after them, also
 * when lines after them were changed (an invalid line fixed, lines
 * appended), as long as the acknowledged lines are unchanged; a batch that
 * was in flight is sent again, which is harmless: re-adding a path with the
 * same digest is accepted, while a different digest is refused (targets are
 * immutable). Rerunning a completed import of an unchanged file does nothing.
 */
import { rename, readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { AdminApiError, type AdminClient } from "../lib/admin-client.ts";
import { adminClient, requireRepo, requireUrl } from "./config.ts";
import { CliError, EXIT, describeError, failed, isNetworkError, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { type Batch, fingerprint, formatOf, prefixSha256, readBatches } from "./import-source.ts";
import { durationOption, intOption, settingsOf } from "./options.ts";
import { info, out, outJson } from "./output.ts";
// The most a request may carry: the admin API's own limit.
import { MAX_BATCH } from "../../src/schemas/admin.ts";

/**
 * The largest batch sent when --batch-size is not given. The repository's
 * object stores a batch in one transaction, and anything else that reaches
 * it (a push, a task poll, a status read) waits for the batch under way.
 * Importing 1,000,000 targets here took 57.2 and 58.2 s in batches of 2,500
 * against 53.7 and 53.8 s in batches of 10,000, and the status reads made
 * meanwhile waited 170 and 191 ms at the p99 against 354 and 356 ms
 * (docs/measured.md, "Import batches of 2,500").
 */
export const DEFAULT_MAX_BATCH = 2_500;

/** The batch size when --batch-size is not given: about 20 batches, so progress shows as it happens, of 1,000 to DEFAULT_MAX_BATCH targets. */
function defaultBatchSize(lines: number): number {
  return Math.min(DEFAULT_MAX_BATCH, Math.max(1000, Math.ceil(lines / 20)));
}
/**
 * Requests in flight by default: one being stored while the next travels.
 * The repository's object stores one batch at a time, so more only queue
 * there, and every other request to the object (a push, a task poll, the
 * status) waits behind the batches queued ahead of it. Importing 1,000,000
 * targets here took 67.2 s with 2 in flight against 75.2 s with 4, and the
 * status read's longest wait meanwhile was 501 against 1,526 ms
 * (docs/measured.md, "Reads while importing").
 */
export const DEFAULT_CONCURRENCY = 2;
const STATE_FORMAT = "tuf-edge-import/1";

interface ImportState {
  format: typeof STATE_FORMAT;
  url: string;
  repository: string;
  input: { path: string; size: number; sha256: string; lines: number };
  /** Lines 1..acknowledgedLines are stored by the service. */
  acknowledgedLines: number;
  /** SHA-256 of lines 1..acknowledgedLines (import-source.ts `prefixSha256`). */
  acknowledgedSha256: string;
  acknowledgedTargets: number;
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
  versions?: { targets: number; snapshot: number; timestamp: number };
}

interface ImportFlags {
  format?: string;
  batchSize?: string;
  concurrency?: string;
  state?: string;
  restart?: boolean;
  publishTimeout?: string;
  json?: boolean;
}

async function readState(path: string): Promise<ImportState | null> {
  try {
    const state = JSON.parse(await readFile(path, "utf8")) as ImportState;
    if (state.format !== STATE_FORMAT) throw usageError(`${path} is not an import state file`);
    return state;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    if (error instanceof CliError) throw error;
    throw usageError(
      `cannot read the import state ${path}: ${(error as Error).message}`,
      "delete it (or pass --restart) to start over",
    );
  }
}

async function writeState(path: string, state: ImportState): Promise<void> {
  state.updatedAt = new Date().toISOString();
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** Progress on stderr: a bar on a terminal, a line every few seconds otherwise. */
async function progress(total: number, start: number, quiet: boolean) {
  const began = Date.now();
  if (quiet) return { update: (_v: number, _t: number) => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const { default: cliProgress } = await import("cli-progress");
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          "importing |{bar}| {percentage}% | {value}/{total} lines | {targets} targets | {speed}/s | ETA {eta_formatted}",
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, start, { targets: 0, speed: 0 });
    return {
      update: (value: number, targets: number) =>
        bar.update(value, { targets, speed: Math.round(targets / Math.max(0.001, (Date.now() - began) / 1000)) }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update: (value: number, targets: number) => {
      if (Date.now() - last < 2000 && value < total) return;
      last = Date.now();
      const rate = Math.round(targets / Math.max(0.001, (Date.now() - began) / 1000));
      info(
        `imported ${value}/${total} lines (${total ? Math.floor((100 * value) / total) : 100}%), ${targets} targets, ${rate} targets/s`,
      );
    },
    stop: () => undefined,
  };
}

const ATTEMPTS = 6;

/** Sends one batch, retrying network failures and 5xx answers (re-adding is idempotent). */
async function sendBatch(client: AdminClient, batch: Batch, quiet: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.changeTargets({ add: batch.entries, publish: "deferred" }, { wait: false });
      return;
    } catch (error) {
      const retriable =
        isNetworkError(error) ||
        (error instanceof CliError && error.exitCode === EXIT.unreachable) ||
        (error instanceof AdminApiError && error.status >= 500);
      if (!retriable || attempt >= ATTEMPTS) throw error;
      const delay = Math.min(8000, 500 * 2 ** attempt);
      if (!quiet)
        info(
          `lines ${batch.lines[0]}-${batch.endLine}: ${describeError(error).message}; retrying in ${delay / 1000} s (attempt ${attempt + 1} of ${ATTEMPTS})`,
        );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** A refusal named by the service as `events.N (…)`, turned into the input's line number. */
function explainRefusal(error: unknown, batch: Batch, file: string, resumeLine: number): CliError {
  const reported = describeError(error);
  if (error instanceof AdminApiError) {
    const match = /events\.(\d+)/.exec(error.problem.detail ?? "");
    const index = match ? Number(match[1]) : -1;
    const line = batch.lines[index];
    const entry = batch.entries[index];
    if (error.problem.code === "immutable_target" && entry) {
      return new CliError(
        EXIT.refused,
        `${file}, line ${line}: target "${entry.path}" is already published with a different digest; a published target path is immutable (the service accepts the same digest again, never a new one)`,
        `nothing from this batch of ${batch.entries.length} was stored; lines 1-${resumeLine} are imported. Fix the line (or use a new path) and rerun to resume.`,
      );
    }
    return new CliError(
      EXIT.refused,
      `${line ? `${file}, line ${line}: ` : ""}${reported.message}`,
      `lines 1-${resumeLine} are imported; fix the input and rerun to resume`,
    );
  }
  return new CliError(reported.exitCode, reported.message, `lines 1-${resumeLine} are imported; rerun to resume`);
}

async function waitForPublish(client: AdminClient, timeoutMs: number, quiet: boolean) {
  const deadline = Date.now() + timeoutMs;
  let shown = 0;
  let poll = 250;
  for (;;) {
    const status = await client.status();
    if (!status.pendingChanges) return status;
    if (status.lastFailure && Date.now() - shown > 5000)
      info(`publishing is being retried: ${status.lastFailure.detail}`);
    if (Date.now() > deadline)
      throw failed(
        `the targets are stored but not yet published after ${Math.round(timeoutMs / 1000)} s`,
        "they will be published; check with `tuf-edge status`, then rerun to mark the import complete",
      );
    if (!quiet && Date.now() - shown > 5000) {
      info("waiting for the service to publish…");
      shown = Date.now();
    }
    // From 250 ms up to 1 s: a publish of many bins takes a while, and each poll is a request to the repository's object.
    await new Promise((r) => setTimeout(r, poll));
    poll = Math.min(1000, poll * 1.25);
  }
}

export async function runImport(file: string, flags: ImportFlags, command: Command) {
  const settings = settingsOf(command);
  const client = adminClient(settings);
  const format = formatOf(file, flags.format);
  const given = intOption("--batch-size", flags.batchSize, 1, MAX_BATCH);
  const concurrency = intOption("--concurrency", flags.concurrency, 1, 16) ?? DEFAULT_CONCURRENCY;
  const publishTimeout = (durationOption("--publish-timeout", flags.publishTimeout) ?? 900) * 1000;
  const statePath = flags.state ?? `${file}.import-state.json`;
  const quiet = Boolean(flags.json);
  const began = Date.now();

  const input = { path: file, ...(await fingerprint(file)) };
  const batchSize = given ?? defaultBatchSize(input.lines);
  let saved = flags.restart ? null : await readState(statePath);
  if (saved && (saved.input.sha256 !== input.sha256 || saved.input.size !== input.size)) {
    // Changed since: resumable if the acknowledged lines are the same (a fixed line, appended lines).
    const unchanged =
      typeof saved.acknowledgedSha256 === "string" &&
      saved.acknowledgedLines <= input.lines &&
      (await prefixSha256(file, saved.acknowledgedLines)) === saved.acknowledgedSha256;
    if (!unchanged)
      throw usageError(
        `${file} changed within the ${saved.acknowledgedLines} lines already imported (recorded in ${statePath})`,
        "pass --restart to import it from the first line (targets already stored with the same digest are accepted again)",
      );
    if (!quiet) info(`${file} changed after line ${saved.acknowledgedLines}; the lines already imported are unchanged`);
    saved = { ...saved, input, completedAt: null };
  }
  if (saved) {
    const state = saved;
    if (state.repository !== requireRepo(settings) || state.url !== requireUrl(settings)) {
      throw usageError(
        `${statePath} records an import into "${state.repository}" at ${state.url}`,
        "pass --state to use another state file, or --restart",
      );
    }
    if (state.completedAt) {
      if (flags.json)
        outJson({
          file,
          alreadyComplete: true,
          completedAt: state.completedAt,
          targets: state.acknowledgedTargets,
          lines: state.input.lines,
        });
      else
        out(
          `${file} was imported completely at ${state.completedAt} (${state.acknowledgedTargets} targets); nothing to do.`,
        );
      return;
    }
    if (!quiet)
      info(
        `resuming ${file} after line ${state.acknowledgedLines} of ${input.lines} (${state.acknowledgedTargets} targets already stored)`,
      );
  }
  const status = await client.status();
  if (!status.bootstrapped) throw new CliError(EXIT.refused, `repository "${settings.repo}" is not bootstrapped`);
  const now = new Date().toISOString();
  const state = saved ?? {
    format: STATE_FORMAT,
    url: requireUrl(settings),
    repository: requireRepo(settings),
    input,
    acknowledgedLines: 0,
    acknowledgedSha256: await prefixSha256(file, 0),
    acknowledgedTargets: 0,
    startedAt: now,
    updatedAt: now,
    completedAt: null,
  };
  const resumedFrom = state.acknowledgedLines;
  await writeState(statePath, state);

  const bar = await progress(input.lines, state.acknowledgedLines, quiet);
  // Batches in order; `done` marks acknowledged ones so the contiguous prefix can advance.
  const order: Array<{ batch: Batch; done: boolean }> = [];
  const inFlight = new Set<Promise<void>>();
  let failure: CliError | null = null;
  let sentTargets = 0;
  let sentBatches = 0;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const advance = async () => {
    let changed = false;
    while (order[0]?.done) {
      const { batch } = order[0];
      order.shift();
      state.acknowledgedLines = batch.endLine;
      state.acknowledgedSha256 = batch.prefixSha256;
      state.acknowledgedTargets += batch.entries.length;
      changed = true;
    }
    if (changed) await writeState(statePath, state);
  };

  let writing = Promise.resolve();
  // The bar counts every line whose batch the service acknowledged, as each answer comes.
  let linesDone = state.acknowledgedLines;
  let lastEnd = state.acknowledgedLines;
  try {
    for await (const batch of readBatches(file, format, state.acknowledgedLines, batchSize)) {
      if (failure || interrupted) break;
      const slot = { batch, done: false };
      const span = batch.endLine - lastEnd;
      lastEnd = batch.endLine;
      order.push(slot);
      const task = (batch.entries.length ? sendBatch(client, batch, quiet) : Promise.resolve())
        .then(() => {
          slot.done = true;
          sentTargets += batch.entries.length;
          sentBatches += batch.entries.length ? 1 : 0;
          linesDone += span;
          bar.update(linesDone, sentTargets);
          writing = writing.then(advance);
          return writing;
        })
        .catch((error: unknown) => {
          failure ??= explainRefusal(error, batch, file, state.acknowledgedLines);
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  } catch (error) {
    failure ??= error instanceof CliError ? error : describeAsCli(error);
  }
  await Promise.allSettled([...inFlight]);
  await writing;
  bar.stop();
  process.removeListener("SIGINT", onSignal);
  process.removeListener("SIGTERM", onSignal);
  if (failure) {
    const f = failure as CliError;
    throw new CliError(
      f.exitCode,
      f.message,
      f.hint ?? `lines 1-${state.acknowledgedLines} are imported; rerun to resume`,
    );
  }
  if (interrupted) {
    info(
      `interrupted: lines 1-${state.acknowledgedLines} of ${input.lines} are imported (${statePath}) and will be published within 30 s; rerun the same command to resume`,
    );
    process.exitCode = 130;
    return;
  }
  const storedAt = Date.now();
  if (!quiet)
    info(
      `all ${state.acknowledgedTargets} targets stored in ${((storedAt - began) / 1000).toFixed(1)} s; waiting for the publish`,
    );
  // The batches were stored without publishing (deferred): the import's end starts the publish of them all.
  await client.publishNow();
  const final = await waitForPublish(client, publishTimeout, quiet);
  state.completedAt = new Date().toISOString();
  const versions = {
    targets: final.roles.targets?.version ?? 0,
    snapshot: final.roles.snapshot?.version ?? 0,
    timestamp: final.roles.timestamp?.version ?? 0,
  };
  state.versions = versions;
  await writeState(statePath, state);
  const seconds = (Date.now() - began) / 1000;
  const summary = {
    file,
    lines: input.lines,
    resumedFromLine: resumedFrom,
    targetsSent: sentTargets,
    batchSize,
    batchesSent: sentBatches,
    targetsImported: state.acknowledgedTargets,
    seconds: Number(seconds.toFixed(2)),
    storedSeconds: Number(((storedAt - began) / 1000).toFixed(2)),
    targetsPerSecond: Math.round(sentTargets / seconds),
    repositoryTargets: final.targetsCount,
    versions,
    stateFile: statePath,
  };
  if (flags.json) return outJson(summary);
  out(
    `imported ${sentTargets} targets from ${file} in ${seconds.toFixed(1)} s (${summary.targetsPerSecond} targets/s)${resumedFrom ? `, resumed after line ${resumedFrom}` : ""}; published as timestamp v${versions.timestamp}; the repository lists ${final.targetsCount} targets`,
  );
}

function describeAsCli(error: unknown): CliError {
  const d = describeError(error);
  return new CliError(d.exitCode, d.message, d.hint);
}

export function registerImport(program: Command): void {
  program
    .command("import")
    .description("import many targets (metadata only) from JSON lines or CSV, resumably, with a progress bar")
    .argument(
      "<file>",
      "JSON lines ({path, length, hashes:{sha256,sha512}, custom}) or CSV (path,length,sha256[,sha512])",
    )
    .option("--format <format>", "jsonl or csv (default: from the file name)")
    .option(
      "--batch-size <n>",
      `targets per request, at most ${MAX_BATCH} (default: a twentieth of the file, 1,000 to ${DEFAULT_MAX_BATCH})`,
    )
    .option(
      "--concurrency <n>",
      `requests in flight (default ${DEFAULT_CONCURRENCY}: the repository stores one at a time)`,
    )
    .option("--state <file>", "the resume state file (default FILE.import-state.json)")
    .option("--restart", "ignore the state file and start from the first line")
    .option("--publish-timeout <duration>", "how long to wait for the publish at the end (default 900s)")
    .option("--json", "print a summary as JSON (no progress output)")
    .addHelpText(
      "after",
      `${examples([
        "tuf-edge import targets.jsonl",
        "tuf-edge import targets.csv --concurrency 8",
        "tuf-edge import targets.jsonl --json   # after an interruption, the same command resumes",
      ])}
Lines:
  {"path":"pkg/a-1.0.tgz","length":1234,"hashes":{"sha256":"…"}}
  pkg/a-1.0.tgz,1234,<sha256>[,<sha512>]
Re-adding a path with the same length and digest is accepted (so resuming is
safe); a path already published with a different digest is refused, because
published targets are immutable: the import stops at that line (exit 4).
Batches are stored as they are acknowledged and published together when the
import ends (each bin is re-signed once per import, not once per batch); an
import that stops early is published by the service 30 s after its last batch.
`,
    )
    .action(async (file: string, flags: ImportFlags, command: Command) => runImport(file, flags, command));
}
