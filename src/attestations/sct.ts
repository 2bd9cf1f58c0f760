/**
 * Signed certificate timestamps embedded in a Fulcio certificate (RFC 6962
 * §3.2–3.3): each is a CT log's signature over the precertificate, which is
 * the TBSCertificate without the SCT-list extension, bound to the issuer's
 * key hash. Like @sigstore/verify: every embedded SCT must verify against a
 * CT log of the trusted root valid at the SCT's time, and at least one is
 * required.
 */
import { sha256 } from "../lib/digest.ts";
import { concatBytes } from "../lib/bytes.ts";
import { encodeHeader, parseDer, TAG } from "../lib/der.ts";
import type { HashName } from "./keys.ts";
import { type TransparencyLog, within } from "./trusted-root.ts";
import { type Certificate, OID } from "./x509.ts";

export class SctError extends Error {
  override name = "SctError";
}

interface Sct {
  readonly logId: Uint8Array;
  readonly timestamp: bigint;
  readonly extensions: Uint8Array;
  readonly hash: HashName;
  readonly signature: Uint8Array;
}

/** Verifies the embedded SCTs of `leaf` (issued by `issuer`); returns how many verified. */
export async function verifyEmbeddedScts(
  leaf: Certificate,
  issuer: Certificate,
  ctlogs: readonly TransparencyLog[],
): Promise<number> {
  const ext = leaf.extension(OID.SCT_LIST);
  if (!ext) return 0;
  const list = parseDer(ext.value);
  if (list.tag !== TAG.OCTET_STRING) throw new SctError("SCT list is not an OCTET STRING");
  const scts = parseSctList(list.content);

  // The precertificate TBS: the same fields, with the SCT extension left out.
  const kept = leaf.extensions.filter((e) => e.oid !== OID.SCT_LIST).map((e) => e.element.bytes);
  const parts: Uint8Array[] = leaf.tbsPrefix.map((f) => f.bytes);
  if (kept.length > 0) {
    const extSeq = concatBytes(encodeHeader(TAG.SEQUENCE, sum(kept)), ...kept);
    parts.push(encodeHeader(0xa3, extSeq.length), extSeq);
  }
  const tbs = concatBytes(encodeHeader(TAG.SEQUENCE, sum(parts)), ...parts);
  const issuerKeyHash = await sha256(issuer.publicKey.spki);

  for (const sct of scts) {
    const log = ctlogs.find((l) => l.logId.length === sct.logId.length && l.logId.every((b, i) => b === sct.logId[i]));
    if (!log || !within(log.validFor, new Date(Number(sct.timestamp))))
      throw new SctError("SCT from an unknown CT log");
    const signed = concatBytes(
      new Uint8Array([0, 0]), // v1, certificate_timestamp
      uint(sct.timestamp, 8),
      new Uint8Array([0, 1]), // precert_entry
      issuerKeyHash,
      uint(BigInt(tbs.length), 3),
      tbs,
      uint(BigInt(sct.extensions.length), 2),
      sct.extensions,
    );
    if (!(await log.key.verify(signed, sct.signature, sct.hash))) throw new SctError("SCT signature does not verify");
  }
  return scts.length;
}

function parseSctList(bytes: Uint8Array): Sct[] {
  let offset = 0;
  const read = (n: number): Uint8Array => {
    if (offset + n > bytes.length) throw new SctError("truncated SCT list");
    const out = bytes.subarray(offset, offset + n);
    offset += n;
    return out;
  };
  const readUint = (n: number): number => read(n).reduce((acc, b) => acc * 256 + b, 0);
  const total = readUint(2);
  if (total !== bytes.length - 2) throw new SctError("SCT list length mismatch");
  const out: Sct[] = [];
  while (offset < bytes.length) {
    const length = readUint(2);
    const end = offset + length;
    if (readUint(1) !== 0) throw new SctError("unsupported SCT version");
    const logId = read(32);
    const timestamp = read(8).reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
    const extensions = read(readUint(2));
    const hashAlg = readUint(1);
    const sigAlg = readUint(1);
    const signature = read(readUint(2));
    if (offset !== end) throw new SctError("SCT length mismatch");
    if (sigAlg !== 1 && sigAlg !== 3) throw new SctError("only RSA and ECDSA SCTs are supported");
    const hash: HashName | undefined =
      hashAlg === 4 ? "SHA-256" : hashAlg === 5 ? "SHA-384" : hashAlg === 6 ? "SHA-512" : undefined;
    if (!hash) throw new SctError("unsupported SCT hash");
    out.push({ logId, timestamp, extensions, hash, signature });
  }
  return out;
}

function uint(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

function sum(parts: readonly Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.length, 0);
}
