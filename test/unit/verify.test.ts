import { describe, expect, it } from "vitest";
import { fromHex, toHex, utf8 } from "../../src/lib/bytes.ts";
import { KeyError } from "../../src/tuf/errors.ts";
import { ecdsaP256Key, ed25519Key, type Key } from "../../src/tuf/key.ts";
import { derSignatureToRaw, rawSignatureToDer, verifySignature } from "../../src/tuf/verify.ts";
import { RFC8032, SSLIB_ECDSA_P256_PUBLIC_PEM, SSLIB_VERIFY } from "./fixtures/vectors.ts";
import { EcdsaP256Signer, rejection } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const DATA = utf8(SSLIB_VERIFY.message);
const NOT_DATA = utf8("NOT DATA");

function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = defined(copy[index]) ^ 0x01;
  return copy;
}

describe("verifySignature: ed25519", () => {
  it('accepts securesystemslib\'s ed25519 signature over "DATA" and nothing else', async () => {
    // securesystemslib tests/test_signer.py test_key_verify_signature.
    const key = ed25519Key(SSLIB_VERIFY.ed25519.public);
    const sig = fromHex(SSLIB_VERIFY.ed25519.sig);
    expect(await verifySignature(key, sig, DATA)).toBe(true);
    expect(await verifySignature(key, sig, NOT_DATA)).toBe(false);
    expect(await verifySignature(key, flipBit(sig, 0), DATA)).toBe(false);
    expect(await verifySignature(key, flipBit(sig, 63), DATA)).toBe(false);
  });

  it.each(RFC8032)("accepts RFC 8032 §7.1 $name", async (v) => {
    const key = ed25519Key(v.public);
    expect(await verifySignature(key, fromHex(v.sig), fromHex(v.message))).toBe(true);
    expect(await verifySignature(key, fromHex(v.sig), utf8("x"))).toBe(false);
    expect(await verifySignature(ed25519Key(SSLIB_VERIFY.ed25519.public), fromHex(v.sig), fromHex(v.message))).toBe(
      false,
    );
  });

  it("treats malformed signatures and keys as not verifying", async () => {
    const key = ed25519Key(SSLIB_VERIFY.ed25519.public);
    const sig = fromHex(SSLIB_VERIFY.ed25519.sig);
    expect(await verifySignature(key, sig.subarray(0, 63), DATA)).toBe(false);
    expect(await verifySignature(key, new Uint8Array(), DATA)).toBe(false);
    const badKeys: Key[] = [
      { keytype: "ed25519", scheme: "ed25519", keyval: { public: "zz" } },
      { keytype: "ed25519", scheme: "ed25519", keyval: { public: SSLIB_VERIFY.ed25519.public.slice(2) } },
      { keytype: "ed25519", scheme: "ed25519", keyval: { public: SSLIB_ECDSA_P256_PUBLIC_PEM } },
    ];
    for (const bad of badKeys) expect(await verifySignature(bad, sig, DATA)).toBe(false);
  });
});

