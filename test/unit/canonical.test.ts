import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalBytes, sortsAlikeEverywhere } from "../../src/tuf/canonical.ts";
import { fromUtf8, toHex } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { GENERATED_ROOT } from "./fixtures/python-tuf.ts";
import { SIGSTORE_ROOT_15 } from "./fixtures/sigstore.ts";
import { canonicalByUtf8 } from "./helpers.ts";

const text = (value: unknown) => fromUtf8(canonicalBytes(value));

describe("canonicalBytes: published OLPC canonical JSON vectors", () => {
  // Source: secure-systems-lab/securesystemslib tests/test_formats.py,
  // test_encode_canonical (commit e3ccdc48fc980218bc5cca70cba6ced037c4dbc0); the
  // same list opens tuf-js packages/canonical-json/test/test.js (commit 55ca08b1).
  const vectors: [unknown, string][] = [
    ["", '""'],
    [[1, 2, 3], "[1,2,3]"],
    [[], "[]"],
    [{}, "{}"],
    [{ A: [99] }, '{"A":[99]}'],
    [{ A: true }, '{"A":true}'],
    [{ B: false }, '{"B":false}'],
    [{ y: 2, x: 3 }, '{"x":3,"y":2}'],
    [{ x: 3, y: null }, '{"x":3,"y":null}'],
    ['"', '"\\""'],
    ["\\", '"\\\\"'],
    ['\\"', '"\\\\\\""'],
  ];
  it.each(vectors)("encodes %j", (value, expected) => {
    expect(text(value)).toBe(expected);
  });

  it("leaves control characters unescaped (tuf-js canonical-json test: 'Newline handling')", () => {
    // Source: tuf-js packages/canonical-json/test/test.js: encode('foo\nbar') === '"foo\nbar"'.
    expect(text("foo\nbar")).toBe('"foo\nbar"');
    expect(text("a\tb\u0000c")).toBe('"a\tb\u0000c"');
  });

  it("encodes the combined object of tuf-js's canonical-json test", () => {
    // Source: tuf-js packages/canonical-json/test/test.js ("Combined").
    const obj = {
      truthy: true,
      falsy: false,
      nullish: null,
      number: 42,
      string: "foo",
      escape: '"foo"\\bar\nbaz',
      array: [1, 2, 3],
      object: { baz: "qux", foo: "bar" },
    };
    expect(text(obj)).toBe(
      '{"array":[1,2,3],"escape":"\\"foo\\"\\\\bar\nbaz","falsy":false,"nullish":null,"number":42,"object":{"baz":"qux","foo":"bar"},"string":"foo","truthy":true}',
    );
  });

  it("rejects what canonical JSON cannot represent (securesystemslib: floats; tuf-js: undefined, symbols, BigInt)", () => {
    for (const bad of [
      8.5,
      { x: 8.5 },
      Number.NaN,
      Number.POSITIVE_INFINITY,
      undefined,
      { a: undefined },
      [undefined],
    ]) {
      expect(() => canonicalBytes(bad), String(bad)).toThrow(TypeError);
    }
    expect(() => canonicalBytes(Symbol("x"))).toThrow(TypeError);
    expect(() => canonicalBytes(0n)).toThrow(TypeError);
  });
});

describe("canonicalBytes: computed independently with python3", () => {
  it("writes UTF-8 and sorts keys by code point (below U+D800)", () => {
    // python3 -c 'import json; print(json.dumps({"\u00e9":1,"z":2},sort_keys=True,separators=(",",":"),ensure_ascii=False).encode().hex())'
    // → 7b227a223a322c22c3a9223a317d   i.e. {"z":2,"é":1}
    expect(toHex(canonicalBytes({ "\u00e9": 1, z: 2 }))).toBe("7b227a223a322c22c3a9223a317d");
    // python3 -c 'print(sorted(["b","a","B","_","~","\u00e9","\u4e2d","aa",""]))'
    const keys = ["b", "a", "B", "_", "~", "\u00e9", "\u4e2d", "aa", ""];
    const sorted = ["", "B", "_", "a", "aa", "b", "~", "\u00e9", "\u4e2d"];
    const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
    expect(text(obj)).toBe(`{${sorted.map((k) => `${JSON.stringify(k)}:${keys.indexOf(k)}`).join(",")}}`);
  });

  it("hashes python-tuf's generated root exactly as python does", async () => {
    // python3 -c 'import hashlib,json; d=json.load(open("root_with_ed25519.json"))["signed"];
    //   print(hashlib.sha256(json.dumps(d,sort_keys=True,separators=(",",":")).encode()).hexdigest())'
    // (the file is ASCII without control characters, where json.dumps and OLPC agree)
    const signed = (JSON.parse(GENERATED_ROOT) as { signed: unknown }).signed;
    expect(canonicalBytes(signed).length).toBe(1327);
    expect(await sha256Hex(canonicalBytes(signed))).toBe(
      "99753b994a086ff23af51d667cd40a61aa9d0178a34c86b78effc803ef0a536f",
    );
  });

  it("hashes a Sigstore root (PEM strings with raw newlines) exactly as python does", async () => {
    // python3 -c 'import hashlib,json; d=json.load(open("15.root.json"))["signed"];
    //   print(hashlib.sha256(json.dumps(d,sort_keys=True,separators=(",",":")).replace("\\n","\n").encode()).hexdigest())'
    // (OLPC leaves "\n" raw where json.dumps escapes it, hence the replace)
    const signed = (JSON.parse(SIGSTORE_ROOT_15) as { signed: unknown }).signed;
    expect(canonicalBytes(signed).length).toBe(3722);
    expect(await sha256Hex(canonicalBytes(signed))).toBe(
      "aa5f5ce25e7701ccd06f2aab1b76d6ae89fb98bda9d7c55318149d665820af2c",
    );
  });
});

