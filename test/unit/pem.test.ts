import { describe, expect, it } from "vitest";
import { toHex } from "../../src/lib/bytes.ts";
import { derToPem, pemToDer } from "../../src/tuf/pem.ts";
import { SSLIB_ECDSA_P256_PUBLIC_PEM, SSLIB_ED25519_PUBLIC_PEM } from "./fixtures/vectors.ts";
import { defined } from "../../scripts/lib/defined.ts";

describe("pemToDer", () => {
  it("decodes securesystemslib's ed25519 SubjectPublicKeyInfo", () => {
    const der = pemToDer(SSLIB_ED25519_PUBLIC_PEM, "PUBLIC KEY");
    // SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (32 bytes) }
    expect(der).toHaveLength(44);
    expect(toHex(der.subarray(0, 12))).toBe("302a300506032b6570032100");
  });

  it("decodes a P-256 SubjectPublicKeyInfo", () => {
    const der = pemToDer(SSLIB_ECDSA_P256_PUBLIC_PEM, "PUBLIC KEY");
    expect(der).toHaveLength(91);
    // id-ecPublicKey, prime256v1, uncompressed point
    expect(toHex(der.subarray(0, 27))).toBe("3059301306072a8648ce3d020106082a8648ce3d03010703420004");
  });

  it("tolerates CRLF and surrounding text", () => {
    const crlf = `junk\r\n${SSLIB_ECDSA_P256_PUBLIC_PEM.replaceAll("\n", "\r\n")}trailer`;
    expect(pemToDer(crlf, "PUBLIC KEY")).toEqual(pemToDer(SSLIB_ECDSA_P256_PUBLIC_PEM, "PUBLIC KEY"));
  });

  it("rejects another label or a missing armour", () => {
    expect(() => pemToDer(SSLIB_ECDSA_P256_PUBLIC_PEM, "PRIVATE KEY")).toThrow(TypeError);
    expect(() => pemToDer("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", "PUBLIC KEY")).toThrow(TypeError);
    expect(() => pemToDer("-----BEGIN PUBLIC KEY-----\nAAAA\n", "PUBLIC KEY")).toThrow(TypeError);
  });
});

describe("derToPem", () => {
  it("reproduces byte for byte the PEM that pyca/cryptography writes (64-column lines, final newline)", () => {
    // securesystemslib tests/data/pems/ecdsa_public.pem was written by pyca/cryptography.
    expect(derToPem(pemToDer(SSLIB_ECDSA_P256_PUBLIC_PEM, "PUBLIC KEY"), "PUBLIC KEY")).toBe(
      SSLIB_ECDSA_P256_PUBLIC_PEM,
    );
    expect(derToPem(pemToDer(SSLIB_ED25519_PUBLIC_PEM, "PUBLIC KEY"), "PUBLIC KEY")).toBe(SSLIB_ED25519_PUBLIC_PEM);
  });

  it("wraps long bodies at 64 characters", () => {
    const pem = derToPem(
      Uint8Array.from({ length: 200 }, (_, i) => i),
      "CERTIFICATE",
    );
    const lines = pem.trimEnd().split("\n");
    expect(lines[0]).toBe("-----BEGIN CERTIFICATE-----");
    expect(lines.at(-1)).toBe("-----END CERTIFICATE-----");
    const body = lines.slice(1, -1);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(defined(body.at(-1)).length).toBeLessThanOrEqual(64);
    expect(pemToDer(pem, "CERTIFICATE")).toEqual(Uint8Array.from({ length: 200 }, (_, i) => i));
  });
});
