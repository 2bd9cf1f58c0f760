/**
 * The bench's summary of a heap snapshot (scripts/bench/heap-summary.ts):
 * self sizes summed by constructor for objects, by V8's kind for the rest.
 */
import { describe, expect, it } from "vitest";
import { type HeapSnapshotJson, heaviestAllocations, summarizeHeap } from "../../scripts/bench/heap-summary.ts";

// The shape V8 writes (node_fields and node_types as in a snapshot of workerd's isolate), with five nodes.
const TYPES = ["hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native", "synthetic"];
const snapshot = (nodes: number[][], strings: string[]): HeapSnapshotJson => ({
  snapshot: {
    meta: {
      node_fields: ["type", "name", "id", "self_size", "edge_count", "detachedness"],
      node_types: [TYPES, "string", "number", "number", "number", "number"],
    },
  },
  nodes: nodes.flat(),
  strings,
});

describe("summarizeHeap", () => {
  it("sums objects by constructor and the rest by kind, heaviest first", () => {
    const summary = summarizeHeap(
      snapshot(
        [
          [3, 0, 1, 40, 0, 0], // a Map
          [3, 0, 3, 40, 0, 0], // another Map
          [3, 1, 5, 24, 0, 0], // an Object
          [2, 2, 7, 100, 0, 0], // a string
          [4, 3, 9, 7, 0, 0], // code
        ],
        ["Map", "Object", "hello", "foo"],
      ),
    );
    expect(summary).toEqual({
      totalBytes: 211,
      nodes: 5,
      kinds: [
        { name: "(string)", count: 1, bytes: 100 },
        { name: "Map", count: 2, bytes: 80 },
        { name: "Object", count: 1, bytes: 24 },
        { name: "(code)", count: 1, bytes: 7 },
      ],
    });
  });

  it("keeps the heaviest `limit` kinds, and the totals of all", () => {
    const summary = summarizeHeap(
      snapshot(
        [
          [3, 0, 1, 40, 0, 0],
          [2, 1, 3, 10, 0, 0],
        ],
        ["Map", "x"],
      ),
      1,
    );
    expect(summary.kinds).toEqual([{ name: "Map", count: 1, bytes: 40 }]);
    expect(summary.totalBytes).toBe(50);
  });

  it("refuses a snapshot whose nodes lack a size", () => {
    const bad = snapshot([[3, 0, 1]], ["Map"]);
    bad.snapshot.meta.node_fields = ["type", "name", "id"];
    expect(() => summarizeHeap(bad)).toThrow(/self_size/);
  });
});

describe("heaviestAllocations", () => {
  const frame = (functionName: string, line = 0, url = "file:///bundle/index.js") => ({
    functionName,
    url,
    lineNumber: line,
  });
  it("sums each stack's own bytes under its innermost three frames, heaviest first", () => {
    const tree = {
      callFrame: frame("(root)", 0, ""),
      selfSize: 0,
      children: [
        {
          callFrame: frame("a"),
          selfSize: 10,
          children: [
            {
              callFrame: frame("b"),
              selfSize: 0,
              children: [
                {
                  callFrame: frame("c"),
                  selfSize: 0,
                  children: [{ callFrame: frame("d", 41), selfSize: 300, children: [] }],
                },
                { callFrame: frame("encode", 0, ""), selfSize: 500, children: [] },
              ],
            },
          ],
        },
      ],
    };
    expect(heaviestAllocations(tree)).toEqual({
      totalBytes: 810,
      sites: [
        { path: "a > b > encode", where: "", bytes: 500 },
        { path: "b > c > d", where: "index.js:42", bytes: 300 },
        { path: "a", where: "index.js:1", bytes: 10 },
      ],
    });
  });
});
