import { describe, expect, it } from "vitest";
import {
  DEFAULT_BIT_LENGTH,
  DEFAULT_NAME_PREFIX,
  HashBins,
  MAX_BIT_LENGTH,
  MIN_BIT_LENGTH,
} from "../../src/tuf/hash-bins.ts";

// Expected bins computed with python3, following python-tuf's
// SuccinctRoles.get_role_for_target (tuf/api/_payload.py, commit 4abccdcf):
// the first 4 bytes of sha256(path.encode("utf-8")) as a big-endian integer,
// shifted right by 32 - bit_length; names are f"{prefix}-{n:0{suffix_len}x}"
// with suffix_len = len(f"{2**bit_length - 1:x}") (= ceil(bit_length / 4)).
//
// python3 -c '
// import hashlib
// paths = ["target-0","target-1","target-5","file1.txt","a/b/c.tar.gz","packages/\u00e9lan/1.0.0.tgz",""]
// for bl in [1,4,5,8,10,14]:
//     sl = len(f"{2**bl-1:x}")
//     print(bl, [f"bins-{(int.from_bytes(hashlib.sha256(p.encode()).digest()[:4],"big") >> (32-bl)):0{sl}x}" for p in paths])'
const PATHS = ["target-0", "target-1", "target-5", "file1.txt", "a/b/c.tar.gz", "packages/\u00e9lan/1.0.0.tgz", ""];
const EXPECTED: Record<number, string[]> = {
  1: ["bins-1", "bins-0", "bins-0", "bins-0", "bins-0", "bins-1", "bins-1"],
  4: ["bins-8", "bins-7", "bins-1", "bins-5", "bins-7", "bins-a", "bins-e"],
  5: ["bins-11", "bins-0e", "bins-02", "bins-0a", "bins-0f", "bins-15", "bins-1c"],
  8: ["bins-8b", "bins-75", "bins-14", "bins-55", "bins-7a", "bins-ae", "bins-e3"],
  10: ["bins-22f", "bins-1d6", "bins-053", "bins-156", "bins-1e9", "bins-2bb", "bins-38e"],
  14: ["bins-22f2", "bins-1d68", "bins-0539", "bins-156b", "bins-1e9d", "bins-2bbd", "bins-38ec"],
};

describe("HashBins: target → bin (python3 / python-tuf definition)", () => {
  for (const [bits, names] of Object.entries(EXPECTED)) {
    it(`bit_length ${bits}`, async () => {
      const bins = new HashBins(Number(bits));
      const got = await Promise.all(PATHS.map((p) => bins.binFor(p)));
      expect(got).toEqual(names);
      const indexes = await Promise.all(PATHS.map((p) => bins.indexFor(p)));
      expect(indexes.map((i) => bins.name(i))).toEqual(names);
      for (const i of indexes) expect(i).toBeGreaterThanOrEqual(0);
    });
  }

  it("matches tuf-js's SuccinctRoles.getRoleForTarget vectors", async () => {
    // tuf-js packages/models/tests/succinct_roles.test.ts (commit 55ca08b1):
    // bit length 8, prefix "bin".
    const bins = new HashBins(8, "bin");
    const targets = ["target-0", "target-1", "target-2", "target-3", "target-4", "target-5"];
    const expected = ["bin-8b", "bin-75", "bin-b5", "bin-a3", "bin-8c", "bin-14"];
    expect(await Promise.all(targets.map((t) => bins.binFor(t)))).toEqual(expected);
  });

  it('treats the top bit of the digest as unsigned (sha256("") starts with 0xe3)', async () => {
    expect(await new HashBins(14).indexFor("")).toBe(0x38ec);
    expect(await new HashBins(1).indexFor("")).toBe(1);
  });
});

describe("HashBins: names", () => {
  it("pads to ceil(bit_length / 4) hex digits", () => {
    const cases: [number, number, string, string][] = [
      [1, 2, "bins-0", "bins-1"],
      [4, 16, "bins-0", "bins-f"],
      [5, 32, "bins-00", "bins-1f"],
      [8, 256, "bins-00", "bins-ff"],
      [10, 1024, "bins-000", "bins-3ff"],
      [14, 16384, "bins-0000", "bins-3fff"],
    ];
    for (const [bits, count, first, last] of cases) {
      const bins = new HashBins(bits);
      const names = bins.names();
      expect(bins.count).toBe(count);
      expect(names).toHaveLength(count);
      expect(names[0]).toBe(first);
      expect(names.at(-1)).toBe(last);
      expect(new Set(names).size).toBe(count);
    }
  });

  it("lists names in bin order and honours the prefix (python-tuf test_get_roles_in_succinct_roles style)", () => {
    const bins = new HashBins(5, "delegated_bin");
    for (const [i, name] of bins.names().entries()) {
      expect(name).toBe(`delegated_bin-${i.toString(16).padStart(2, "0")}`);
    }
    expect(bins.namePrefix).toBe("delegated_bin");
  });

  it("defaults to 256 bins named bins-xx", () => {
    const bins = new HashBins();
    expect(DEFAULT_BIT_LENGTH).toBe(8);
    expect(DEFAULT_NAME_PREFIX).toBe("bins");
    expect(bins.bitLength).toBe(8);
    expect(bins.count).toBe(256);
    expect(bins.name(0xab)).toBe("bins-ab");
  });
});

describe("HashBins: range errors", () => {
  it(`accepts bit lengths ${MIN_BIT_LENGTH} to ${MAX_BIT_LENGTH} only`, () => {
    expect(MIN_BIT_LENGTH).toBe(1);
    expect(MAX_BIT_LENGTH).toBe(14);
    for (const bits of [1, 14]) expect(new HashBins(bits).bitLength).toBe(bits);
    for (const bad of [0, -1, 15, 32, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new HashBins(bad), String(bad)).toThrow(RangeError);
    }
  });

  it("bitLengthFor: power-of-two counts only", () => {
    expect(HashBins.bitLengthFor(256)).toBe(8);
    expect(HashBins.bitLengthFor(2)).toBe(1);
    expect(HashBins.bitLengthFor(16384)).toBe(14);
    for (const bad of [0, 3, 100, 255, -4, 0.5 + 0.25]) {
      expect(() => HashBins.bitLengthFor(bad), String(bad)).toThrow(RangeError);
    }
  });
});

describe("HashBins.indexOf", () => {
  it("inverts name() for every bin", () => {
    for (const bits of [1, 4, 5, 10]) {
      const bins = new HashBins(bits, "bin");
      for (const [i, name] of bins.names().entries()) expect(bins.indexOf(name)).toBe(i);
    }
  });

  it("recognises python-tuf's delegated role names for bit_length 5", () => {
    // python-tuf tests/test_api.py test_is_delegated_role_in_succinct_roles
    // (the same lists are in tuf-js succinct_roles.test.ts #isDelegatedRole).
    const bins = new HashBins(5, "bin");
    for (const name of ["foo", "bin-", "bin-s", "bin-0t", "bin-20", "bin-100"])
      expect(bins.indexOf(name), name).toBe(-1);
    expect(["bin-00", "bin-0f", "bin-1f"].map((n) => bins.indexOf(n))).toEqual([0, 15, 31]);
  });

  it("rejects other prefixes, upper case and signs", () => {
    const bins = new HashBins(8, "bins");
    for (const name of ["bin-00", "bins_00", "Bins-00", "bins-0A", "bins-+1", "bins--1", "xbins-00", "bins-00 "]) {
      expect(bins.indexOf(name), name).toBe(-1);
    }
    expect(new HashBins(8, "a.b").indexOf("a.b-ff")).toBe(255);
  });
});
