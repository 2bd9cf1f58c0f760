/**
 * Publishes the documents the public pages read (src/pages/site-status.ts) to
 * R2, after each publish run, when they changed:
 *   site/status.json      roles, expiries, next re-signs, warnings, whether
 *                         publishing is blocked, the open ceremony, log size,
 *                         witnesses and recent changes (health reads it too);
 *                         written here, only when its bytes differ from the
 *                         last copy, and also when an operator reads the status;
 *   site/targets/<path>   the published log entries about each target whose
 *                         entries grew since the last run (at most
 *                         ENTRIES_PER_RUN new log entries are looked at per
 *                         run; the next run continues): read here and sent to
 *                         the site-documents queue, whose consumer writes them
 *                         (src/pages/site-document-consumer.ts).
 * The pages and health then never ask this object anything.
 *
 * The target documents come after the metadata, never in its way:
 *   - the object only reads each document's entries (SQLite) and sends the
 *     run's documents, 64 to a message, usually in one queue call
 *     (site-document-messages.ts); the R2 writes, one per document, are the
 *     consumers', not this object's (until 2026-12-05 they were: 16 at a
 *     time, so an import's documents followed at the rate of this one
 *     invocation's R2 writes);
 *   - a run reads a message's worth of documents at a time and waits for
 *     the object's next turn between two (turns.ts), so a push or a round's
 *     next slice that arrives meanwhile waits for 64 documents' reads, not
 *     for the run's;
 *   - a run that leaves entries behind (an import's thousands of new
 *     targets) asks for the next one (`continueSoon`, the alarm) only when
 *     publishing is idle; while rounds run, each round's end starts the next
 *     run;
 *   - each document carries the log size it was read at, and the consumer
 *     writes it only over an older one, so the queue's retries and its
 *     order never put an older document over a newer one. The cursor moves
 *     once the run's documents are sent: a run cut short sends them again.
 *   - a document is marked new when the target has no entry below the run's
 *     first, since every earlier run sent the documents of its entries: the
 *     consumer then creates it without reading first, and does not purge
 *     the edge cache (a miss is never cached, src/http/edge-cache.ts).
 */
import { purgeCached } from "../src/storage/edge-cache.ts";
import {
  DOCUMENTS_PER_MESSAGE,
  type SiteDocument,
  type SiteDocumentsMessage,
  sendBatches,
} from "../src/pages/site-document-messages.ts";
import { canonicalBytes } from "../src/tuf/canonical.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import type { RepositoryStatus } from "../src/repository-api.ts";
import { type RecentChange, SITE_STATUS, type SiteStatus, type TargetLogDocument } from "../src/pages/site-status.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { HistoryEntry } from "./log-history.ts";
import type { TransparencyLog } from "./transparency-log.ts";
import type { Turns } from "./turns.ts";

const CURSOR = "site-log-cursor";
const STATUS_SHA = "site-status-sha256";
/** What the published status.json says about publishing being blocked (JSON), to notice a change cheaply. */
const STATUS_BLOCKED = "site-status-blocked";
/**
 * Log entries scanned for changed targets per run, so at most this many
 * documents per run: a bulk import's documents follow over later runs (each
 * publish run and the alarm) instead of slowing the import.
 */
export const ENTRIES_PER_RUN = 256;
const RECENT = 15;
const PER_TARGET = 100;

export interface SiteDocumentsDeps {
  kv: SyncKvStorage;
  bucket: RepositoryBucket;
  log: TransparencyLog;
  status: () => Promise<RepositoryStatus>;
  /** Where a run waits between two batches of documents, for the object's next turn. */
  turns: Turns;
  /** The repository's name, which the documents' messages carry. */
  repo: string;
  /** The site-documents queue (wrangler.toml), whose consumer writes the target documents. */
  queue: Pick<Queue<SiteDocumentsMessage>, "sendBatch">;
  /** Asks for another run soon (the alarm) if publishing is idle; a run that leaves entries behind calls it. */
  continueSoon: () => Promise<void>;
}

/**
 * Whether a target's document was written by an earlier run, so an edge
 * cache may hold it: `entries` are its latest entries (at most `limit`,
 * oldest first) and `from` the first entry the run looks at. A target with
 * fewer than `limit` entries all at `from` or later had none before.
 */
export function documentExisted(entries: readonly HistoryEntry[], limit: number, from: number): boolean {
  return entries.length >= limit || (entries[0]?.index ?? from) < from;
}

export class SiteDocuments {
  readonly #deps: SiteDocumentsDeps;
  #queue: Promise<void> = Promise.resolve();
  /** Writes of status.json, one at a time, apart from the target documents (a status call never waits for those). */
  #statusQueue: Promise<void> = Promise.resolve();
  #waiting = false;

  constructor(deps: SiteDocumentsDeps) {
    this.#deps = deps;
  }

