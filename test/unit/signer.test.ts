import { describe, expect, it } from "vitest";
import { fromHex, toHex, utf8 } from "../../src/lib/bytes.ts";
import { ed25519Key, keyId } from "../../src/tuf/key.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { verifySignature } from "../../src/tuf/verify.ts";
import { GENERATED_PUBLIC_KEYS, GENERATED_SEEDS } from "./fixtures/python-tuf.ts";
import { RFC8032 } from "./fixtures/vectors.ts";

describe("Ed25519Signer", () => {
  it.each(RFC8032)("derives the key and signs as RFC 8032 §7.1 $name", async (v) => {
    const signer = await Ed25519Signer.fromSeed(fromHex(v.secret));
    expect(signer.key).toEqual(ed25519Key(v.public));
    expect(signer.keyid).toBe(await keyId(ed25519Key(v.public)));
    expect(toHex(await signer.sign(fromHex(v.message)))).toBe(v.sig);
  });

  it("derives the public keys of python-tuf's generate_md.py seeds", async () => {
    for (const [i, seed] of GENERATED_SEEDS.entries()) {
      const signer = await Ed25519Signer.fromSeed(fromHex(seed));
      expect(signer.key.keyval.public).toBe(GENERATED_PUBLIC_KEYS[i]);
    }
  });

  it("rejects seeds that are not 32 bytes", async () => {
    await expect(Ed25519Signer.fromSeed(new Uint8Array(31))).rejects.toThrow(TypeError);
    await expect(Ed25519Signer.fromSeed(new Uint8Array(64))).rejects.toThrow(TypeError);
  });

  it("generate() returns a fresh signer and the seed that recreates it", async () => {
    const { signer, seed } = await Ed25519Signer.generate();
    const other = await Ed25519Signer.generate();
    expect(seed).toHaveLength(32);
    expect(other.signer.keyid).not.toBe(signer.keyid);
    const again = await Ed25519Signer.fromSeed(seed);
    expect(again.keyid).toBe(signer.keyid);
    const message = utf8("hello");
    const sig = await signer.sign(message);
    expect(sig).toHaveLength(64);
    expect(await verifySignature(signer.key, sig, message)).toBe(true);
    expect(await verifySignature(other.signer.key, sig, message)).toBe(false);
  });

  it("does not expose the seed", async () => {
    const signer = await Ed25519Signer.fromSeed(fromHex(RFC8032[0].secret));
    expect(JSON.stringify(signer)).not.toContain(RFC8032[0].secret);
    expect(Object.values(signer)).not.toContainEqual(fromHex(RFC8032[0].secret));
  });
});
