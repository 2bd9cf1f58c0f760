/**
 * The live operations figures `tuf-edge status` shows (and `--watch` keeps
 * refreshing): the repository's metrics endpoint (publish rounds and their
 * duration, pushes accepted and refused by reason, queue depth, log size,
 * quarantine, the object's storage against the platform's 10 GB, an alarm
 * that had to be set again) and key-encryption key re-seal progress, with a progress bar for
 * a long publish round (bootstrap, online-key rotation, a bulk import) and for
 * a re-seal under way.
 */
import type { KekStatus } from "../../src/repository-api.ts";
import { guardedFetch, repoBaseUrl, requireUrl, type Settings } from "./config.ts";
import { color } from "./output.ts";
import { barText } from "./progress-bar.ts";

export interface OperationsView {
  publishRounds: { published: number; failed: number; meanSeconds: number | null; lastSeconds: number };
  pushes: { accepted: number; refused: Record<string, number> };
  queue: { roles: number; tasks: number };
  /** The round under way: roles signed so far and still to sign. */
  round: { staged: number; pending: number };
  logEntries: number;
  /** Log entries still whole in the object's SQLite (the rest are pruned), or null from a service without the gauge. */
  logKept: number | null;
  /** The object's SQLite, in bytes, or null from a service without the gauge. */
  storageBytes: number | null;
  /** Published log entries the target pages do not show yet, or null from a service without the gauge. */
  pagesBehind: number | null;
  quarantined: number;
  /** Times the object's alarm was found long past due and set again, or null from a service without the counter. */
  alarmsRearmed: number | null;
  failing: boolean;
  kek: (KekStatus & { sealed: number }) | null;
}

/** What the platform lets one Durable Object's SQLite hold. */
const STORAGE_LIMIT_BYTES = 10e9;
/** From this share of it on the line is red (docs/operators.md alerts at 8 GB). */
const STORAGE_WARNING_SHARE = 0.8;

type Samples = Array<{ name: string; labels: Record<string, string>; value: number }>;

/** Parses the Prometheus text format's sample lines (what src/metrics/prometheus.ts writes). */
export function parseExposition(text: string): Samples {
  const samples: Samples = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = (l[2] as string).replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

export function operationsView(metrics: string, kek: KekStatus | null): OperationsView {
  const samples = parseExposition(metrics);
  const sample = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? null;
  const value = (name: string, labels: Record<string, string> = {}) => sample(name, labels) ?? 0;
  const refused: Record<string, number> = {};
  for (const s of samples)
    if (s.name === "tuf_edge_pushes_total" && s.labels.result === "refused" && s.labels.reason)
      refused[s.labels.reason] = s.value;
  const count = value("tuf_edge_publish_round_duration_seconds_count");
  return {
    publishRounds: {
      published: value("tuf_edge_publish_rounds_total", { outcome: "published" }),
      failed: value("tuf_edge_publish_rounds_total", { outcome: "failed" }),
      meanSeconds: count > 0 ? value("tuf_edge_publish_round_duration_seconds_sum") / count : null,
      lastSeconds: value("tuf_edge_publish_last_round_duration_seconds"),
    },
    pushes: { accepted: value("tuf_edge_pushes_total", { result: "accepted" }), refused },
    queue: {
      roles: value("tuf_edge_queue_depth", { kind: "roles" }),
      tasks: value("tuf_edge_queue_depth", { kind: "tasks" }),
    },
    round: {
      staged: value("tuf_edge_publish_round_roles", { state: "staged" }),
      pending: value("tuf_edge_publish_round_roles", { state: "pending" }),
    },
    logEntries: value("tuf_edge_log_entries"),
    logKept: sample("tuf_edge_log_entries_kept"),
    storageBytes: sample("tuf_edge_storage_bytes"),
    pagesBehind: sample("tuf_edge_site_documents_behind"),
    quarantined: value("tuf_edge_quarantined_targets"),
    alarmsRearmed: sample("tuf_edge_alarms_rearmed_total"),
    failing: value("tuf_edge_publish_failing") === 1,
    kek: kek ? { ...kek, sealed: Object.values(kek.sealedUnder).reduce((a, b) => a + b, 0) } : null,
  };
}

/** Fetches the figures; null if the service does not offer them (an older deployment). */
export async function collectOperations(settings: Settings): Promise<OperationsView | null> {
  const doFetch = guardedFetch(requireUrl(settings));
  const headers = { Authorization: `Bearer ${settings.adminToken ?? ""}` };
  const base = repoBaseUrl(settings);
  const [metrics, kek] = await Promise.all([
    doFetch(`${base}/admin/metrics`, { headers }),
    doFetch(`${base}/admin/kek`, { headers }),
  ]);
  if (!metrics.ok) return null;
  return operationsView(await metrics.text(), kek.ok ? ((await kek.json()) as KekStatus) : null);
}

export function renderOperations(v: OperationsView): string[] {
  const seconds = (s: number | null) => (s === null ? "-" : `${s.toFixed(2)} s`);
  const refused = Object.entries(v.pushes.refused)
    .map(([code, n]) => `${code} ${n}`)
    .join(", ");
  const lines = [
    "operations:",
    `  publish rounds: ${v.publishRounds.published} published, ${v.publishRounds.failed} failed; mean ${seconds(v.publishRounds.meanSeconds)}, last ${seconds(v.publishRounds.lastSeconds)}${v.failing ? color.red("  (failing, retrying)") : ""}`,
    `  pushes: ${v.pushes.accepted} accepted, ${Object.values(v.pushes.refused).reduce((a, b) => a + b, 0)} refused${refused ? ` (${refused})` : ""}`,
    `  queue: ${v.queue.roles} role(s) to sign, ${v.queue.tasks} task(s) to publish   log: ${v.logEntries} entries${v.logKept === null ? "" : ` (${v.logKept} kept whole)`}   quarantined: ${v.quarantined}`,
  ];
  if (v.storageBytes !== null) {
    const share = v.storageBytes / STORAGE_LIMIT_BYTES;
    const text = `  storage: ${(v.storageBytes / 1e6).toFixed(1)} MB of the 10 GB a repository's object may hold (${(share * 100).toFixed(1)} %)`;
    lines.push(share >= STORAGE_WARNING_SHARE ? color.red(text) : text);
  }
  if (v.pagesBehind !== null && v.pagesBehind > 0)
    lines.push(
      `  pages: ${v.pagesBehind} published log entries not yet on their targets' pages (they follow on their own)`,
    );
  if (v.alarmsRearmed !== null && v.alarmsRearmed > 0)
    lines.push(
      `  alarm: found past due without having fired and set again ${v.alarmsRearmed} time(s) (docs/operators.md, tuf_edge_alarms_rearmed_total)`,
    );
  const roundTotal = v.round.staged + v.round.pending;
  if (v.round.pending > 0) lines.push(`  publishing ${barText(v.round.staged, roundTotal)} roles signed`);
  if (v.kek) {
    const unconfigured = v.kek.unconfigured.length
      ? color.red(`; sealed under unconfigured key(s): ${v.kek.unconfigured.join(", ")}`)
      : "";
    lines.push(
      v.kek.remaining > 0
        ? `  key-encryption key "${v.kek.current}": re-sealing ${barText(v.kek.sealed - v.kek.remaining, v.kek.sealed)}${unconfigured}`
        : `  key-encryption key "${v.kek.current}": every sealed value under it${unconfigured}`,
    );
  }
  return lines;
}
