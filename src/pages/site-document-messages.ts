/**
 * The messages of the site-documents queue: targets' documents for the
 * public pages (TargetLogDocuments' canonical bytes), read by the
 * repository's object (durable-objects/site-documents.ts) and written to R2
 * by the queue's consumer (site-document-consumer.ts), so the object never
 * waits for one R2 write per target.
 *
 * One message carries up to DOCUMENTS_PER_MESSAGE documents of one
 * repository, all read at one log size. The queue delivers at least once and
 * in no set order, so the consumer writes a document only over an older one
 * (R2 conditional writes): a retried or late message never replaces what a
 * later one wrote.
 *
 * Cloudflare Queues' limits: a message at most 128 KB, a sendBatch at most
 * 100 messages and 256 KB, and a queue about 5,000 messages a second (shared
 * by every repository of a deployment). A document is at most about 6 KB (an
 * 800-byte path and 100 entries), usually a few hundred bytes, so messages
 * are cut at DOCUMENTS_PER_MESSAGE documents or MESSAGE_BYTES of estimated
 * size, and sendBatch calls at BATCH_BYTES: far from the limits whatever the
 * serialisation adds. At 2,000 targets a second that is about 31 messages a
 * second.
 */
import { cutRuns } from "../lib/cut.ts";
import { REPOSITORY_NAME } from "../schemas/repository-name.ts";
import { targetPathProblem } from "../schemas/target-path.ts";

export interface SiteDocument {
  /** The target path: the document is `<repo>/site/targets/<path>` (site-status.ts). */
  path: string;
  /** Whether an earlier document may exist (and be cached): when false, the consumer first tries to create it. */
  existed: boolean;
  /** The document's canonical JSON bytes (so messages are sent as "v8", structured clones: JSON would not keep them). */
  bytes: Uint8Array<ArrayBuffer>;
}

export interface SiteDocumentsMessage {
  repo: string;
  /** The first log entry of the run that sent the documents: a dropped message is made good by sending from there again. */
  from: number;
  /** The published log size the documents were read at: a document read at a larger size is newer. */
  logSize: number;
  documents: SiteDocument[];
}

/**
 * The queue the site-documents queue hands a message to once its retries
 * are spent (wrangler.toml's dead_letter_queue, which has a consumer of its
 * own): the Worker's queue handler tells the two apart by this name.
 */
export const DEAD_LETTERS_QUEUE = "tuf-edge-site-documents-dead";

/**
 * Documents per message: with the consumer's one message per invocation
 * (wrangler.toml), its subrequests stay below 1,000 per invocation (the
 * Paid plan's limit before it became 10,000) even if every write races
 * (site-document-consumer.ts).
 */
export const DOCUMENTS_PER_MESSAGE = 64;
export const MESSAGE_BYTES = 96 * 1024;
export const BATCH_MESSAGES = 100;
export const BATCH_BYTES = 192 * 1024;

/** A document's size as counted against the limits: its bytes, its path as UTF-16, and a margin. */
export function estimatedSize(document: SiteDocument): number {
  return document.bytes.byteLength + 2 * document.path.length + 32;
}

/**
 * The documents of `repo`'s run from log entry `from`, read at `logSize`, as
 * messages cut into sendBatch calls within the queue's limits, in order.
 */
export function sendBatches(
  repo: string,
  from: number,
  logSize: number,
  documents: readonly SiteDocument[],
): SiteDocumentsMessage[][] {
  const messages = cutRuns(documents, DOCUMENTS_PER_MESSAGE, MESSAGE_BYTES, estimatedSize).map(
    (run): SiteDocumentsMessage => ({ repo, from, logSize, documents: run }),
  );
  const bytes = (m: SiteDocumentsMessage) => m.documents.reduce((n, d) => n + estimatedSize(d), 64);
  return cutRuns(messages, BATCH_MESSAGES, BATCH_BYTES, bytes);
}

/** Why `document` is not a SiteDocument, or null if it is one. */
export function documentProblem(document: unknown): string | null {
  if (typeof document !== "object" || document === null) return "a document is not an object";
  const d = document as Partial<Record<keyof SiteDocument, unknown>>;
  if (typeof d.path !== "string") return "a document has no target path";
  const pathProblem = targetPathProblem(d.path);
  if (pathProblem) return pathProblem;
  if (typeof d.existed !== "boolean") return "a document has no existed flag";
  if (!(d.bytes instanceof Uint8Array)) return "a document has no bytes";
  return null;
}

/** Why `body` is not a SiteDocumentsMessage (its documents aside: documentProblem), or null if it is one. */
export function messageProblem(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return "not an object";
  const m = body as Partial<Record<keyof SiteDocumentsMessage, unknown>>;
  if (typeof m.repo !== "string" || !REPOSITORY_NAME.test(m.repo)) return "no valid repository name";
  if (typeof m.logSize !== "number" || !Number.isSafeInteger(m.logSize) || m.logSize < 1) return "no log size";
  if (typeof m.from !== "number" || !Number.isSafeInteger(m.from) || m.from < 0 || m.from >= m.logSize)
    return "no first log entry below the log size";
  if (!Array.isArray(m.documents)) return "no documents";
  if (m.documents.length > DOCUMENTS_PER_MESSAGE) return `more than ${DOCUMENTS_PER_MESSAGE} documents`;
  return null;
}
