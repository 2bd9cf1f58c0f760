/**
 * The messages of the site-documents queue: a target's document for the
 * public pages (a TargetLogDocument's canonical bytes), sent by the
 * repository's object (durable-objects/site-documents.ts) and written to R2
 * by the queue's consumer (site-document-consumer.ts), so the object never
 * waits for one R2 write per target.
 *
 * Each message carries the log size its document was read at. The queue
 * delivers at least once and in no set order, so the consumer writes a
 * document only over an older one (R2 conditional writes): a retried or late
 * message never replaces what a later one wrote.
 */
import { REPOSITORY_NAME } from "../schemas/repository-name.ts";
import { targetPathProblem } from "../schemas/target-path.ts";

export interface SiteDocumentMessage {
  repo: string;
  /** The target path: the document is `<repo>/site/targets/<path>` (site-status.ts). */
  path: string;
  /** The published log size the document was read at: a document read at a larger size is newer. */
  logSize: number;
  /** Whether an earlier document may exist (and be cached): when false, the consumer first tries to create it. */
  existed: boolean;
  /** The document's canonical JSON bytes (so messages are sent as "v8", structured clones: JSON would not keep them). */
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Cloudflare Queues take at most 100 messages and 256 KB in one sendBatch.
 * A document is at most about 6 KB (an 800-byte path and 100 entries), so
 * batches are cut at 100 messages or BATCH_BYTES of estimated size, far
 * from the limit whatever a message's serialisation adds.
 */
export const BATCH_MESSAGES = 100;
export const BATCH_BYTES = 192 * 1024;

/** A message's size as counted against BATCH_BYTES: its bytes, its strings as UTF-16, and a margin. */
function estimatedSize(message: SiteDocumentMessage): number {
  return message.bytes.byteLength + 2 * (message.path.length + message.repo.length) + 64;
}

/** `messages` cut, in order, into sendBatch calls within the queue's limits. */
export function sendBatches(messages: readonly SiteDocumentMessage[]): SiteDocumentMessage[][] {
  const batches: SiteDocumentMessage[][] = [];
  let batch: SiteDocumentMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = estimatedSize(message);
    if (batch.length === BATCH_MESSAGES || (batch.length > 0 && bytes + size > BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Why `body` is not a SiteDocumentMessage, or null if it is one. */
export function messageProblem(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return "not an object";
  const m = body as Partial<Record<keyof SiteDocumentMessage, unknown>>;
  if (typeof m.repo !== "string" || !REPOSITORY_NAME.test(m.repo)) return "no valid repository name";
  if (typeof m.path !== "string") return "no target path";
  const pathProblem = targetPathProblem(m.path);
  if (pathProblem) return pathProblem;
  if (typeof m.logSize !== "number" || !Number.isSafeInteger(m.logSize) || m.logSize < 1) return "no log size";
  if (typeof m.existed !== "boolean") return "no existed flag";
  if (!(m.bytes instanceof Uint8Array)) return "no document bytes";
  return null;
}
