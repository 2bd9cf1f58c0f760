/**
 * Publishes the public attestation documents to R2 (shapes in
 * src/attestations/documents.ts), so that no public read reaches this object:
 *   public/attestations/<path>   a target's attestation list
 *   public/npm/<path>            npm's document (npm-flavoured repositories)
 *   public/pep740/<file name>    PEP 740 provenance (PyPI-flavoured repositories)
 *   public/attestations.json     the index: flavour, and whether every document is stored
 * Which paths need their documents written again is kept in SQLite
 * (`public_documents_due`), filled by triggers in the transaction that
 * accepts an attestation or changes a quarantine (durable-objects/schema.ts,
 * migration 12), so an acknowledged change cannot be missed: a path leaves the
 * queue only once its documents are stored. A path with no public attestation
 * left has its documents deleted.
 *
 * Work is bounded: a step writes the documents of at most PATHS_PER_STEP
 * paths; the caller runs another step later (the alarm) while `pending()`.
 * Repositories that accepted attestations before these documents existed are
 * backfilled the same way: the migration puts every attested path in the
 * queue and marks the documents incomplete until the queue has been worked
 * off once; so does a change of flavour. Meanwhile the index says
 * `complete: false`, and the Worker answers a missing document with 503.
 */
import {
  type AttestationEntry,
  indexDocument,
  listDocument,
  npmDocument,
  npmEntries,
  pep740Document,
} from "../src/attestations/documents.ts";
import type { AttestationPolicy } from "../src/attestations/policy.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import { purgeCached } from "../src/storage/edge-cache.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { Attestations } from "./attestations.ts";
import { sqlLimit } from "./stable-plans.ts";

const BACKFILL = "public_documents_backfill";
const INDEX_SHA = "public-documents-index-sha256";
/** Paths whose documents one step writes: each is up to three documents plus the bundles they embed. */
export const PATHS_PER_STEP = 32;
const CONCURRENCY = 8;

export interface PublicDocumentsDeps {
  sql: SqlStorage;
  kv: SyncKvStorage;
  bucket: RepositoryBucket;
  repo: string;
  attestations: Attestations;
  flavour: () => AttestationPolicy["flavour"];
  /** Whether a path is quarantined (held, or removed with bytes still to delete): its attestations are not public. */
  quarantined: (path: string) => boolean;
}

export class PublicDocuments {
  readonly #d: PublicDocumentsDeps;
  #queue: Promise<void> = Promise.resolve();
  /** The last step stored nothing it tried (R2 failing): wait for the next alarm or cron tick instead of retrying at once. */
  #stalled = false;

  constructor(deps: PublicDocumentsDeps) {
    this.#d = deps;
  }

  /** Whether documents remain to be written. */
  pending(): boolean {
    return this.#d.sql.exec("SELECT 1 FROM public_documents_due LIMIT 1").toArray().length > 0;
  }

  /** Whether the caller should run another step soon (the alarm): work remains and the last step made progress. */
  wantsAnotherStep(): boolean {
    return !this.#stalled && this.pending();
  }

