import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../../src/lib/bytes.ts";
import { LogError } from "../../../src/log/errors.ts";
import {
  consistencyProof,
  consistencyProofRanges,
  EMPTY_ROOT_HEX,
  emptyRoot,
  inclusionProof,
  inclusionProofRanges,
  leafHash,
  MemoryTree,
  MerkleAccumulator,
  nodeHash,
  rootFromLeafHashes,
  rootHash,
  splitPoint,
  type SubtreeHashes,
  subtreesOfRange,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/log/merkle.ts";
import { rejection } from "../helpers.ts";
import {
  RFC6962_CONSISTENCY_PROOFS,
  RFC6962_INCLUSION_PROOFS,
  RFC6962_LEAF_INPUTS,
  RFC6962_NODE_HASHES,
  RFC6962_ROOTS,
} from "./fixtures.ts";
import { defined } from "../../../scripts/lib/defined.ts";

const hex = (hashes: readonly Uint8Array[]) => hashes.map(toHex);
const unhex = (hashes: readonly string[]) => hashes.map(fromHex);

async function rfcTree(): Promise<MemoryTree> {
  const tree = new MemoryTree();
  for (const input of RFC6962_LEAF_INPUTS) await tree.appendEntry(fromHex(input));
  return tree;
}

describe("RFC 6962 hashing: published vectors", () => {
  it("hashes the eight test leaves and every complete subtree as transparency-dev/merkle lists them", async () => {
    const tree = await rfcTree();
    for (const [level, row] of RFC6962_NODE_HASHES.entries()) {
      for (const [index, want] of row.entries()) {
        expect(toHex(tree.subtree(level, index)), `node (${level}, ${index})`).toBe(want);
      }
    }
    expect(toHex(await leafHash(fromHex("")))).toBe(defined(RFC6962_NODE_HASHES[0])[0]);
    expect(
      toHex(
        await nodeHash(
          fromHex(defined(defined(RFC6962_NODE_HASHES[0])[0])),
          fromHex(defined(defined(RFC6962_NODE_HASHES[0])[1])),
        ),
      ),
    ).toBe(defined(RFC6962_NODE_HASHES[1])[0]);
  });

  it("computes the root of every prefix, sizes 0 to 8", async () => {
    const tree = await rfcTree();
    const leaves = await Promise.all(RFC6962_LEAF_INPUTS.map((h) => leafHash(fromHex(h))));
    for (const [size, want] of RFC6962_ROOTS.entries()) {
      expect(toHex(await tree.root(size)), `size ${size}`).toBe(want);
      expect(toHex(await rootFromLeafHashes(leaves.slice(0, size))), `size ${size}`).toBe(want);
    }
    expect(toHex(await emptyRoot())).toBe(EMPTY_ROOT_HEX);
    expect(RFC6962_ROOTS[0]).toBe(EMPTY_ROOT_HEX);
  });

  it("generates exactly the published inclusion proofs, and they verify", async () => {
    const tree = await rfcTree();
    for (const { index, size, proof } of RFC6962_INCLUSION_PROOFS) {
      expect(hex(await tree.inclusionProof(index, size)), `${index} in ${size}`).toEqual(proof);
      const leaf = fromHex(defined(defined(RFC6962_NODE_HASHES[0])[index]));
      expect(await verifyInclusion(leaf, index, size, unhex(proof), fromHex(defined(RFC6962_ROOTS[size])))).toBe(true);
    }
  });

  it("generates exactly the published consistency proofs, and they verify", async () => {
    const tree = await rfcTree();
    for (const { size1, size2, proof } of RFC6962_CONSISTENCY_PROOFS) {
      expect(hex(await tree.consistencyProof(size1, size2)), `${size1} → ${size2}`).toEqual(proof);
      const ok = await verifyConsistency(
        size1,
        size2,
        unhex(proof),
        fromHex(defined(RFC6962_ROOTS[size1])),
        fromHex(defined(RFC6962_ROOTS[size2])),
      );
      expect(ok, `${size1} → ${size2}`).toBe(true);
    }
  });
});

describe("inclusion proofs: the mutations of transparency-dev/merkle's probes fail", () => {
  // The kinds of corrupted probe in transparency-dev/merkle testdata/inclusion (proofgen):
  // index ±1 / XOR 2, size ×2 / ÷2, wrong or empty root or leaf, extra or missing proof elements.
  const cases = RFC6962_INCLUSION_PROOFS.filter((c) => c.size > 1);
  it.each(cases.map((c) => [c.index, c.size, c] as const))("leaf %i in a tree of %i", async (_i, _s, c) => {
    const leaf = fromHex(defined(defined(RFC6962_NODE_HASHES[0])[c.index]));
    const root = fromHex(defined(RFC6962_ROOTS[c.size]));
    const proof = unhex(c.proof);
    const verify = (l: Uint8Array, index: number, size: number, p: Uint8Array[], r: Uint8Array) =>
      verifyInclusion(l, index, size, p, r);
    expect(await verify(leaf, c.index, c.size, proof, root)).toBe(true);
    const bad: [string, Promise<boolean>][] = [
      ["index + 1", verify(leaf, c.index + 1, c.size, proof, root)],
      ["index − 1", verify(leaf, c.index - 1, c.size, proof, root)],
      ["index XOR 2", verify(leaf, c.index ^ 2, c.size, proof, root)],
      ["size × 2", verify(leaf, c.index, c.size * 2, proof, root)],
      ["size ÷ 2", verify(leaf, c.index, Math.floor(c.size / 2), proof, root)],
      [
        "wrong leaf",
        verify(fromHex(defined(defined(RFC6962_NODE_HASHES[0])[(c.index + 1) % 8])), c.index, c.size, proof, root),
      ],
      ["short leaf", verify(leaf.slice(1), c.index, c.size, proof, root)],
      ["empty root", verify(leaf, c.index, c.size, proof, fromHex(EMPTY_ROOT_HEX))],
      ["root of another size", verify(leaf, c.index, c.size, proof, fromHex(defined(RFC6962_ROOTS[c.size - 1])))],
      ["leaf as root", verify(leaf, c.index, c.size, proof, leaf)],
      ["preceding garbage", verify(leaf, c.index, c.size, [new Uint8Array(32), ...proof], root)],
      ["trailing garbage", verify(leaf, c.index, c.size, [...proof, new Uint8Array(32)], root)],
      ["preceding root", verify(leaf, c.index, c.size, [root, ...proof], root)],
      ["trailing root", verify(leaf, c.index, c.size, [...proof, root], root)],
      ["truncated proof", verify(leaf, c.index, c.size, proof.slice(0, -1), root)],
      ["empty element", verify(leaf, c.index, c.size, [new Uint8Array(0), ...proof.slice(1)], root)],
      ["negative index", verify(leaf, -1, c.size, proof, root)],
      ["fractional size", verify(leaf, c.index, c.size + 0.5, proof, root)],
    ];
    for (let i = 0; i < proof.length; i++) {
      const flipped = proof.map((p) => p.slice());
      const element = defined(flipped[i]);
      element[4] = defined(element[4]) ^ 0x10;
      bad.push([`bit flipped in element ${i}`, verify(leaf, c.index, c.size, flipped, root)]);
    }
    for (const [what, result] of bad) expect(await result, what).toBe(false);
  });

  it("a single-leaf tree: the leaf is the root, the proof is empty", async () => {
    const leaf = fromHex(defined(defined(RFC6962_NODE_HASHES[0])[0]));
    expect(await verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    expect(await verifyInclusion(leaf, 0, 1, [leaf], leaf)).toBe(false);
    expect(await verifyInclusion(leaf, 1, 1, [], leaf)).toBe(false);
    expect(await verifyInclusion(leaf, 0, 0, [], leaf)).toBe(false);
    expect(await verifyInclusion(leaf, 0, 1, [], fromHex(EMPTY_ROOT_HEX))).toBe(false);
  });
});

describe("consistency proofs: edge cases and mutations", () => {
  const root = (n: number) => fromHex(defined(RFC6962_ROOTS[n]));

  it("equal sizes need an empty proof and equal roots; size 0 proves nothing; sizes may not shrink", async () => {
    expect(await verifyConsistency(3, 3, [], root(3), root(3))).toBe(true);
    expect(await verifyConsistency(3, 3, [], root(3), root(4))).toBe(false);
    expect(await verifyConsistency(3, 3, [root(3)], root(3), root(3))).toBe(false);
    expect(await verifyConsistency(0, 0, [], root(0), root(0))).toBe(true);
    expect(await verifyConsistency(0, 1, [], root(0), root(1))).toBe(false);
    expect(await verifyConsistency(0, 1, [root(0)], root(0), root(1))).toBe(false);
    expect(await verifyConsistency(2, 1, [], root(2), root(1))).toBe(false);
    expect(await verifyConsistency(1, 2, [], root(1), root(2))).toBe(false);
  });

  it.each(RFC6962_CONSISTENCY_PROOFS.filter((c) => c.size1 < c.size2).map((c) => [c.size1, c.size2, c] as const))(
    "%i → %i",
    async (_a, _b, c) => {
      const proof = unhex(c.proof);
      const v = (s1: number, s2: number, p: Uint8Array[], r1: Uint8Array, r2: Uint8Array) =>
        verifyConsistency(s1, s2, p, r1, r2);
      expect(await v(c.size1, c.size2, proof, root(c.size1), root(c.size2))).toBe(true);
      const bad: [string, Promise<boolean>][] = [
        ["swapped roots", v(c.size1, c.size2, proof, root(c.size2), root(c.size1))],
        ["wrong root1", v(c.size1, c.size2, proof, root(c.size1 - 1), root(c.size2))],
        ["wrong root2", v(c.size1, c.size2, proof, root(c.size1), root(c.size2 - 1))],
        ["size1 + 1", v(c.size1 + 1, c.size2, proof, root(c.size1), root(c.size2))],
        ["size1 − 1", v(c.size1 - 1, c.size2, proof, root(c.size1), root(c.size2))],
        ["size2 ÷ 2", v(c.size1, Math.floor(c.size2 / 2), proof, root(c.size1), root(c.size2))],
        ["size2 × 2", v(c.size1, c.size2 * 2, proof, root(c.size1), root(c.size2))],
        ["size1 XOR 2", v(c.size1 ^ 2, c.size2, proof, root(c.size1), root(c.size2))],
        ["empty proof", v(c.size1, c.size2, [], root(c.size1), root(c.size2))],
        ["truncated", v(c.size1, c.size2, proof.slice(0, -1), root(c.size1), root(c.size2))],
        ["preceding garbage", v(c.size1, c.size2, [new Uint8Array(32), ...proof], root(c.size1), root(c.size2))],
        ["trailing garbage", v(c.size1, c.size2, [...proof, new Uint8Array(32)], root(c.size1), root(c.size2))],
        ["preceding root1", v(c.size1, c.size2, [root(c.size1), ...proof], root(c.size1), root(c.size2))],
        ["trailing root2", v(c.size1, c.size2, [...proof, root(c.size2)], root(c.size1), root(c.size2))],
      ];
      for (let i = 0; i < proof.length; i++) {
        const flipped = proof.map((p) => p.slice());
        const element = defined(flipped[i]);
        element[31] = defined(element[31]) ^ 0x01;
        bad.push([`bit flipped in element ${i}`, v(c.size1, c.size2, flipped, root(c.size1), root(c.size2))]);
      }
      for (const [what, result] of bad) expect(await result, what).toBe(false);
    },
  );
});

describe("proof generation from complete subtrees", () => {
  it("asks only for complete subtrees inside the tree, O(log n) of them, for a million-entry log", async () => {
    // A stand-in store: every complete subtree "hash" is derived from its coordinates.
    const size = 1_000_000;
    const asked: string[] = [];
    const store: SubtreeHashes = {
      subtree(level, index) {
        expect((index + 1) * 2 ** level).toBeLessThanOrEqual(size);
        asked.push(`${level}/${index}`);
        const h = new Uint8Array(32);
        new DataView(h.buffer).setUint32(0, level);
        new DataView(h.buffer).setUint32(4, index);
        return h;
      },
    };
    for (const index of [0, 1, 499_999, 524_287, 524_288, 999_998, 999_999]) {
      asked.length = 0;
      const proof = await inclusionProof(store, index, size);
      expect(proof.length).toBeLessThanOrEqual(20);
      expect(asked.length).toBeLessThanOrEqual(40);
    }
    for (const [a, b] of [
      [1, size],
      [524_288, size],
      [999_999, size],
      [333_333, 777_777],
    ] as const) {
      asked.length = 0;
      const proof = await consistencyProof(store, a, b);
      expect(proof.length).toBeLessThanOrEqual(41);
      expect(asked.length).toBeLessThanOrEqual(41);
    }
    asked.length = 0;
    await rootHash(store, size);
    expect(asked).toHaveLength(7); // popcount(1_000_000) = 7
  });

  it("decomposes ranges into complete subtrees and refuses unaligned ranges", () => {
    expect(subtreesOfRange(0, 7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(subtreesOfRange(8, 13)).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(subtreesOfRange(5, 6)).toEqual([{ level: 0, index: 5 }]);
    for (const [a, b] of [
      [1, 3],
      [2, 5],
      [3, 3],
      [4, 2],
    ] as const) {
      expect(() => subtreesOfRange(a, b), `[${a}, ${b})`).toThrow(LogError);
    }
  });

  it("lists proof ranges as RFC 9162 PATH and PROOF define them", () => {
    // Tree of 7: leaf 4's audit path is f=[5,6), j=[6,7), k=[0,4).
    expect(inclusionProofRanges(4, 7)).toEqual([
      [5, 6],
      [6, 7],
      [0, 4],
    ]);
    // RFC 9162 §2.1.5 example: the proof between trees of 3 and 7 leaves is c, d, g, l.
    expect(consistencyProofRanges(3, 7)).toEqual([
      [2, 3],
      [3, 4],
      [0, 2],
      [4, 7],
    ]);
    // Between 4 and 7: just l (the old root is a complete subtree).
    expect(consistencyProofRanges(4, 7)).toEqual([[4, 7]]);
    // Between 6 and 7: i, j, k.
    expect(consistencyProofRanges(6, 7)).toEqual([
      [4, 6],
      [6, 7],
      [0, 4],
    ]);
    expect(consistencyProofRanges(5, 5)).toEqual([]);
  });

  it("refuses proofs that do not exist", async () => {
    const tree = await rfcTree();
    for (const p of [
      tree.inclusionProof(8, 8),
      tree.inclusionProof(0, 0),
      tree.inclusionProof(0, 9),
      tree.inclusionProof(-1, 8),
    ]) {
      expect(await rejection(p)).toBeInstanceOf(LogError);
    }
    for (const p of [tree.consistencyProof(0, 8), tree.consistencyProof(5, 4), tree.consistencyProof(3, 9)]) {
      expect(((await rejection(p)) as LogError).code).toBe("invalid_argument");
    }
    expect(() => tree.subtree(3, 1)).toThrow(LogError);
    expect(() => splitPoint(1)).toThrow(LogError);
    expect(splitPoint(2)).toBe(1);
    expect(splitPoint(8)).toBe(4);
    expect(splitPoint(9)).toBe(8);
  });

  it("a store answering with the wrong hash length is an error, not a bad proof", async () => {
    const store: SubtreeHashes = { subtree: () => new Uint8Array(31) };
    expect(((await rejection(inclusionProof(store, 0, 2))) as LogError).code).toBe("invalid_argument");
  });
});

describe("MerkleAccumulator", () => {
  it("reports every completed subtree and resumes from stored peaks", async () => {
    const acc = new MerkleAccumulator();
    const leaves = await Promise.all(RFC6962_LEAF_INPUTS.map((h) => leafHash(fromHex(h))));
    const completed: string[] = [];
    for (const leaf of leaves.slice(0, 5)) {
      for (const node of await acc.append(leaf))
        completed.push(`${node.level}/${node.index}=${toHex(node.hash).slice(0, 8)}`);
    }
    expect(completed).toEqual([
      "0/0=6e340b9c",
      "0/1=96a296d2",
      "1/0=fac54203",
      "0/2=0298d122",
      "0/3=07506a85",
      "1/1=5f083f0a",
      "2/0=d37ee418",
      "0/4=bc1a0643",
    ]);
    expect(toHex(await acc.root())).toBe(RFC6962_ROOTS[5]);
    expect(hex(acc.peaks())).toEqual([defined(RFC6962_NODE_HASHES[2])[0], defined(RFC6962_NODE_HASHES[0])[4]]);

    const resumed = new MerkleAccumulator(5, acc.peaks());
    for (const leaf of leaves.slice(5)) await resumed.append(leaf);
    expect(toHex(await resumed.root())).toBe(RFC6962_ROOTS[8]);

    const fromStore = await MerkleAccumulator.fromSubtrees(await rfcTree(), 7);
    expect(toHex(await fromStore.root())).toBe(RFC6962_ROOTS[7]);
    expect(() => new MerkleAccumulator(5, acc.peaks().slice(1))).toThrow(LogError);
    expect(toHex(await new MerkleAccumulator().root())).toBe(EMPTY_ROOT_HEX);
    expect(((await rejection(acc.append(new Uint8Array(5)))) as LogError).code).toBe("invalid_argument");
  });
});
