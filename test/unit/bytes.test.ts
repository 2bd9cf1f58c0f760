import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bytesEqual,
  concatBytes,
  fromBase64,
  fromCanonicalBase64,
  fromHex,
  fromUtf8,
  readUint32,
  readUint64,
  timingSafeEqual,
  toBase64,
  toHex,
  utf8,
  utf8Around,
  utf8Length,
  writeUint32,
  writeUint64,
} from "../../src/lib/bytes.ts";
import { sha256, sha256Hex, sha512 } from "../../src/lib/digest.ts";

describe("hex", () => {
  it("round-trips every byte value, lower case, two digits each", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    expect(hex).toHaveLength(512);
    expect(hex.slice(0, 8)).toBe("00010203");
    expect(hex.slice(-4)).toBe("feff");
    expect(fromHex(hex)).toEqual(all);
  });

  it("accepts upper case and the empty string", () => {
    expect(fromHex("DEADbeef")).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    expect(fromHex("")).toEqual(new Uint8Array());
  });

  it("rejects odd lengths and non-hex characters", () => {
    for (const bad of ["abc", "zz", "0x00", "00 ", "+1", "-1"]) {
      expect(() => fromHex(bad), bad).toThrow(TypeError);
    }
  });
});

describe("base64", () => {
  // RFC 4648 §10 test vectors.
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  it.each(vectors)("%j ↔ %j (RFC 4648 §10)", (plain, encoded) => {
    expect(toBase64(utf8(plain))).toBe(encoded);
    expect(fromUtf8(fromBase64(encoded))).toBe(plain);
  });

  it("round-trips binary bytes", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    expect(fromBase64(toBase64(all))).toEqual(all);
  });
});

describe("utf8", () => {
  it("encodes and decodes multi-byte characters", () => {
    expect(toHex(utf8("é中😀"))).toBe("c3a9e4b8adf09f9880");
    expect(fromUtf8(fromHex("c3a9e4b8adf09f9880"))).toBe("é中😀");
  });

  it("refuses invalid UTF-8 instead of substituting U+FFFD", () => {
    expect(() => fromUtf8(new Uint8Array([0xc3]))).toThrow(TypeError);
    expect(() => fromUtf8(new Uint8Array([0xff, 0xfe]))).toThrow(TypeError);
  });
});

describe("SHA digests", () => {
  // FIPS 180-2 Appendix B.1 / C.1 ("abc") and the digests of the empty string.
  it("sha256", async () => {
    expect(await sha256Hex(utf8("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex(utf8(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256(utf8("abc"))).toHaveLength(32);
  });

  it("sha512", async () => {
    expect(toHex(await sha512(utf8("abc")))).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
  });
});

describe("timingSafeEqual", () => {
  it("compares contents and lengths", () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([]), new Uint8Array([]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([0, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
  });
});

describe("shared byte helpers (one home for what src/log and src/tuf each had)", () => {
  it("concatenates and compares bytes", () => {
    const joined = concatBytes(new Uint8Array([1]), new Uint8Array(), new Uint8Array([2, 3]));
    expect(joined).toEqual(new Uint8Array([1, 2, 3]));
    expect(bytesEqual(joined, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(bytesEqual(joined, new Uint8Array([1, 2, 4]))).toBe(false);
    expect(bytesEqual(joined, new Uint8Array([1, 2]))).toBe(false);
  });

  it("decodes only canonical base64 strictly", () => {
    expect(fromCanonicalBase64("Zm8=")).toEqual(utf8("fo"));
    for (const bad of ["Zm8", "Zm9=", "Zm 8=", "Zm8=\n"]) expect(fromCanonicalBase64(bad), bad).toBeNull();
  });

  it("writes and reads big-endian integers", () => {
    expect(writeUint32(0x01020304)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(readUint32(new Uint8Array([9, 1, 2, 3, 4]), 1)).toBe(0x01020304);
    expect(readUint64(writeUint64(2 ** 40 + 5))).toBe(BigInt(2 ** 40 + 5));
  });
});

describe("UTF-8 around bytes", () => {
  // Any UTF-16 text, lone surrogates included (TextEncoder writes each as U+FFFD).
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom("\ud800", "\udfff", "\u{1F600}", "é", "\u0800"),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    ),
  });

  it("measures text as TextEncoder writes it", () => {
    fc.assert(fc.property(text, (t) => utf8Length(t) === new TextEncoder().encode(t).length));
    expect(utf8Length("a\ud800")).toBe(4);
    expect(utf8Length("\u{1F600}")).toBe(4);
  });

  it("writes the bytes between the two texts' UTF-8, in one array of their exact length", () => {
    fc.assert(
      fc.property(text, fc.uint8Array({ maxLength: 64 }), text, (before, middle, after) => {
        const out = utf8Around(before, middle, after);
        expect(out).toEqual(concatBytes(utf8(before), middle, utf8(after)));
        expect(out.buffer.byteLength).toBe(out.length);
      }),
    );
  });
});
