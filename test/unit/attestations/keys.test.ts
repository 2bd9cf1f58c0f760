/**
 * Key types Sigstore allows, checked against signatures WebCrypto and
 * @noble/curves make here: RSA PKCS#1 v1.5 and PSS (2048–4096 bits) over a
 * message and over its digest only (the RFC 8017 encodings in keys.ts),
 * ECDSA P-521, and refusals that name the algorithm. Also: a trusted root
 * may list a CA's certificates in any order.
 */
import { p521 } from "@noble/curves/nist.js";
import { describe, expect, it } from "vitest";
import { trustedRootFromJSON, verifyBundle } from "../../../src/attestations/index.ts";
import { type HashName, PublicKey, UnsupportedKeyError } from "../../../src/attestations/keys.ts";
import { utf8 } from "../../../src/lib/bytes.ts";
import { ARTIFACTS, CONFORMANCE, IDENTITIES, TRUSTED_ROOT } from "./material.ts";

// biome-ignore lint/suspicious/noExplicitAny: trusted roots are edited as plain JSON here
type J = any;

const message = utf8("tuf-edge attestation keys");

async function digest(hash: HashName, bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(hash, bytes));
}

async function rsaKey(name: "RSASSA-PKCS1-v1_5" | "RSA-PSS", bits: number, hash: HashName) {
  const pair = (await crypto.subtle.generateKey(
    { name, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  return { pair, key: PublicKey.fromSpki(spki) };
}

describe("RSA", () => {
  it("PKCS#1 v1.5 over the message and over its digest alone, 2048 and 3072 bits, SHA-256 and SHA-384", async () => {
    for (const [bits, hash] of [
      [2048, "SHA-256"],
      [3072, "SHA-384"],
    ] as const) {
      const { pair, key } = await rsaKey("RSASSA-PKCS1-v1_5", bits, hash);
      expect(key.name).toBe(`RSA-${bits}`);
      const signature = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, message));
      expect(await key.verify(message, signature, hash)).toBe(true);
      expect(await key.verifyDigest(await digest(hash, message), signature, hash)).toBe(true);
      const other = await digest(hash, utf8("another message"));
      expect(await key.verifyDigest(other, signature, hash)).toBe(false);
      signature[10] = (signature[10] ?? 0) ^ 1;
      expect(await key.verify(message, signature, hash)).toBe(false);
      expect(await key.verifyDigest(await digest(hash, message), signature, hash)).toBe(false);
    }
  });

  it("PSS over the message and over its digest alone, with the salt length the signer used", async () => {
    const { pair, key } = await rsaKey("RSA-PSS", 2048, "SHA-256");
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, pair.privateKey, message),
    );
    const pss = { scheme: "pss", saltLength: 32 } as const;
    expect(await key.verify(message, signature, "SHA-256", pss)).toBe(true);
    expect(await key.verifyDigest(await digest("SHA-256", message), signature, "SHA-256", pss)).toBe(true);
    expect(
      await key.verifyDigest(await digest("SHA-256", message), signature, "SHA-256", { scheme: "pss", saltLength: 20 }),
    ).toBe(false);
    expect(await key.verifyDigest(await digest("SHA-256", message), signature, "SHA-256")).toBe(false); // not PKCS#1
  });

  it("refuses moduli Sigstore does not list, naming the size", async () => {
    const small = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", small.publicKey)) as ArrayBuffer);
    expect(() => PublicKey.fromSpki(spki)).toThrow(UnsupportedKeyError);
    expect(() => PublicKey.fromSpki(spki)).toThrow(/RSA-1024/);
  });
});

describe("ECDSA P-521", () => {
  it("verifies over the message (SHA-512) and over a digest", async () => {
    const secret = p521.utils.randomSecretKey();
    const point = p521.getPublicKey(secret, false);
    // SubjectPublicKeyInfo: id-ecPublicKey, secp521r1, the uncompressed point.
    const spki = new Uint8Array([
      0x30,
      0x81,
      0x9b,
      0x30,
      0x10,
      0x06,
      0x07,
      0x2a,
      0x86,
      0x48,
      0xce,
      0x3d,
      0x02,
      0x01,
      0x06,
      0x05,
      0x2b,
      0x81,
      0x04,
      0x00,
      0x23,
      0x03,
      0x81,
      0x86,
      0x00,
      ...point,
    ]);
    const key = PublicKey.fromSpki(spki);
    expect(key.name).toBe("ECDSA P-521");
    const hashed = await digest("SHA-512", message);
    const signature = p521.sign(hashed, secret, { prehash: false, format: "der" });
    expect(await key.verify(message, signature)).toBe(true);
    expect(await key.verifyDigest(hashed, signature, "SHA-512")).toBe(true);
    expect(await key.verify(utf8("other"), signature)).toBe(false);
  });
});

describe("certificate authorities listed in any order", () => {
  it("verifies with the public-good CA chain reversed (root first), and says which issuer is missing when one is", async () => {
    const root: J = structuredClone(TRUSTED_ROOT);
    for (const ca of root.certificateAuthorities) ca.certChain.certificates.reverse();
    const expectation = { digest: { sha256: ARTIFACTS["a.txt"].sha256 }, identity: IDENTITIES.conformance };
    const verdict = await verifyBundle(CONFORMANCE["happy-path-v0.3"], trustedRootFromJSON(root), expectation);
    expect(verdict).toMatchObject({ ok: true });

    // Without the intermediate, the leaf's issuer is nowhere in the chain.
    for (const ca of root.certificateAuthorities) ca.certChain.certificates = ca.certChain.certificates.slice(0, 1); // the root only, after the reversal
    const missing = await verifyBundle(CONFORMANCE["happy-path-v0.3"], trustedRootFromJSON(root), expectation);
    expect(missing).toMatchObject({ ok: false, code: "chain" });
    expect(missing.ok ? "" : missing.detail).toMatch(/not issued by|issuer/);
  });
});