describe("canonicalBytes: behaviour", () => {
  it("does not depend on insertion order, at any depth", () => {
    const a = { b: { y: [3, { q: 1, p: 2 }], x: 1 }, a: "s" };
    const b = { a: "s", b: { x: 1, y: [3, { p: 2, q: 1 }] } };
    expect(text(a)).toBe(text(b));
    expect(text(a)).toBe('{"a":"s","b":{"x":1,"y":[3,{"p":2,"q":1}]}}');
  });

  it("keeps array order and writes integers plainly", () => {
    expect(text([3, 1, 2])).toBe("[3,1,2]");
    expect(text([0, -1, Number.MAX_SAFE_INTEGER])).toBe("[0,-1,9007199254740991]");
  });

  it('refuses keys that tuf-js and securesystemslib would sort differently ("\uFFFF" vs "\u{1F600}")', () => {
    // @tufjs/canonical-json sorts with Array.prototype.sort (UTF-16 code units), so an
    // astral character (surrogate 0xD83D…) sorts before U+FFFF. securesystemslib
    // (sorted(): code points) and go-securesystemslib (sort.Strings: UTF-8 bytes)
    // put U+FFFF first:
    // python3 -c 'print(json.dumps({"\uffff":1,"\U0001F600":2},sort_keys=True,separators=(",",":"),ensure_ascii=False).encode().hex())'
    // → 7b22efbfbf223a312c22f09f9880223a327d   ({"\uffff":1,"😀":2})
    // A signature over either order fails in the other clients, so neither is signed.
    for (const ambiguous of [
      { "\uffff": 1, "\u{1F600}": 2 },
      { a: { "x\ufb01": 1, "x\u{1F600}": 2 } },
      { list: [{ "\ue000": 1, "\u{10000}": 2 }] },
    ]) {
      expect(() => canonicalBytes(ambiguous)).toThrow(/sort differently by UTF-16 code unit and by code point/);
    }
    expect(canonicalByUtf8({ "\uffff": 1, "\u{1F600}": 2 })).toBe('{"\uffff":1,"😀":2}');
    // Either kind alone is one order everywhere.
    expect(text({ "\uffff": 1, "\ufb01": 2, a: 3 })).toBe(canonicalByUtf8({ "\uffff": 1, "\ufb01": 2, a: 3 }));
    expect(text({ "\u{1F600}": 1, "\ud7ff": 2, a: 3 })).toBe(canonicalByUtf8({ "\u{1F600}": 1, "\ud7ff": 2, a: 3 }));
  });

  it("refuses strings and keys that are not well-formed Unicode (UTF-8 would store U+FFFD)", () => {
    expect(() => canonicalBytes({ path: "a\ud800" })).toThrow(/not well-formed/);
    expect(() => canonicalBytes({ "k\udc00": 1 })).toThrow(/not well-formed/);
    expect(() => canonicalBytes(["\ud83d"])).toThrow(/not well-formed/);
  });

  it("property: keys without U+E000–U+FFFF sort alike by code unit and by code point, so every client signs the same bytes", () => {
    const key = fc.string({ unit: "grapheme", maxLength: 6 }).filter(sortsAlikeEverywhere);
    fc.assert(
      fc.property(fc.dictionary(key, fc.oneof(fc.integer(), fc.string()), { maxKeys: 12 }), (object) => {
        expect(text(object)).toBe(canonicalByUtf8(object));
      }),
      { numRuns: 2000 },
    );
  });
});
