/**
 * The pages' target documents (durable-objects/site-documents.ts) follow
 * what was published, after the metadata and never in its way: an import's
 * thousands of documents are sent to the site-documents queue on the
 * object's own alarms once publishing is idle (no push, no cron tick
 * needed) and written by the queue's consumer (workerd's own queue here),
 * and a rewritten document is dropped from this location's edge cache. Until its document is written, a listed target's page
 * says its entries are not on the page yet. The status document, and the
 * operators' status call it is built from, name the root without its bytes.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { documentExisted, ENTRIES_PER_RUN } from "../../durable-objects/site-documents.ts";
import { consumeSiteDocuments } from "../../src/pages/site-document-consumer.ts";
import { DEAD_LETTERS_QUEUE } from "../../src/pages/site-document-messages.ts";
import type { SiteStatus, TargetLogDocument } from "../../src/pages/site-status.ts";
import { adminClient, BASE, bootstrapped, workerFetch } from "./helpers.ts";
import { target } from "./stored-state.ts";

/** The target's document in R2, or null. */
async function documentOf(repo: string, path: string): Promise<TargetLogDocument | null> {
  const object = await env.BUCKET.get(`${repo}/site/targets/${path}`);
  return object ? ((await object.json()) as TargetLogDocument) : null;
}

/** tuf_edge_site_documents_behind in the repository's metrics. */
async function behind(repo: string): Promise<number> {
  const response = await workerFetch(`${BASE}/${repo}/admin/metrics`, {
    headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
  });
  const match = /^tuf_edge_site_documents_behind\{[^}]*\} (\S+)$/m.exec(await response.text());
  if (!match) throw new Error("no tuf_edge_site_documents_behind in the metrics");
  return Number(match[1]);
}

/** Polls until `ready` holds (10 ms apart, at most `ms`); false if it never did. */
async function eventually(ready: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await ready()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return ready();
}

/** A new repository with `path` added, once the target's document is written; its registry client. */
async function withDocumentedTarget(repo: string, path: string) {
  const { client } = await bootstrapped(repo);
  await client.changeTargets({ add: [await target(path)] });
  expect(await eventually(async () => (await documentOf(repo, path)) !== null, 10_000)).toBe(true);
  return client;
}

describe("a target's document is new", () => {
  const at = (...indexes: number[]) => indexes.map((index) => ({ index, type: "target.add" }));

  it("when every one of its entries is at or after the run's first", () => {
    expect(documentExisted(at(7), 100, 7)).toBe(false);
    expect(documentExisted(at(7, 9), 100, 5)).toBe(false);
  });

  it("not when an entry is before it, or its entries fill the document (older ones may exist)", () => {
    expect(documentExisted(at(6, 9), 100, 7)).toBe(true);
    expect(documentExisted(at(...Array.from({ length: 3 }, (_, i) => 10 + i)), 3, 5)).toBe(true);
  });
});

describe("the pages' target documents", () => {
  it("of an import larger than one run all follow on their own, with no further publish or cron tick", {
    timeout: 60_000,
  }, async () => {
    const repo = "site-import";
    const { client } = await bootstrapped(repo);
    const add = await Promise.all(Array.from({ length: ENTRIES_PER_RUN * 2 + 50 }, (_, i) => target(`bulk/${i}.tgz`)));
    await client.changeTargets({ add });
    // Before the documents followed on their own, one run (ENTRIES_PER_RUN entries) followed each publish:
    // the last targets waited for the next push or the minute's cron tick.
    expect(await eventually(async () => (await behind(repo)) === 0, 30_000), `${await behind(repo)} behind`).toBe(true);
    // Every document is sent; the queue's consumer writes them, a message (64 documents) at a time.
    const missing = async () => {
      const documents = await Promise.all(add.map((t) => documentOf(repo, t.path)));
      return add.filter((_, i) => documents[i] === null).map((t) => t.path);
    };
    expect(await eventually(async () => (await missing()).length === 0, 15_000)).toBe(true);
    expect((await documentOf(repo, add.at(-1)?.path ?? ""))?.entries.map((e) => e.type)).toEqual(["target.add"]);
  });

  it("rewritten after a change is dropped from this location's edge cache: the page shows the change at once", async () => {
    const [repo, path] = ["site-rewrite", "pkg/rewritten-1.0.tgz"];
    const client = await withDocumentedTarget(repo, path);
    const pageOf = async () => (await workerFetch(`${BASE}/${repo}/-/target/${path}`)).text();
    // The page's read puts the document in the edge cache (and this isolate's copy).
    expect(await pageOf()).not.toContain("target.remove");

    await client.changeTargets({ remove: [path] });
    expect(
      await eventually(async () => (await documentOf(repo, path))?.entries.at(-1)?.type === "target.remove", 10_000),
    ).toBe(true);
    expect(await pageOf()).toContain("target.remove");
  });
});

describe("a target's page before its document", () => {
  it("says a listed target's entries are not on the page yet, not that none was published", async () => {
    const [repo, path] = ["site-lagging", "pkg/lagging-1.0.tgz"];
    await withDocumentedTarget(repo, path);
    // As while the documents follow an import: the target is listed, its document not written yet.
    await env.BUCKET.delete(`${repo}/site/targets/${path}`);

    const listed = await workerFetch(`${BASE}/${repo}/-/target/${path}`);
    expect(listed.status).toBe(200);
    const page = await listed.text();
    expect(page).toContain("None on this page yet. The pages follow the log after each publish");
    expect(page).not.toContain("None published yet.");

    const never = await workerFetch(`${BASE}/${repo}/-/target/pkg/never-1.0.tgz`);
    expect(never.status).toBe(404);
    expect(await never.text()).toContain("None published yet.");
  });
});

