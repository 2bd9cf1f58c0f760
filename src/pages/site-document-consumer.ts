/**
 * The site-documents queue's consumer: writes the targets' documents the
 * repository objects send (site-document-messages.ts) to R2, each only over
 * an older one, and drops a rewritten one from this location's edge cache
 * (other locations' copies expire within their short max-age).
 *
 * Per batch (wrangler.toml: at most 100 messages): at most WRITE_CONCURRENCY
 * writes at once, and per message at most 2 + 2 × 5 R2 operations (usually
 * one: a new document's create, or a read and a write) and one cache delete,
 * within a Worker invocation's subrequest cap. A message whose write fails
 * is retried by the queue (up to max_retries, then dropped and logged by the
 * queue; the target's next change writes its document again). A message that
 * is not a SiteDocumentMessage can never succeed: it is logged and
 * acknowledged.
 */
import { RepositoryBucket } from "../storage/repository-bucket.ts";
import { purgeCached } from "../storage/edge-cache.ts";
import { messageProblem, type SiteDocumentMessage } from "./site-document-messages.ts";
import { siteTargetName } from "./site-status.ts";

/** Documents written at once by one batch's invocation (a Worker invocation keeps six connections open). */
const WRITE_CONCURRENCY = 6;

async function write(bucket: R2Bucket, message: SiteDocumentMessage): Promise<void> {
  const repository = new RepositoryBucket(bucket, message.repo);
  const name = siteTargetName(message.path);
  const outcome = await repository.putSiteIfNewer(name, message.bytes, message.logSize, message.existed);
  // A document written for the first time cannot be cached: a miss never is (src/http/edge-cache.ts).
  if (outcome === "written" && message.existed) await purgeCached(repository.siteKey(name)).catch(() => undefined);
}

async function consume(bucket: R2Bucket, message: Message<unknown>): Promise<void> {
  const problem = messageProblem(message.body);
  if (problem) {
    console.error(`site-documents queue: message ${message.id} dropped, ${problem}`);
    message.ack();
    return;
  }
  try {
    await write(bucket, message.body as SiteDocumentMessage);
    message.ack();
  } catch (error) {
    console.error(`site-documents queue: message ${message.id} (attempt ${message.attempts}) not written:`, error);
    message.retry();
  }
}

/** The Worker's `queue` handler for the site-documents queue. */
export async function consumeSiteDocuments(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const pending = [...batch.messages];
  const worker = async () => {
    for (let message = pending.shift(); message; message = pending.shift()) await consume(env.BUCKET, message);
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, pending.length) }, worker));
}
