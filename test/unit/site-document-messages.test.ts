/**
 * The site-documents queue's messages (src/pages/site-document-messages.ts):
 * documents packed into messages and sendBatch calls within the queue's
 * limits (a message 128 KB, a call 100 messages and 256 KB), in order; and
 * what the consumer refuses to write.
 */
import { describe, expect, it } from "vitest";
import {
  BATCH_BYTES,
  DOCUMENTS_PER_MESSAGE,
  documentProblem,
  estimatedSize,
  MESSAGE_BYTES,
  messageProblem,
  type SiteDocument,
  sendBatches,
} from "../../src/pages/site-document-messages.ts";

const document = (path: string, bytes: number): SiteDocument => ({
  path,
  existed: false,
  bytes: new Uint8Array(bytes),
});

describe("the documents' messages and sendBatch calls", () => {
  it("take at most 64 documents a message, one repository, run and log size each, in order", () => {
    const documents = Array.from({ length: 250 }, (_, i) => document(`p/${i}`, 40));
    const batches = sendBatches("demo", 44, 300, documents);
    expect(batches).toHaveLength(1);
    const messages = batches.flat();
    expect(messages.map((m) => m.documents.length)).toEqual([64, 64, 64, 58]);
    expect(messages.every((m) => m.repo === "demo" && m.from === 44 && m.logSize === 300)).toBe(true);
    expect(messages.flatMap((m) => m.documents)).toEqual(documents);
  });

  it("stay within a message's and a call's bytes with the longest paths and documents", () => {
    const documents = Array.from({ length: 256 }, (_, i) => document(`${"x".repeat(800)}${i}`, 6_000));
    const batches = sendBatches("demo", 0, 9, documents);
    for (const batch of batches) {
      const sizes = batch.map((m) => m.documents.reduce((n, d) => n + estimatedSize(d), 0));
      for (const size of sizes) expect(size).toBeLessThanOrEqual(MESSAGE_BYTES);
      expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BATCH_BYTES);
    }
    expect(MESSAGE_BYTES).toBeLessThan(128_000);
    expect(BATCH_BYTES).toBeLessThan(256_000);
    expect(batches.flat().flatMap((m) => m.documents)).toEqual(documents);
  });

  it("are none for no documents", () => {
    expect(sendBatches("demo", 0, 1, [])).toEqual([]);
  });
});

describe("what the consumer refuses", () => {
  const good = { repo: "demo", from: 3, logSize: 10, documents: [document("pkg/a-1.0.tgz", 10)] };

  it("a message, named with what is wrong", () => {
    expect(messageProblem(good)).toBeNull();
    expect(messageProblem("text")).toBe("not an object");
    expect(messageProblem({ ...good, repo: "Demo" })).toBe("no valid repository name");
    expect(messageProblem({ ...good, logSize: 1.5 })).toBe("no log size");
    expect(messageProblem({ ...good, from: 10 })).toBe("no first log entry below the log size");
    expect(messageProblem({ ...good, from: -1 })).toBe("no first log entry below the log size");
    expect(messageProblem({ ...good, documents: {} })).toBe("no documents");
    const many = Array.from({ length: DOCUMENTS_PER_MESSAGE + 1 }, () => good.documents[0]);
    expect(messageProblem({ ...good, documents: many })).toBe("more than 64 documents");
  });

  it("a document, named with what is wrong", () => {
    const ok = document("pkg/a-1.0.tgz", 10);
    expect(documentProblem(ok)).toBeNull();
    expect(documentProblem(null)).toBe("a document is not an object");
    expect(documentProblem({ ...ok, path: "a//b" })).toMatch(/segment/);
    expect(documentProblem({ ...ok, existed: "yes" })).toBe("a document has no existed flag");
    expect(documentProblem({ ...ok, bytes: [1, 2] })).toBe("a document has no bytes");
  });
});
