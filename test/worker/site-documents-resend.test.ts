/**
 * A resend of the pages' documents (SiteDocuments.resendFrom) that arrives
 * while a run is under way takes effect after that run: the run, when it
 * ends, moves the cursor to where it stopped, so a rewind made in its
 * middle would be undone and the documents never sent again. The run is
 * held at its turn between two messages' worth of reads (turns.ts) with a
 * timer the test releases; the log is a small stand-in for the object's,
 * and the queue workerd's own, its sends counted.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../durable-objects/log-history.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { SiteDocuments } from "../../durable-objects/site-documents.ts";
import type { TransparencyLog } from "../../durable-objects/transparency-log.ts";
import { Turns } from "../../durable-objects/turns.ts";
import type { RepositoryStatus } from "../../src/repository-api.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";

const paths = Array.from({ length: 130 }, (_, i) => `race/${i}.tgz`);
/** How many of the entries are published. */
let size = 30;

/** A log whose published entries are each about a target of its own. */
const log = {
  checkpoint: { publishedSize: () => size, witnesses: () => [] },
  history: {
    pathsIn: (from: number, to: number) => paths.slice(from, to),
    entriesFor: (path: string): HistoryEntry[] => [{ index: paths.indexOf(path), type: "target.add" }],
    recentChanges: () => [],
  },
} as unknown as TransparencyLog;

describe("resending the pages' documents during a run", () => {
  it("takes effect after the run: every document is sent again, those before the run's first too", async () => {
    const repo = "site-resend-race";
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const held: Array<() => void> = [];
      const sent: number[] = [];
      const site = new SiteDocuments({
        kv: state.storage.kv,
        bucket: new RepositoryBucket(env.BUCKET, repo),
        log,
        status: async () =>
          ({
            repository: repo,
            targetsCount: size,
            bins: 16,
            roles: {},
            openCeremony: null,
            warnings: [],
            publishingBlocked: null,
          }) as unknown as RepositoryStatus,
        turns: new Turns((go) => held.push(go)),
        repo,
        queue: {
          sendBatch: (messages) => {
            sent.push(...[...messages].map((m) => m.body.documents.length));
            return env.SITE_DOCUMENTS.sendBatch(messages);
          },
        },
        continueSoon: async () => undefined,
      });
      const total = () => sent.reduce((a, b) => a + b, 0);
      // A first run sends the first 30 documents.
      await site.publishSoon();
      expect([total(), site.behind()]).toEqual([30, 0]);
      // The next run, of 100 more, is held after its first 64 documents' reads, before it sends anything.
      size = 130;
      const run = site.publishSoon();
      await expect.poll(() => held.length).toBe(1);
      const resent = site.resendFrom(0);
      held.shift()?.();
      await run;
      expect(total()).toBe(130);
      expect(await resent).toBe(0);
      // The resend's run reads its 130 documents in three slices: release its two turns.
      for (let turn = 0; turn < 2; turn++) {
        await expect.poll(() => held.length).toBe(1);
        held.shift()?.();
      }
      await expect.poll(total).toBe(130 + 130);
      await expect.poll(() => site.behind()).toBe(0);
    });
  });
});