describe("the status document and the status call", () => {
  it("name the root by its version and expiry, not with its bytes", async () => {
    const repo = "site-status-root";
    await bootstrapped(repo);
    const status = await adminClient(repo).status();
    expect(status.roles.root).toEqual({ version: 1, expires: expect.any(String) });
    const object = await env.BUCKET.get(`${repo}/site/status.json`);
    const document = (await object?.json()) as SiteStatus;
    expect(document.roles.root).toEqual(status.roles.root);
  });
});

describe("resending the pages' documents", () => {
  const resend = (repo: string, query = "") =>
    workerFetch(`${BASE}/${repo}/admin/pages/resend${query}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });

  it("writes again the documents the pages lost, and never an older one over a newer one", async () => {
    const repo = "site-resend";
    const client = await withDocumentedTarget(repo, "pkg/kept-1.0.tgz");
    await client.changeTargets({ add: [await target("pkg/lost-1.0.tgz")] });
    expect(await eventually(async () => (await documentOf(repo, "pkg/lost-1.0.tgz")) !== null, 10_000)).toBe(true);
    // As if the queue had dropped its message: the document is gone, and the pages say so.
    await env.BUCKET.delete(`${repo}/site/targets/pkg/lost-1.0.tgz`);
    await client.changeTargets({ remove: ["pkg/kept-1.0.tgz"] });
    const removed = async () => (await documentOf(repo, "pkg/kept-1.0.tgz"))?.entries.at(-1)?.type === "target.remove";
    expect(await eventually(removed, 10_000)).toBe(true);

    const answer = await resend(repo);
    expect(answer.status).toBe(202);
    expect(await answer.json()).toEqual({ from: 0, behind: expect.any(Number) });
    expect(await eventually(async () => (await documentOf(repo, "pkg/lost-1.0.tgz")) !== null, 10_000)).toBe(true);
    expect(await eventually(async () => (await behind(repo)) === 0, 10_000)).toBe(true);
    expect(await removed()).toBe(true);
    const events = await adminClient(repo).events(5, "pages-resent");
    expect(events.events.map((e) => e.detail)).toEqual(["the pages' documents sent again from log entry 0"]);
  });

  it("moves back, never forward, and refuses what is not a log entry with nothing changed", async () => {
    const repo = "site-resend-bounds";
    await withDocumentedTarget(repo, "pkg/a-1.0.tgz");
    expect(await eventually(async () => (await behind(repo)) === 0, 10_000)).toBe(true);
    const forward = await resend(repo, "?from=1000000000");
    expect(forward.status).toBe(202);
    expect(await forward.json()).toMatchObject({ behind: 0 });

    for (const from of ["-1", "1.5", "x", "1e400"]) {
      const refused = await resend(repo, `?from=${from}`);
      expect(refused.status, from).toBe(400);
      expect(refused.headers.get("Content-Type")).toContain("application/problem+json");
      expect(JSON.stringify(await refused.json())).toContain("from is a log entry index");
    }
    expect(await behind(repo)).toBe(0);
    expect((await adminClient(repo).events(5, "pages-resent")).events).toHaveLength(1);
  });

  it("is refused before the repository is bootstrapped", async () => {
    const refused = await resend("site-resend-new");
    expect(refused.status).toBe(409);
  });
});

describe("the site-documents queue's dead letters", () => {
  /** Delivers `bodies` as the dead-letter queue would; how many were acknowledged and retried. */
  async function deadLetters(...bodies: unknown[]) {
    const batch = createMessageBatch(
      DEAD_LETTERS_QUEUE,
      bodies.map((body, i) => ({ id: `dead-${i}`, timestamp: Date.now(), attempts: 11, body })),
    );
    const ctx = createExecutionContext();
    await consumeSiteDocuments(batch, env);
    const result = await getQueueResult(batch, ctx);
    return { acked: result.explicitAcks.length, retried: result.retryMessages.length };
  }

  it("have their repository send its documents again from the run they came from", async () => {
    const repo = "site-dead-letter";
    await withDocumentedTarget(repo, "pkg/dropped-1.0.tgz");
    expect(await eventually(async () => (await behind(repo)) === 0, 10_000)).toBe(true);
    // The message that carried this document was dropped after its retries: the document never arrived.
    await env.BUCKET.delete(`${repo}/site/targets/pkg/dropped-1.0.tgz`);
    const dropped = { repo, from: 0, logSize: 5, documents: [] };
    // Two of one repository, one not bootstrapped, one that is not a message: all acknowledged.
    expect(await deadLetters(dropped, { ...dropped, from: 2 }, { ...dropped, repo: "site-dead-none" }, null)).toEqual({
      acked: 4,
      retried: 0,
    });
    expect(await eventually(async () => (await documentOf(repo, "pkg/dropped-1.0.tgz")) !== null, 10_000)).toBe(true);
    const events = await adminClient(repo).events(5, "pages-resent");
    expect(events.events.map((e) => e.detail)).toEqual([
      "the pages' documents sent again from log entry 0, the site-documents queue having dropped a message of theirs",
    ]);
  });
});
