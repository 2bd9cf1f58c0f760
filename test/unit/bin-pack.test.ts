import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  binFile,
  encodePack,
  encodeStepPack,
  locateInPack,
  PACK_SLOTS,
  STEP_PACK_BINS,
  STEP_PACK_BYTES,
  sliceOf,
  stepPackGroups,
} from "../../src/storage/bin-pack.ts";

const bytesOf = (text: string) => new TextEncoder().encode(text);

describe("bin packs", () => {
  it("reads a top-level bin's version, index and name width from its file name, and nothing else", () => {
    expect(binFile("7.bins-3a.json")).toEqual({ version: 7, index: 0x3a, width: 2 });
    expect(binFile("12.bins-0fff.json")).toEqual({ version: 12, index: 0xfff, width: 4 });
    for (const other of [
      "7.targets.json",
      "7.snapshot.json",
      "timestamp.json",
      "7.team.bins-3a.json",
      "07.bins-3a.json",
      "7.bins-3A.json",
      "7.bins-12345.json",
      "7.bins-.json",
      "bins-3a.json",
    ]) {
      expect(binFile(other), other).toBeNull();
    }
  });

  it("finds every file of a pack at its own offset, byte for byte, whatever slots it holds", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 127 }),
        fc.uniqueArray(fc.nat({ max: PACK_SLOTS - 1 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 40, maxLength: 40 }),
        (slice, slots, texts) => {
          const files = slots.map((slot, i) => ({ index: slice * PACK_SLOTS + slot, bytes: bytesOf(texts[i] ?? "x") }));
          const { body, customMetadata } = encodePack(files, 4);
          for (const file of files) {
            const at = locateInPack(customMetadata, { version: 3, index: file.index, width: 4 });
            expect(at).not.toBeNull();
            if (!at) return;
            expect(body.slice(at.offset, at.offset + at.length)).toEqual(file.bytes);
          }
          for (let slot = 0; slot < PACK_SLOTS; slot++) {
            if (slots.includes(slot)) continue;
            expect(locateInPack(customMetadata, { version: 3, index: slice * PACK_SLOTS + slot, width: 4 })).toBeNull();
          }
        },
      ),
    );
  });

  it("finds every file of a step pack at its own offset, byte for byte, whatever bins of whatever slices it holds", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: 0xffff }), { minLength: 1, maxLength: STEP_PACK_BINS }),
        fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: STEP_PACK_BINS, maxLength: STEP_PACK_BINS }),
        fc.nat({ max: 0xffff }),
        (indexes, texts, other) => {
          const files = indexes.map((index, i) => ({ index, bytes: bytesOf(texts[i] ?? "x") }));
          const { body, customMetadata } = encodeStepPack(files, 4);
          // R2 allows 8 KB of custom metadata.
          expect(JSON.stringify(customMetadata).length).toBeLessThan(8_192);
          for (const file of files) {
            const at = locateInPack(customMetadata, { version: 3, index: file.index, width: 4 });
            expect(at).not.toBeNull();
            if (!at) return;
            expect(body.slice(at.offset, at.offset + at.length)).toEqual(file.bytes);
          }
          if (!indexes.includes(other))
            expect(locateInPack(customMetadata, { version: 3, index: other, width: 4 })).toBeNull();
          expect(locateInPack(customMetadata, { version: 3, index: indexes[0] ?? 0, width: 2 })).toBeNull();
        },
      ),
      { numRuns: 50 },
    );
  });

  it("keeps a full step pack's directory of the largest bins (files under 10 MB) within R2's metadata limit", () => {
    // The largest indexes (5 digits), and files of 10 bytes standing for files of 1,234,567 (5 digits more each).
    const files = Array.from({ length: STEP_PACK_BINS }, (_, i) => ({ index: 0xffff - i, bytes: new Uint8Array(10) }));
    const { customMetadata } = encodeStepPack(files, 4);
    const bytes = Object.entries(customMetadata).reduce((n, [k, v]) => n + k.length + v.length, 0);
    // R2 allows 8,192 bytes of custom metadata, keys and values.
    expect(bytes + STEP_PACK_BINS * "12345".length).toBeLessThanOrEqual(8_192);
  });

  it("refuses a step pack it could not read back: none, too many, one bin twice, an empty file, a bad index", () => {
    const one = (index: number, text = "{}") => ({ index, bytes: bytesOf(text) });
    expect(() => encodeStepPack([], 2)).toThrow(/at least one/);
    expect(() =>
      encodeStepPack(
        Array.from({ length: STEP_PACK_BINS + 1 }, (_, i) => one(i)),
        4,
      ),
    ).toThrow(/at most/);
    expect(() => encodeStepPack([one(5), one(900), one(5)], 4)).toThrow(/twice/);
    expect(() => encodeStepPack([one(5), one(6, "")], 4)).toThrow(/empty/);
    expect(() => encodeStepPack([one(-1)], 4)).toThrow(/not one/);
    // A directory that is not one is read as holding nothing.
    expect(locateInPack({ bins: "3:2,x:4", width: "2" }, { version: 2, index: 9, width: 2 })).toBeNull();
    expect(locateInPack({ bins: "3:0", width: "2" }, { version: 2, index: 3, width: 2 })).toBeNull();
  });

  it("does not read a bin under a name of another width (bins-3 is not bins-003)", () => {
    const { customMetadata } = encodePack([{ index: 3, bytes: bytesOf("{}") }], 3);
    expect(locateInPack(customMetadata, { version: 2, index: 3, width: 3 })).toEqual({ offset: 0, length: 2 });
    expect(locateInPack(customMetadata, { version: 2, index: 3, width: 1 })).toBeNull();
    expect(locateInPack(undefined, { version: 2, index: 3, width: 3 })).toBeNull();
    expect(locateInPack({ lengths: "2,-1,3", width: "3" }, { version: 2, index: 2, width: 3 })).toBeNull();
  });

  it("refuses a pack it could not read back: bins of two slices, one bin twice, an empty file", () => {
    expect(() => encodePack([], 2)).toThrow(/at least one/);
    expect(() =>
      encodePack(
        [
          { index: 1, bytes: bytesOf("a") },
          { index: PACK_SLOTS + 1, bytes: bytesOf("b") },
        ],
        3,
      ),
    ).toThrow(/not in slice 0/);
    expect(() =>
      encodePack(
        [
          { index: 1, bytes: bytesOf("a") },
          { index: 1, bytes: bytesOf("b") },
        ],
        3,
      ),
    ).toThrow(/twice/);
    expect(() => encodePack([{ index: 1, bytes: new Uint8Array() }], 3)).toThrow(/empty/);
    expect(sliceOf(PACK_SLOTS * 5 + 7)).toBe(5);
  });

  it("cuts bins into step packs from the front: at most `most` bins (and STEP_PACK_BINS) and STEP_PACK_BYTES each", () => {
    const bins = (lengths: number[]) => lengths.map((length, index) => ({ index, length }));
    const cut = (lengths: number[], most?: number) =>
      stepPackGroups(bins(lengths), most).map((group) => group.map((b) => b.index));
    expect(cut([])).toEqual([]);
    expect(cut([10, 10, 10, 10, 10], 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(stepPackGroups(bins(new Array(1_200).fill(1))).map((g) => g.length)).toEqual([512, 512, 176]);
    expect(stepPackGroups(bins(new Array(600).fill(1)), 4_096).map((g) => g.length)).toEqual([STEP_PACK_BINS, 88]);
    // By bytes: a pack is closed before the bin that would take it past STEP_PACK_BYTES; a larger bin goes alone.
    const half = STEP_PACK_BYTES / 2;
    expect(cut([half, half, 1, 2 * STEP_PACK_BYTES, 1])).toEqual([[0, 1], [2], [3], [4]]);
    // A bin with no file yet (length 0) counts as one byte.
    expect(cut([STEP_PACK_BYTES - 1, 0, 0])).toEqual([[0, 1], [2]]);
    expect(() => stepPackGroups(bins([1]), 0)).toThrow(RangeError);
  });

  it("cuts the bins after a pack as it cuts them all: a round resumed at a pack's end signs the same packs", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: STEP_PACK_BYTES }), { maxLength: 1_500 }),
        fc.integer({ min: 1, max: 600 }),
        (lengths, most) => {
          const all = stepPackGroups(
            lengths.map((length, index) => ({ index, length })),
            most,
          );
          for (let k = 1; k < all.length; k++) {
            const rest = all.slice(k).flat();
            expect(stepPackGroups(rest, most)).toEqual(all.slice(k));
          }
          for (const group of all) {
            expect(group.length).toBeLessThanOrEqual(Math.min(most, STEP_PACK_BINS));
            const bytes = group.reduce((n, b) => n + Math.max(1, b.length), 0);
            if (group.length > 1) expect(bytes).toBeLessThanOrEqual(STEP_PACK_BYTES);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
