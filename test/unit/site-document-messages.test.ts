/**
 * The site-documents queue's messages (src/pages/site-document-messages.ts):
 * cut into sendBatch calls within the queue's limits (100 messages, 256 KB),
 * in order; and what the consumer refuses to write.
 */
import { describe, expect, it } from "vitest";
import {
  BATCH_BYTES,
  BATCH_MESSAGES,
  messageProblem,
  type SiteDocumentMessage,
  sendBatches,
} from "../../src/pages/site-document-messages.ts";

const message = (path: string, bytes: number): SiteDocumentMessage => ({
  repo: "demo",
  path,
  logSize: 10,
  existed: false,
  bytes: new Uint8Array(bytes),
});

describe("the documents' sendBatch calls", () => {
  it("take at most 100 messages each, in order", () => {
    const messages = Array.from({ length: 250 }, (_, i) => message(`p/${i}`, 40));
    const batches = sendBatches(messages);
    expect(batches.map((b) => b.length)).toEqual([BATCH_MESSAGES, BATCH_MESSAGES, 50]);
    expect(batches.flat()).toEqual(messages);
  });

  it("stay within the bytes a batch may carry, even with the longest paths and documents", () => {
    const path = "x".repeat(800);
    const messages = Array.from({ length: 100 }, (_, i) => message(`${path}${i}`, 6_000));
    const batches = sendBatches(messages);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      const size = batch.reduce((n, m) => n + m.bytes.byteLength + 2 * (m.path.length + m.repo.length), 0);
      expect(size).toBeLessThanOrEqual(BATCH_BYTES);
    }
    expect(BATCH_BYTES).toBeLessThan(256_000);
    expect(batches.flat()).toEqual(messages);
  });

  it("are none for no documents", () => {
    expect(sendBatches([])).toEqual([]);
  });
});

describe("a message the consumer refuses", () => {
  it("is named with what is wrong", () => {
    const good = message("pkg/a-1.0.tgz", 10);
    expect(messageProblem(good)).toBeNull();
    expect(messageProblem("text")).toBe("not an object");
    expect(messageProblem({ ...good, repo: "Demo" })).toBe("no valid repository name");
    expect(messageProblem({ ...good, path: "a//b" })).toMatch(/segment/);
    expect(messageProblem({ ...good, logSize: 1.5 })).toBe("no log size");
    expect(messageProblem({ ...good, existed: "yes" })).toBe("no existed flag");
    expect(messageProblem({ ...good, bytes: [1, 2] })).toBe("no document bytes");
  });
});
