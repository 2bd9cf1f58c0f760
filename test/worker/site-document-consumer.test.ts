/**
 * The site-documents queue's consumer (src/pages/site-document-consumer.ts)
 * against workerd's R2: the queue delivers at least once and in no set
 * order, so a document is written only over one read at a smaller log size,
 * whatever order, duplicates or races the messages come in; a message that
 * can never be written is dropped, not retried forever.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { consumeSiteDocuments, retryDelaySeconds } from "../../src/pages/site-document-consumer.ts";
import type { SiteDocumentsMessage } from "../../src/pages/site-document-messages.ts";
import type { TargetLogDocument } from "../../src/pages/site-status.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";

let ids = 0;

/** A message of `repo`'s document of `path` read at log size `logSize`, whose last entry is `logSize - 1`. */
function message(repo: string, path: string, logSize: number, existed = true): SiteDocumentsMessage {
  const entries = [{ index: logSize - 1, type: "target.add" }];
  const bytes = canonicalBytes({ path, entries } satisfies TargetLogDocument);
  return { repo, from: logSize - 1, logSize, documents: [{ path, existed, bytes }] };
}

/** Delivers `bodies` as one batch to the consumer; its acknowledgements and retries. */
async function deliver(...bodies: unknown[]) {
  const batch = createMessageBatch(
    "tuf-edge-site-documents",
    bodies.map((body) => ({ id: `m${++ids}`, timestamp: Date.now(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await consumeSiteDocuments(batch, env);
  const result = await getQueueResult(batch, ctx);
  return { acked: result.explicitAcks.length, retried: result.retryMessages.length };
}

/** The last entry's index in the stored document, and the log size it records. */
async function stored(repo: string, path: string) {
  const object = await env.BUCKET.get(`${repo}/site/targets/${path}`);
  if (!object) return null;
  const document = (await object.json()) as TargetLogDocument;
  return { last: document.entries.at(-1)?.index, logSize: object.customMetadata?.logSize };
}

describe("the site-documents consumer", () => {
  it("writes a new document, then a newer one over it", async () => {
    const repo = "consumer-order";
    expect(await deliver(message(repo, "a.tgz", 5, false))).toEqual({ acked: 1, retried: 0 });
    expect(await stored(repo, "a.tgz")).toEqual({ last: 4, logSize: "5" });
    expect(await deliver(message(repo, "a.tgz", 9))).toEqual({ acked: 1, retried: 0 });
    expect(await stored(repo, "a.tgz")).toEqual({ last: 8, logSize: "9" });
  });

  it("never puts an older document over a newer one, nor rewrites one read at the same size", async () => {
    const repo = "consumer-late";
    await deliver(message(repo, "b.tgz", 20));
    const before = await env.BUCKET.head(`${repo}/site/targets/b.tgz`);
    // A retried message from an earlier run, one marked new that is not, and a duplicate: all acknowledged.
    expect(await deliver(message(repo, "b.tgz", 12), message(repo, "b.tgz", 3, false))).toEqual({
      acked: 2,
      retried: 0,
    });
    await deliver(message(repo, "b.tgz", 20));
    expect(await stored(repo, "b.tgz")).toEqual({ last: 19, logSize: "20" });
    expect((await env.BUCKET.head(`${repo}/site/targets/b.tgz`))?.etag).toBe(before?.etag);
  });

  it("keeps the newest of racing writes of one document, in either order", async () => {
    const repo = "consumer-race";
    for (const sizes of [
      [30, 31, 29, 40, 35],
      [40, 35, 30, 31, 29],
    ]) {
      const path = `race/${sizes[0]}.tgz`;
      // Each in its own invocation, as the queue's concurrent consumers would be.
      await Promise.all(sizes.map((size) => deliver(message(repo, path, size, size === sizes[0]))));
      expect(await stored(repo, path)).toEqual({ last: 39, logSize: "40" });
    }
  });

  it("replaces a document written before documents carried their log size", async () => {
    const repo = "consumer-legacy";
    await env.BUCKET.put(`${repo}/site/targets/c.tgz`, canonicalBytes({ path: "c.tgz", entries: [] }));
    await deliver(message(repo, "c.tgz", 2));
    expect(await stored(repo, "c.tgz")).toEqual({ last: 1, logSize: "2" });
  });

  it("drops a message or a document that can never be written, and writes the rest", async () => {
    const repo = "consumer-hostile";
    const [doc] = message(repo, "d.tgz", 4).documents;
    const hostile = [
      null,
      { ...message(repo, "d.tgz", 4), repo: "../other" },
      { ...message(repo, "d.tgz", 4), logSize: 0 },
      { ...message(repo, "d.tgz", 4), documents: "none" },
    ];
    const mixed = {
      repo,
      from: 0,
      logSize: 7,
      documents: [
        { ...doc, path: "../escape" },
        { ...doc, bytes: "not bytes" },
        ...message(repo, "e.tgz", 7).documents,
      ],
    };
    expect(await deliver(...hostile, mixed)).toEqual({ acked: 5, retried: 0 });
    expect(await env.BUCKET.list({ prefix: `${repo}/` }).then((l) => l.objects.map((o) => o.key))).toEqual([
      `${repo}/site/targets/e.tgz`,
    ]);
  });

  it("writes every document of a message, the new and the rewritten", async () => {
    const repo = "consumer-many";
    await deliver(message(repo, "pkg/0.tgz", 3));
    const documents = Array.from({ length: 64 }, (_, i) => message(repo, `pkg/${i}.tgz`, 50, i > 0).documents[0]);
    expect(await deliver({ repo, from: 0, logSize: 50, documents })).toEqual({ acked: 1, retried: 0 });
    const stored64 = await Promise.all(documents.map((d) => stored(repo, d?.path ?? "")));
    expect(stored64.every((s) => s?.logSize === "50" && s.last === 49)).toBe(true);
  });
});

describe("a message whose documents were not all written", () => {
  it("is retried 30 s later, then each time twice as late, at most an hour: about four hours over ten retries", () => {
    const delays = Array.from({ length: 10 }, (_, i) => retryDelaySeconds(i + 1));
    expect(delays).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    expect(delays.reduce((a, b) => a + b, 0) / 3600).toBeCloseTo(4.06, 2);
  });
});