  /** Every attested path is due again and the documents incomplete until then (after a change of flavour). */
  rewriteAll(): void {
    this.#d.sql.exec(
      `INSERT INTO public_documents_due (path) SELECT DISTINCT path FROM attestations WHERE true
       ON CONFLICT (path) DO UPDATE SET generation = generation + 1`,
    );
    this.#d.sql.exec("INSERT OR REPLACE INTO state (key, value) VALUES (?, 1)", BACKFILL);
  }

  /**
   * One step, after any step under way (steps never overlap, so an older
   * document never overwrites a newer one). Never rejects: a failed write
   * leaves its path due, for the next step.
   */
  step(): Promise<void> {
    const run = this.#queue.then(() => this.#step());
    this.#queue = run.catch((error) => console.error("public documents not published:", error));
    return this.#queue;
  }

  async #step(): Promise<void> {
    const due = this.#d.sql
      .exec<{ path: string; generation: number }>(
        `SELECT path, generation FROM public_documents_due ORDER BY rowid ${sqlLimit(PATHS_PER_STEP)}`,
      )
      .toArray();
    const flavour = this.#d.flavour();
    let stored = 0;
    for (let i = 0; i < due.length; i += CONCURRENCY) {
      const batch = due.slice(i, i + CONCURRENCY);
      const outcomes = await Promise.allSettled(batch.map((d) => this.#publishPath(d.path, flavour)));
      outcomes.forEach((outcome, j) => {
        const d = batch[j];
        if (!d) return;
        if (outcome.status === "rejected") {
          console.error(`public documents of "${d.path}" not published:`, outcome.reason);
          return;
        }
        stored++;
        // Unless it changed again meanwhile: then the next step writes it once more.
        this.#d.sql.exec("DELETE FROM public_documents_due WHERE path = ? AND generation = ?", d.path, d.generation);
      });
    }
    this.#stalled = due.length > 0 && stored === 0;
    if (!this.pending()) this.#d.sql.exec("DELETE FROM state WHERE key = ?", BACKFILL);
    await this.#publishIndex(flavour);
  }

  async #publishIndex(flavour: AttestationPolicy["flavour"]): Promise<void> {
    const complete = this.#d.sql.exec("SELECT 1 FROM state WHERE key = ?", BACKFILL).toArray().length === 0;
    const bytes = indexDocument({ flavour, complete });
    const sha256 = await sha256Hex(bytes);
    if (this.#d.kv.get<string>(INDEX_SHA) === sha256) return;
    await this.#write(this.#d.bucket.attestationIndexKey(), bytes);
    this.#d.kv.put(INDEX_SHA, sha256);
  }

  /** Writes (or deletes, when nothing is public) the documents that show `path`'s attestations. */
  async #publishPath(path: string, flavour: AttestationPolicy["flavour"]): Promise<void> {
    const { bucket, repo } = this.#d;
    const own = this.#public(this.#d.attestations.forPath(path).map((a) => ({ ...a, path })));
    await this.#put(bucket.attestationListKey(path), own.length > 0 ? listDocument(repo, path, own) : null);
    if (flavour === "npm") {
      const listed = npmEntries(own);
      const document = listed.length > 0 ? npmDocument(listed, await this.#bundles(listed)) : null;
      await this.#put(bucket.npmDocumentKey(path), document);
    }
    if (flavour === "pypi") {
      const filename = path.slice(path.lastIndexOf("/") + 1);
      const all = this.#public(this.#d.attestations.forFilename(filename));
      const document = all.length > 0 ? pep740Document(all, await this.#bundles(all)) : null;
      await this.#put(bucket.pep740DocumentKey(filename), document);
    }
  }

  /** Without the attestations of quarantined targets. */
  #public(entries: AttestationEntry[]): AttestationEntry[] {
    return entries.filter((a) => !this.#d.quarantined(a.path));
  }

  async #bundles(entries: readonly AttestationEntry[]): Promise<Array<Record<string, unknown>>> {
    return Promise.all(
      entries.map(async (a) => {
        const object = await this.#d.bucket.getAttestation(a.sha256);
        if (!object) throw new Error(`attestation ${a.sha256} of ${a.path} is recorded but not stored`);
        return object.json<Record<string, unknown>>();
      }),
    );
  }

  async #put(key: string, bytes: Uint8Array<ArrayBuffer> | null): Promise<void> {
    if (bytes) await this.#write(key, bytes);
    else {
      await this.#d.bucket.deletePublic(key);
      await purgeCached(key).catch(() => undefined);
    }
  }

  /** Stores a document and drops the old copy from this location's edge cache (others expire it within seconds). */
  async #write(key: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.#d.bucket.putPublic(key, bytes, await sha256Hex(bytes));
    await purgeCached(key).catch(() => undefined);
  }
}
