/**
 * Property tests for src/log/merkle.ts with fast-check: random logs, every
 * proof between every pair of sizes verifies, and no corrupted proof does.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes } from "../../../src/lib/bytes.ts";
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MemoryTree,
  rootFromLeafHashes,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/log/merkle.ts";
import { computeTiles, subtreeHashesFromTiles, type Tile } from "../../../src/log/tiles.ts";
import { defined } from "../../../scripts/lib/defined.ts";

/** Entries made distinct by a 2-byte index prefix (equal leaves make some wrong-index proofs valid). */
const entries = (max: number) =>
  fc
    .array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: max, size: "max" })
    .map((list) => list.map((data, i) => concatBytes(new Uint8Array([i >> 8, i & 0xff]), data)));

async function build(
  list: readonly Uint8Array[],
): Promise<{ tree: MemoryTree; roots: Uint8Array[]; leaves: Uint8Array[] }> {
  const tree = new MemoryTree();
  const roots: Uint8Array[] = [await tree.root()];
  for (const e of list) {
    await tree.appendEntry(e);
    roots.push(await tree.root());
  }
  const leaves = await Promise.all(list.map(leafHash));
  return { tree, roots, leaves };
}

function flipByte(proof: readonly Uint8Array[], element: number, byte: number, bit: number): Uint8Array[] {
  const copy = proof.map((p) => p.slice());
  const flipped = defined(copy[element]);
  flipped[byte] = defined(flipped[byte]) ^ (1 << bit);
  return copy;
}

describe("Merkle proofs: properties", () => {
  it("every inclusion proof and every consistency proof between any two sizes verifies", async () => {
    await fc.assert(
      fc.asyncProperty(entries(40), async (list) => {
        const { tree, roots, leaves } = await build(list);
        expect(await rootFromLeafHashes(leaves)).toEqual(roots[list.length]);
        for (let size = 1; size <= list.length; size++) {
          for (let index = 0; index < size; index++) {
            const proof = await tree.inclusionProof(index, size);
            expect(
              await verifyInclusion(defined(leaves[index]), index, size, proof, defined(roots[size])),
              `${index} in ${size}`,
            ).toBe(true);
          }
          for (let size1 = 1; size1 <= size; size1++) {
            const proof = await tree.consistencyProof(size1, size);
            expect(
              await verifyConsistency(size1, size, proof, defined(roots[size1]), defined(roots[size])),
              `${size1} → ${size}`,
            ).toBe(true);
          }
        }
      }),
      { numRuns: 20 },
    );
  });

  it("an inclusion proof with one bit flipped, or for another index or size, does not verify", async () => {
    await fc.assert(
      fc.asyncProperty(
        entries(70).filter((l) => l.length >= 2),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.nat(31),
        fc.nat(7),
        async (list, a, b, e, byte, bit) => {
          const { tree, roots, leaves } = await build(list);
          const size = 1 + (a % list.length);
          const index = b % size;
          const proof = await tree.inclusionProof(index, size);
          const root = defined(roots[size]);
          const leaf = defined(leaves[index]);
          expect(await verifyInclusion(leaf, index, size, proof, root)).toBe(true);
          if (proof.length > 0) {
            expect(await verifyInclusion(leaf, index, size, flipByte(proof, e % proof.length, byte, bit), root)).toBe(
              false,
            );
          }
          expect(await verifyInclusion(defined(flipByte([leaf], 0, byte, bit)[0]), index, size, proof, root)).toBe(
            false,
          );
          expect(await verifyInclusion(leaf, index, size, proof, defined(flipByte([root], 0, byte, bit)[0]))).toBe(
            false,
          );
          // Another index in the same tree.
          if (size > 1) {
            const other = (index + 1 + (e % (size - 1))) % size;
            expect(await verifyInclusion(leaf, other, size, proof, root), `as index ${other}`).toBe(false);
          }
          // Another tree size (checked against that size's root, which a checkpoint would bind).
          const otherSize = 1 + ((size + (e % (list.length - 1))) % list.length);
          if (otherSize !== size && index < otherSize) {
            expect(
              await verifyInclusion(leaf, index, otherSize, proof, defined(roots[otherSize])),
              `as size ${otherSize}`,
            ).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a consistency proof with one bit flipped, or for other sizes, does not verify", async () => {
    await fc.assert(
      fc.asyncProperty(
        entries(70).filter((l) => l.length >= 2),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.nat(31),
        fc.nat(7),
        async (list, a, b, e, byte, bit) => {
          const { tree, roots } = await build(list);
          const size2 = 1 + (a % list.length);
          const size1 = 1 + (b % size2);
          const proof = await tree.consistencyProof(size1, size2);
          const [r1, r2] = [defined(roots[size1]), defined(roots[size2])];
          expect(await verifyConsistency(size1, size2, proof, r1, r2)).toBe(true);
          if (proof.length > 0) {
            expect(await verifyConsistency(size1, size2, flipByte(proof, e % proof.length, byte, bit), r1, r2)).toBe(
              false,
            );
          }
          expect(await verifyConsistency(size1, size2, proof, defined(flipByte([r1], 0, byte, bit)[0]), r2)).toBe(
            false,
          );
          expect(await verifyConsistency(size1, size2, proof, r1, defined(flipByte([r2], 0, byte, bit)[0]))).toBe(
            false,
          );
          const n = list.length;
          const other1 = 1 + ((size1 + (e % (n - 1))) % n);
          if (other1 !== size1 && other1 <= size2) {
            expect(await verifyConsistency(other1, size2, proof, defined(roots[other1]), r2), `from ${other1}`).toBe(
              false,
            );
          }
          const other2 = 1 + ((size2 + (e % (n - 1))) % n);
          if (other2 !== size2 && other2 >= size1) {
            expect(await verifyConsistency(size1, other2, proof, r1, defined(roots[other2])), `to ${other2}`).toBe(
              false,
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("proofs from stored tiles equal proofs from the whole tree", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1200 }), fc.nat(), fc.nat(), async (size, a, b) => {
        const leaves: Uint8Array[] = [];
        const tree = new MemoryTree();
        for (let i = 0; i < size; i++) {
          const leaf = await leafHash(new Uint8Array([i >> 8, i & 0xff, 7]));
          leaves.push(leaf);
          await tree.appendLeafHash(leaf);
        }
        const stored = new Map((await computeTiles(leaves)).map((t) => [t.path, t.data]));
        const fetched: string[] = [];
        const tiles = subtreeHashesFromTiles(size, (_tile: Tile, path: string) => {
          fetched.push(path);
          const data = stored.get(path);
          if (data === undefined) throw new Error(`no tile ${path}`);
          return data;
        });
        const index = a % size;
        expect(await inclusionProof(tiles, index, size)).toEqual(await tree.inclusionProof(index, size));
        const size1 = 1 + (b % size);
        expect(await consistencyProof(tiles, size1, size)).toEqual(await tree.consistencyProof(size1, size));
        expect(await rootHash(tiles, size)).toEqual(await tree.root());
        expect(new Set(fetched).size).toBe(fetched.length); // each tile fetched once per reader
      }),
      { numRuns: 25 },
    );
  });
});