describe("verifySignature: ecdsa-sha2-nistp256 (DER signatures)", () => {
  it('accepts securesystemslib\'s P-256 signatures over "DATA", under both keytype spellings', async () => {
    // securesystemslib tests/test_signer.py test_key_verify_signature: the same key
    // with keytype "ecdsa" and with the older keytype "ecdsa-sha2-nistp256".
    const modern = ecdsaP256Key(SSLIB_VERIFY.ecdsaP256.public);
    const legacy: Key = { ...modern, keytype: "ecdsa-sha2-nistp256" };
    for (const [key, hex] of [
      [modern, SSLIB_VERIFY.ecdsaP256.sigEcdsa],
      [legacy, SSLIB_VERIFY.ecdsaP256.sigLegacyKeytype],
      [modern, SSLIB_VERIFY.ecdsaP256.sigLegacyKeytype],
    ] as const) {
      expect(await verifySignature(key, fromHex(hex), DATA)).toBe(true);
      expect(await verifySignature(key, fromHex(hex), NOT_DATA)).toBe(false);
      expect(await verifySignature(key, flipBit(fromHex(hex), 40), DATA)).toBe(false);
    }
  });

  it("rejects a signature by another P-256 key", async () => {
    const other = ecdsaP256Key(SSLIB_ECDSA_P256_PUBLIC_PEM);
    expect(await verifySignature(other, fromHex(SSLIB_VERIFY.ecdsaP256.sigEcdsa), DATA)).toBe(false);
  });

  it("treats raw r||s, truncated DER and a broken PEM as not verifying", async () => {
    const key = ecdsaP256Key(SSLIB_VERIFY.ecdsaP256.public);
    const der = fromHex(SSLIB_VERIFY.ecdsaP256.sigEcdsa);
    expect(await verifySignature(key, derSignatureToRaw(der, 32), DATA)).toBe(false);
    expect(await verifySignature(key, der.subarray(0, der.length - 1), DATA)).toBe(false);
    expect(await verifySignature(key, new Uint8Array(), DATA)).toBe(false);
    const brokenPem = SSLIB_VERIFY.ecdsaP256.public.replace("MFkw", "MFkx");
    expect(await verifySignature(ecdsaP256Key(brokenPem), der, DATA)).toBe(false);
  });

  it("verifies what WebCrypto signs once converted to DER, including short r or s", async () => {
    const signer = await EcdsaP256Signer.generate();
    const message = utf8("tuf-edge");
    let sawShort = false;
    // About 1 in 128 signatures has an r or s below 2^248 (a shorter DER integer).
    for (let i = 0; i < 4000 && !sawShort; i++) {
      const raw = await signer.signRaw(message);
      const der = rawSignatureToDer(raw);
      expect(derSignatureToRaw(der, 32)).toEqual(raw);
      const short = raw[0] === 0 || raw[32] === 0;
      if (short || i < 3) {
        expect(await verifySignature(signer.key, der, message)).toBe(true);
        expect(await verifySignature(signer.key, der, utf8("tuf-edgf"))).toBe(false);
      }
      if (short) {
        sawShort = true;
        expect(der.length).toBeLessThan(72);
      }
    }
    expect(sawShort).toBe(true);
  });
});

describe("verifySignature: unsupported keys", () => {
  it("throws KeyError(unsupported_key) instead of answering", async () => {
    for (const key of [
      { keytype: "rsa", scheme: "rsassa-pss-sha256", keyval: { public: "x" } },
      { keytype: "ecdsa", scheme: "ecdsa-sha2-nistp384", keyval: { public: "x" } },
      { keytype: "ed448", scheme: "ed25519", keyval: { public: "x" } },
    ]) {
      const error = await rejection(verifySignature(key, new Uint8Array(64), DATA));
      expect(error).toBeInstanceOf(KeyError);
      expect(error).toMatchObject({ code: "unsupported_key" });
    }
  });
});

