/**
 * The site-documents queue's consumer: writes the targets' documents the
 * repository objects send (site-document-messages.ts) to R2, each only over
 * an older one, and drops a rewritten one from this location's edge cache
 * (other locations' copies expire within their short max-age).
 *
 * Its budget per invocation, one message (wrangler.toml's max_batch_size):
 * at most DOCUMENTS_PER_MESSAGE (64) documents, WRITE_CONCURRENCY at once,
 * each usually one R2 operation (a new document's create) or two (a read
 * and a conditional write) and a cache delete; at most 1 + 2 × 5 R2
 * operations and a cache delete if other writers keep winning the race:
 * 768 subrequests at the very worst, below 1,000, the Paid plan's
 * limit per invocation until it became 10,000.
 *
 * A message whose documents are not all written (R2 failed) is retried by
 * the queue after a growing delay (retryDelaySeconds), up to max_retries;
 * the documents it did write are found as new as it next time, and kept.
 * After its last retry the queue hands it to its dead-letter queue, whose
 * messages this handler also takes: it asks the message's repository to
 * send its documents again from the run the message came from, so a
 * dropped message costs a resend, not a page left behind. A message, or a
 * document, that is not one can never succeed: it is logged and dropped,
 * the message's other documents written.
 */
import { RepositoryBucket } from "../storage/repository-bucket.ts";
import { purgeCached } from "../storage/edge-cache.ts";
import { repositoryStub } from "../repository-stub.ts";
import {
  DEAD_LETTERS_QUEUE,
  documentProblem,
  messageProblem,
  type SiteDocument,
  type SiteDocumentsMessage,
} from "./site-document-messages.ts";
import { siteTargetName } from "./site-status.ts";

/** Documents written at once (a Worker invocation keeps six connections open). */
const WRITE_CONCURRENCY = 6;

/**
 * How long a message waits before its next attempt, after `attempts`: 30 s,
 * doubling, at most an hour, so the 10 retries wrangler.toml allows span
 * about four hours of an R2 outage before the queue drops the message.
 */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 3_600);
}

async function write(bucket: RepositoryBucket, logSize: number, document: SiteDocument): Promise<void> {
  const name = siteTargetName(document.path);
  const outcome = await bucket.putSiteIfNewer(name, document.bytes, logSize, document.existed);
  // A document written for the first time cannot be cached: a miss never is (src/http/edge-cache.ts).
  if (outcome === "written" && document.existed) await purgeCached(bucket.siteKey(name)).catch(() => undefined);
}

/** Runs `task` on each of `items`, at most `concurrency` at once; the number that threw. */
async function eachLimited<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item).catch((error: unknown) => {
        failed++;
        console.error("site-documents queue: a document not written:", error);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return failed;
}

async function consume(bucket: R2Bucket, message: Message<unknown>): Promise<void> {
  const problem = messageProblem(message.body);
  if (problem) {
    console.error(`site-documents queue: message ${message.id} dropped, ${problem}`);
    message.ack();
    return;
  }
  const { repo, logSize, documents } = message.body as SiteDocumentsMessage;
  const valid = documents.filter((document: unknown) => {
    const why = documentProblem(document);
    if (why) console.error(`site-documents queue: message ${message.id}: a document dropped, ${why}`);
    return why === null;
  });
  const repository = new RepositoryBucket(bucket, repo);
  const failed = await eachLimited(valid, WRITE_CONCURRENCY, (document) => write(repository, logSize, document));
  if (failed === 0) message.ack();
  else {
    const delaySeconds = retryDelaySeconds(message.attempts);
    console.error(
      `site-documents queue: message ${message.id} (attempt ${message.attempts}): ${failed} not written, retried in ${delaySeconds} s`,
    );
    message.retry({ delaySeconds });
  }
}

/**
 * The site-documents queue's dead letters: messages whose documents were
 * not all written after every retry. Each repository named is asked to send
 * its documents again from the earliest run a dead letter came from, once
 * per batch; the consumer keeps the newer documents that were written since.
 */
async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const earliest = new Map<string, { from: number; messages: Message<unknown>[] }>();
  for (const message of batch.messages) {
    const problem = messageProblem(message.body);
    if (problem) {
      console.error(`site-documents dead letters: message ${message.id} dropped, ${problem}`);
      message.ack();
      continue;
    }
    const { repo, from } = message.body as SiteDocumentsMessage;
    const seen = earliest.get(repo) ?? { from, messages: [] };
    seen.from = Math.min(seen.from, from);
    seen.messages.push(message);
    earliest.set(repo, seen);
  }
  for (const [repo, { from, messages }] of earliest) {
    try {
      const answer = await repositoryStub(env, repo).resendPages(from, "dropped");
      if (!answer.ok) console.error(`site-documents dead letters: ${repo} cannot resend: ${answer.detail}`);
      for (const message of messages) message.ack();
    } catch (error) {
      console.error(`site-documents dead letters: ${repo} not asked to resend from ${from}:`, error);
      for (const message of messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

/** The Worker's `queue` handler: the site-documents queue's messages one after another, or its dead letters. */
export async function consumeSiteDocuments(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTERS_QUEUE) return consumeDeadLetters(batch, env);
  for (const message of batch.messages) await consume(env.BUCKET, message);
}
