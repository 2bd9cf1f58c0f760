import { describe, expect, it } from "vitest";
import { scannedInOrder } from "../../durable-objects/scan-order.ts";

const witness = (paths: string[]) => ({ witness_rows: paths.length, witness_paths: paths.join("\n") });

describe("scannedInOrder", () => {
  it("proves paths that ascend strictly, as SQLite orders them", () => {
    expect(scannedInOrder(witness(["a/1.tgz", "a/2.tgz", "b/1.tgz"]))).toBe(true);
    expect(scannedInOrder(witness(["only.tgz"]))).toBe(true);
    // By UTF-8 bytes: uppercase before lowercase, ASCII before Latin-1, BMP before astral.
    expect(scannedInOrder(witness(["Z.tgz", "a.tgz", "\u00fc.tgz", "\u4e2d.tgz", "\u{1F600}.tgz"]))).toBe(true);
    // A bin with no rows has no row either; a witness of none proves nothing wrong.
    expect(scannedInOrder({ witness_rows: 0, witness_paths: null })).toBe(true);
  });

  it("does not prove paths out of order, repeated, or that it cannot split or compare", () => {
    expect(scannedInOrder(witness(["a/2.tgz", "a/1.tgz"]))).toBe(false);
    expect(scannedInOrder(witness(["a", "b", "c", "b"]))).toBe(false);
    expect(scannedInOrder(witness(["a", "a"]))).toBe(false);
    // A path holding the separator: more pieces than rows, whatever their order.
    expect(scannedInOrder({ witness_rows: 2, witness_paths: "a\nb\nc" })).toBe(false);
    expect(scannedInOrder({ witness_rows: 2, witness_paths: null })).toBe(false);
    // U+E000–U+FFFF sorts below an astral character by UTF-16 code unit, above it by UTF-8 bytes.
    expect(scannedInOrder(witness(["\u{1F600}", "\uFB01"]))).toBe(false);
    expect(scannedInOrder(witness(["\uFB01", "\u{1F600}"]))).toBe(false);
  });
});
