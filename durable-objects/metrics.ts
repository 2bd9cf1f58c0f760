/**
 * A repository's operational metrics: counters kept in the object's
 * synchronous KV storage (they survive eviction and restarts), and gauges
 * read from its state when scraped. Each counted event also goes out as one
 * structured log line. Nothing here reads or writes secret material.
 */
import type { MetricFamily, Sample } from "../src/metrics/prometheus.ts";
import type { KekStatus, PublishedVersions, RepositoryStatus } from "../src/repository-api.ts";
import { logEvent } from "../src/structured-log.ts";
import type { InvocationSpend, R2Operations } from "./invocation-budget.ts";
import { type PhaseTimes, phaseFields } from "./round-phases.ts";

const COUNTERS = "metrics:counters";
const ROUND_START = "metrics:round-start";

/** Counter name → label set (JSON) → value. */
type Counters = Record<string, Record<string, number>>;

/** What the gauges are read from, at scrape time. */
export interface GaugeSources {
  status: RepositoryStatus;
  /** Roles claimed by the round under way: signed and stored so far, and still to sign. */
  round: { staged: number; pending: number };
  /** Roles marked changed and not yet published (the round's and the next round's). */
  changedRoles: number;
  /** Accepted registry batches not yet in a published timestamp. */
  queuedTasks: number;
  logSize: number;
  /** Log entries whose bytes are still in SQLite (the rest are pruned: log-history.ts). */
  logKept: number;
  quarantined: number;
  /** null when KEY_ENCRYPTION_KEY is unusable. */
  kek: KekStatus | null;
  /** The publish run that used the most R2 operations (invocation-budget.ts). */
  largestInvocation: InvocationSpend | null;
  /** The object's SQLite database, in bytes (SqlStorage.databaseSize). */
  storageBytes: number;
  /** Published log entries whose targets' pages documents are not sent to the site-documents queue yet (site-documents.ts). */
  siteBehind: number;
  /** Replaced metadata files recorded and not deleted yet (superseded-files.ts). */
  supersededWaiting: number;
  now: number;
}

export class RepositoryMetrics {
  readonly #kv: SyncKvStorage;
  readonly #repo: string;

  constructor(kv: SyncKvStorage, repo: string) {
    this.#kv = kv;
    this.#repo = repo;
  }