  /**
   * Publishes the documents after the current work, one run at a time, without
   * holding up the caller (a publish run must not wait for the pages). Returns
   * when this run is done, for callers that want to wait.
   */
  publishSoon(): Promise<void> {
    // Runs that end while one is already waiting to start share it.
    if (this.#waiting) return this.#queue;
    this.#waiting = true;
    const run = this.#queue.then(() => {
      this.#waiting = false;
      return this.publish();
    });
    this.#queue = run.catch((error) => console.error("site documents not published:", error));
    return this.#queue;
  }

  /**
   * Publishes status.json alone, after any status write under way (not after
   * the target documents), if it changed: on each cron tick, and when an
   * operator's status call finds publishing blocked or unblocked (so health
   * shows it at once). Never rejects.
   */
  publishStatus(): Promise<void> {
    const run = this.#statusQueue.then(() => this.#publishStatus(this.#deps.log.checkpoint.publishedSize()));
    this.#statusQueue = run.catch((error) => console.error("site status not published:", error));
    return this.#statusQueue;
  }

  /** Whether status.json says otherwise than `status` about publishing being blocked (health shows that). */
  blockedChanged(status: RepositoryStatus): boolean {
    return (this.#deps.kv.get<string>(STATUS_BLOCKED) ?? "null") !== JSON.stringify(status.publishingBlocked);
  }

  /**
   * Sends the target documents again from log entry `from` (0: every one),
   * for an operator whose pages lost documents (a queue message dropped
   * after its retries) or who wants them rebuilt: moves the cursor back,
   * never forward, between two runs (a run under way would otherwise put
   * it back where it ended), and starts the runs, which go on as an
   * import's do. The consumer keeps any stored document as new as the one
   * it gets, so nothing newer is replaced. Returns the entry they start from.
   */
  async resendFrom(from: number): Promise<number> {
    const rewound = this.#queue.then(() => {
      const cursor = Math.min(from, this.#deps.kv.get<number>(CURSOR) ?? 0);
      this.#deps.kv.put(CURSOR, cursor);
      return cursor;
    });
    this.#queue = rewound.then(
      () => undefined,
      () => undefined,
    );
    const cursor = await rewound;
    void this.publishSoon();
    return cursor;
  }

  /** Published log entries whose targets' documents are not sent to the queue yet (a gauge in /metrics). */
  behind(): number {
    return Math.max(0, this.#deps.log.checkpoint.publishedSize() - (this.#deps.kv.get<number>(CURSOR) ?? 0));
  }

  async publish(): Promise<void> {
    const published = this.#deps.log.checkpoint.publishedSize();
    const behind = await this.#publishTargets(published);
    await this.publishStatus();
    if (behind) await this.#deps.continueSoon();
  }

  async #publishStatus(logSize: number): Promise<void> {
    const status = await this.#deps.status();
    const document: SiteStatus = {
      repository: status.repository,
      targetsCount: status.targetsCount,
      bins: status.bins,
      roles: status.roles,
      openCeremony: status.openCeremony,
      warnings: status.warnings,
      publishingBlocked: status.publishingBlocked,
      logSize,
      witnesses: this.#deps.log.checkpoint.witnesses(),
      recent: this.#recent(logSize),
    };
    const bytes = canonicalBytes(document);
    const sha256 = await sha256Hex(bytes);
    if (this.#deps.kv.get<string>(STATUS_SHA) === sha256) return;
    await this.#write(SITE_STATUS, bytes, sha256);
    this.#deps.kv.put(STATUS_SHA, sha256);
    this.#deps.kv.put(STATUS_BLOCKED, JSON.stringify(document.publishingBlocked));
  }

  /** The latest entries that are not metadata publications (looked for among the last 400, never pruned). */
  #recent(size: number): RecentChange[] {
    return this.#deps.log.history.recentChanges(Math.max(0, size - 400), size, RECENT);
  }

  /**
   * Sends the document of every target with entries in [cursor, cursor +
   * ENTRIES_PER_RUN), read a message's worth at a time with a turn between;
   * returns whether entries remain after them.
   */
  async #publishTargets(size: number): Promise<boolean> {
    const from = this.#deps.kv.get<number>(CURSOR) ?? 0;
    const to = Math.min(size, from + ENTRIES_PER_RUN);
    if (to <= from) return false;
    const paths = this.#deps.log.history.pathsIn(from, to);
    const documents: SiteDocument[] = [];
    for (let i = 0; i < paths.length; i += DOCUMENTS_PER_MESSAGE) {
      if (i > 0) await this.#deps.turns.next();
      for (const path of paths.slice(i, i + DOCUMENTS_PER_MESSAGE)) documents.push(this.#document(path, size, from));
    }
    for (const batch of sendBatches(this.#deps.repo, from, size, documents))
      await this.#deps.queue.sendBatch(batch.map((body) => ({ body, contentType: "v8" })));
    this.#deps.kv.put(CURSOR, to);
    return to < this.#deps.log.checkpoint.publishedSize();
  }

  #document(path: string, size: number, from: number): SiteDocument {
    const entries = this.#deps.log.history.entriesFor(path, size, PER_TARGET);
    return {
      path,
      existed: documentExisted(entries, PER_TARGET, from),
      bytes: canonicalBytes({ path, entries } satisfies TargetLogDocument),
    };
  }

  /** Stores status.json and drops the earlier one from this location's edge cache (others expire it within seconds). */
  async #write(name: string, bytes: Uint8Array<ArrayBuffer>, sha256: string): Promise<void> {
    await this.#deps.bucket.putSite(name, bytes, sha256);
    await purgeCached(this.#deps.bucket.siteKey(name)).catch(() => undefined);
  }
}