describe("derSignatureToRaw", () => {
  it("strips the sign byte of a 33-byte integer (securesystemslib vector)", () => {
    const raw = derSignatureToRaw(fromHex(SSLIB_VERIFY.ecdsaP256.sigEcdsa), 32);
    expect(toHex(raw)).toBe(
      "b3db1e5ca53226ee27f93a3b2f5e1534f4a4c51f872aa1b6efd0b37be27f4836" +
        "4f793f7ad7c25188ad55eb6a8a8d142f89b0b0090815de47d9a24389872b02e3",
    );
    const raw2 = derSignatureToRaw(fromHex(SSLIB_VERIFY.ecdsaP256.sigLegacyKeytype), 32);
    expect(toHex(raw2)).toBe(
      "7d0058b745b2259501204c2ba287ba3769ec2420e12463a325c59670c24df9b6" +
        "836ca63a1b870f755c1596711a003a505e72e25cb0970e823a331e044adc63ec",
    );
  });

  it("left-pads short integers with zeros", () => {
    const r31 = "7f".repeat(31);
    const der = fromHex(`3024021f${r31}020105`);
    expect(toHex(derSignatureToRaw(der, 32))).toBe(`00${r31}${"00".repeat(31)}05`);
    expect(toHex(derSignatureToRaw(fromHex("3006020100020100"), 32))).toBe("00".repeat(64));
  });

  it("accepts the long length form 0x81 (securesystemslib ecdsa-sha2-nistp521 vector, 66-byte halves)", () => {
    // securesystemslib tests/test_signer.py test_key_verify_signature, ecdsa-sha2-nistp521.
    const der = fromHex(
      "3081880242019c9621491de75e9b89c4956f6571840528923db953a0fdcf88f9c0221e8c181459af1d9f4e420ad7b971c5c429e457f1f67cfc968c655ea569c3185bfeb2bd943f024201bd2d51bee9ae0bbeb79c99c7bc1758dd256ce7caad9020fb2e2873efc80613826a45b96be25eab11dc521942b92af5820ddde08797d9d6ae236aa54036b41e1152",
    );
    const raw = derSignatureToRaw(der, 66);
    expect(raw).toHaveLength(132);
    expect(toHex(raw.subarray(0, 4))).toBe("019c9621");
    expect(toHex(raw.subarray(66, 70))).toBe("01bd2d51");
  });

  it("rejects malformed DER", () => {
    const good = SSLIB_VERIFY.ecdsaP256.sigEcdsa;
    const bad: [string, string][] = [
      ["empty", ""],
      ["not a SEQUENCE", `31${good.slice(2)}`],
      ["SEQUENCE length too long", `3046${good.slice(4)}`],
      ["SEQUENCE length too short", `3044${good.slice(4)}`],
      ["trailing byte", `3046${good.slice(4)}00`],
      ["r is not an INTEGER", `304503${good.slice(6)}`],
      ["only r", `3023022100${"ff".repeat(32)}`],
      ["zero-length integer", "30050200020100"],
      ["integer longer than the curve", `3027022201${"00".repeat(33)}020100`],
      ["truncated integer", "3006020500020100"],
      ["length form 0x82", `308200${good.slice(4)}`],
      // The shared DER reader (src/lib/der.ts) also refuses what the former local reader let through:
      ["non-minimal long length", `308145${good.slice(4)}`],
      ["high tag number", `3f${good.slice(2)}`],
    ];
    for (const [why, hex] of bad) {
      expect(() => derSignatureToRaw(fromHex(hex), 32), why).toThrow(TypeError);
    }
  });
});

describe("rawSignatureToDer", () => {
  it("inverts derSignatureToRaw on the securesystemslib vectors (minimal DER)", () => {
    for (const hex of [SSLIB_VERIFY.ecdsaP256.sigEcdsa, SSLIB_VERIFY.ecdsaP256.sigLegacyKeytype]) {
      expect(toHex(rawSignatureToDer(derSignatureToRaw(fromHex(hex), 32)))).toBe(hex);
    }
  });

  it("adds a 0x00 before a high bit, drops leading zeros, refuses r or s out of range", () => {
    const high = new Uint8Array(64).fill(0x80);
    expect(toHex(rawSignatureToDer(high))).toBe(`3046022100${"80".repeat(32)}022100${"80".repeat(32)}`);
    const short = new Uint8Array(64);
    short.set(fromHex("7f".repeat(31)), 1);
    short[63] = 5;
    expect(toHex(rawSignatureToDer(short))).toBe(`3024021f${"7f".repeat(31)}020105`);
    const leadingZeroHigh = new Uint8Array(64);
    leadingZeroHigh[1] = 0x80; // r = 0x0080…00: one zero dropped, one sign byte kept
    leadingZeroHigh[63] = 1;
    expect(toHex(rawSignatureToDer(leadingZeroHigh))).toBe(`3025022000${"80"}${"00".repeat(30)}020101`);
    // r = 0 (or ≥ the group order) is no signature; noble's encoder refuses it rather than encode it.
    expect(() => rawSignatureToDer(new Uint8Array(64))).toThrow(/out of range/);
  });
});