  /** A publish round started (it may span several invocations). */
  roundStarted(now: number, roles: number): void {
    if (this.#kv.get<number>(ROUND_START) !== undefined) return;
    this.#kv.put(ROUND_START, now);
    logEvent("publish.round.start", { repository: this.#repo, roles });
  }

  /** A round's timestamp was published; `phases`: where its time went (round-phases.ts), logged with it. */
  roundPublished(now: number, versions: PublishedVersions, files: number, phases: PhaseTimes): void {
    const started = this.#kv.get<number>(ROUND_START) ?? now;
    this.#kv.delete(ROUND_START);
    const seconds = Math.max(0, now - started) / 1000;
    this.#add("publish_rounds_total", { outcome: "published" });
    this.#add("publish_round_duration_seconds_sum", {}, seconds);
    this.#add("publish_round_duration_seconds_count", {});
    this.#add("metadata_files_published_total", {}, files);
    this.#kv.put("metrics:last-round-seconds", seconds);
    logEvent("publish.round", {
      repository: this.#repo,
      ...versions,
      files,
      durationMs: Math.round(seconds * 1000),
      ...phaseFields(phases),
    });
  }

  /** The object's alarm was found `lateMs` past due, not fired, and set again (scheduler.ts rearmIfOverdue). */
  alarmRearmed(lateMs: number): void {
    this.#add("alarms_rearmed_total", {});
    logEvent("alarm.rearmed", { repository: this.#repo, lateMs }, "warn");
  }

  /** A publish run failed (it is retried). `detail` is an error message, never key material. */
  roundFailed(detail: string): void {
    this.#add("publish_rounds_total", { outcome: "failed" });
    logEvent("publish.failed", { repository: this.#repo, detail }, "error");
  }

  /** Roles re-signed because they came due. */
  resigned(roles: readonly string[]): void {
    if (roles.length === 0) return;
    this.#add("roles_resigned_total", {}, roles.length);
    logEvent("freshness.resign", {
      repository: this.#repo,
      count: roles.length,
      roles: roles.length > 20 ? [...roles.slice(0, 20), "…"] : roles,
    });
  }

  /**
   * R2 operations the object made, by method and area (R2Meter.take), added to the
   * stored counter: at the end of each publish run and at each scrape, so
   * the operations of the moments before an eviction may go uncounted (every
   * change is followed by a publish run, which counts them).
   */
  r2Operations(taken: readonly R2Operations[]): void {
    const counted = taken.filter((t) => t.count > 0);
    if (counted.length === 0) return;
    this.#addEach(counted.map(({ operation, area, count }) => ["r2_operations_total", { operation, area }, count]));
  }

  /** A registry push (a batch or an upload): accepted, or refused with its problem code. */
  push(registry: string | null, refusal: { status: number; code: string } | null): void {
    if (refusal) {
      this.#add("pushes_total", { result: "refused", reason: refusal.code });
      logEvent(
        "push.refused",
        { repository: this.#repo, registry, status: refusal.status, code: refusal.code },
        "warn",
      );
    } else {
      this.#add("pushes_total", { result: "accepted", reason: "" });
      logEvent("push.accepted", { repository: this.#repo, registry });
    }
  }

  /** Registry pushes accepted together in one transaction (accept-group.ts): one count each, one log line for the group. */
  pushesAccepted(registries: readonly string[]): void {
    this.#add("pushes_total", { result: "accepted", reason: "" }, registries.length);
    const distinct = [...new Set(registries)];
    logEvent("push.accepted", {
      repository: this.#repo,
      registry: distinct.length === 1 ? distinct[0] : undefined,
      registries: distinct,
      pushes: registries.length,
    });
  }

  families(g: GaugeSources): MetricFamily[] {
    const repository = this.#repo;
    const counters = this.#kv.get<Counters>(COUNTERS) ?? {};
    const counted = (name: string): Sample[] =>
      Object.entries(counters[name] ?? {}).map(([labels, value]) => ({
        labels: { repository, ...(JSON.parse(labels) as Record<string, string>) },
        value,
      }));
    const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({
      name: `tuf_edge_${name}`,
      help,
      type: "gauge",
      samples,
    });
    const one = (value: number, labels: Record<string, string> = {}): Sample => ({
      labels: { repository, ...labels },
      value,
    });

    const secondsLeft = (expires: string) => Math.round((Date.parse(expires) - g.now) / 1000);
    const expiries: Sample[] = [];
    for (const role of ["root", "targets", "snapshot", "timestamp", "bins"] as const) {
      const r = g.status.roles[role];
      if (r) expiries.push(one(secondsLeft(r.expires), { role }));
    }
    const withDefault = (samples: Sample[], labels: Record<string, string>) =>
      samples.length > 0 ? samples : [one(0, labels)];

    const families: MetricFamily[] = [
      {
        name: "tuf_edge_publish_rounds_total",
        help: "Publish rounds, by outcome (published: a new timestamp; failed: retried).",
        type: "counter",
        samples: [
          ...withDefault(
            counted("publish_rounds_total").filter((s) => s.labels.outcome === "published"),
            { outcome: "published" },
          ),
          ...withDefault(
            counted("publish_rounds_total").filter((s) => s.labels.outcome === "failed"),
            { outcome: "failed" },
          ),
        ],
      },
      {
        name: "tuf_edge_publish_round_duration_seconds",
        help: "Time from the start of a publish round to its timestamp.",
        type: "summary",
        samples: [
          { suffix: "_sum", ...one(counters.publish_round_duration_seconds_sum?.["{}"] ?? 0) },
          { suffix: "_count", ...one(counters.publish_round_duration_seconds_count?.["{}"] ?? 0) },
        ],
      },
      gauge("publish_last_round_duration_seconds", "Duration of the last published round.", [
        one(this.#kv.get<number>("metrics:last-round-seconds") ?? 0),
      ]),
      {
        name: "tuf_edge_metadata_files_published_total",
        help: "Metadata files (bins, targets, snapshot, timestamp, roots) published by rounds.",
        type: "counter",
        samples: [one(counters.metadata_files_published_total?.["{}"] ?? 0)],
      },
      {
        name: "tuf_edge_roles_resigned_total",
        help: "Online roles re-signed because they came within their refresh margin of expiry.",
        type: "counter",
        samples: [one(counters.roles_resigned_total?.["{}"] ?? 0)],
      },
      {
        name: "tuf_edge_alarms_rearmed_total",
        help: "Times the repository's alarm was found 30 s or more past due without having fired, and set again.",
        type: "counter",
        samples: [one(counters.alarms_rearmed_total?.["{}"] ?? 0)],
      },
      {
        name: "tuf_edge_pushes_total",
        help: "Registry pushes (batches and uploads) that reached the repository, by result and refusal code.",
        type: "counter",
        samples: withDefault(counted("pushes_total"), { result: "accepted", reason: "" }),
      },
      {
        name: "tuf_edge_r2_operations_total",
        help: "R2 operations the repository's object made (its bucket binding's method calls), by operation (put, get, head, delete, list) and by area, the part of the repository's layout the key is in (metadata, packs, log, site, public, targets, …). Public reads are served by the Worker and are not counted here.",
        type: "counter",
        samples: withDefault(
          // Counted before areas were (an older version's counts): area "unrecorded", so every sample has both labels.
          counted("r2_operations_total").map((s) => ({
            ...s,
            labels: { ...s.labels, area: s.labels.area ?? "unrecorded" },
          })),
          { operation: "put", area: "metadata" },
        ),
      },
      gauge("targets_published", "Targets listed in the published metadata (after the pending round).", [
        one(g.status.targetsCount),
      ]),
      gauge("role_expiry_seconds", "Seconds until each role expires (bins: the bin that expires first).", expiries),
      gauge("queue_depth", "Work waiting to be published: roles marked changed, and accepted registry batches.", [
        one(g.changedRoles, { kind: "roles" }),
        one(g.queuedTasks, { kind: "tasks" }),
      ]),
      gauge("publish_round_roles", "Roles of the round under way, signed and stored so far, and still to sign.", [
        one(g.round.staged, { state: "staged" }),
        one(g.round.pending, { state: "pending" }),
      ]),
      gauge(
        "publish_invocation_largest",
        "The publish run (one invocation) that used the most R2 operations: its R2 operations, roles signed, log tiles and entry bundles stored ahead of a checkpoint, rounds finished and wall-clock milliseconds (an upper bound of its CPU).",
        g.largestInvocation
          ? [
              one(g.largestInvocation.r2Operations, { what: "r2_operations" }),
              one(g.largestInvocation.roles, { what: "roles" }),
              one(g.largestInvocation.logWrites ?? 0, { what: "log_writes" }),
              one(g.largestInvocation.rounds, { what: "rounds" }),
              one(g.largestInvocation.wallMs, { what: "wall_ms" }),
            ]
          : [],
      ),
      gauge("log_entries", "Entries in the repository's transparency log.", [one(g.logSize)]),
      gauge(
        "log_entries_kept",
        "Log entries still whole in the object's SQLite; older ones are pruned once their tiles are in R2.",
        [one(g.logKept)],
      ),
      gauge(
        "storage_bytes",
        "Size of the repository object's SQLite database, in bytes (the platform allows 10 GB per object).",
        [one(g.storageBytes)],
      ),
      gauge(
        "site_documents_behind",
        "Published log entries whose targets' documents for the public pages are not sent to the site-documents queue yet.",
        [one(g.siteBehind)],
      ),
      gauge(
        "superseded_files",
        "Files of replaced metadata versions (snapshots, bin packs, targets, delegated roles) still in R2, deleted once retainSuperseded has passed.",
        [one(g.supersededWaiting)],
      ),
      gauge("quarantined_targets", "Targets held in quarantine.", [one(g.quarantined)]),
      gauge("publish_failing", "1 while the last publish or refresh failed and is being retried.", [
        one(g.status.lastFailure ? 1 : 0),
      ]),
      gauge(
        "ceremony_expiry_seconds",
        "Seconds until the open root ceremony's draft expires.",
        g.status.openCeremony
          ? [one(secondsLeft(g.status.openCeremony.expiresAt), { kind: g.status.openCeremony.kind })]
          : [],
      ),
      gauge("kek_reseal_remaining", "Sealed secrets still under a key-encryption key other than the current one.", [
        one(g.kek?.remaining ?? 0),
      ]),
      gauge(
        "kek_unusable",
        "1 if KEY_ENCRYPTION_KEY is unusable or a sealed secret names a key-encryption key it does not hold.",
        [one(g.kek === null || g.kek.unconfigured.length > 0 ? 1 : 0)],
      ),
    ];
    return families;
  }

  #add(name: string, labels: Record<string, string>, by = 1): void {
    this.#addEach([[name, labels, by]]);
  }

  /** Adds to several counters in one read and one write of the stored counters. */
  #addEach(additions: ReadonlyArray<readonly [name: string, labels: Record<string, string>, by: number]>): void {
    const counters = this.#kv.get<Counters>(COUNTERS) ?? {};
    for (const [name, labels, by] of additions) {
      const key = JSON.stringify(labels);
      const family = counters[name] ?? {};
      family[key] = (family[key] ?? 0) + by;
      counters[name] = family;
    }
    this.#kv.put(COUNTERS, counters);
  }
}
