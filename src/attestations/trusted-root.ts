/**
 * Sigstore trust material: the `trusted_root.json` TUF target
 * (application/vnd.dev.sigstore.trustedroot+json;version=0.1, protobuf JSON)
 * plus, optionally, standalone signing keys that bundles name by hint (the
 * npm registry's attestation keys). Parse once and reuse: keys are imported
 * into WebCrypto on first use and kept.
 */
import { fromBase64 } from "../tuf/encoding.ts";
import { PublicKey } from "./keys.ts";
import { Certificate } from "./x509.ts";

export interface ValidityWindow {
  readonly start: Date;
  /** Open-ended when absent. */
  readonly end?: Date;
}

export interface TransparencyLog {
  readonly baseUrl: string;
  /** The host of baseUrl: the name a checkpoint signature line carries. */
  readonly origin: string;
  readonly logId: Uint8Array;
  readonly logIdBase64: string;
  readonly key: PublicKey;
  readonly validFor: ValidityWindow;
}

export interface CertificateAuthority {
  readonly uri: string;
  /** Issuing certificate first, root last (as the trusted root lists them). */
  readonly chain: readonly Certificate[];
  readonly validFor: ValidityWindow;
}

export interface TrustedKey {
  readonly hint: string;
  readonly key: PublicKey;
  readonly validFor: ValidityWindow;
}

export interface TrustedRoot {
  readonly tlogs: readonly TransparencyLog[];
  readonly ctlogs: readonly TransparencyLog[];
  readonly certificateAuthorities: readonly CertificateAuthority[];
  /** Keys that `verificationMaterial.publicKey.hint` may name. */
  readonly keys: ReadonlyMap<string, TrustedKey>;
}

export class TrustedRootError extends Error {
  override name = "TrustedRootError";
}

export const TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

export function within(window: ValidityWindow, time: Date): boolean {
  return (
    window.start.getTime() <= time.getTime() && (window.end === undefined || time.getTime() <= window.end.getTime())
  );
}

/**
 * Parses a trusted root. Instances whose key type is not supported here
 * (RSA, for instance) are left out rather than failing the whole root.
 */
export function trustedRootFromJSON(json: unknown, keys: readonly TrustedKey[] = []): TrustedRoot {
  const root = object(json, "trusted root");
  if (root.mediaType !== TRUSTED_ROOT_MEDIA_TYPE) {
    throw new TrustedRootError(`unsupported trusted root media type ${String(root.mediaType)}`);
  }
  const logs = (value: unknown, what: string): TransparencyLog[] =>
    array(value ?? [], what).flatMap((entry): TransparencyLog[] => {
      const log = object(entry, what);
      const publicKey = object(log.publicKey, `${what}.publicKey`);
      const key = tryKey(publicKey.rawBytes);
      if (!key) return [];
      const baseUrl = string(log.baseUrl, `${what}.baseUrl`);
      const logIdBase64 = string(object(log.logId, `${what}.logId`).keyId, `${what}.logId.keyId`);
      return [
        {
          baseUrl,
          origin: new URL(baseUrl).host,
          logId: fromBase64(logIdBase64),
          logIdBase64,
          key,
          validFor: validity(publicKey.validFor),
        },
      ];
    });
  const certificateAuthorities = array(root.certificateAuthorities ?? [], "certificateAuthorities").map((entry) => {
    const ca = object(entry, "certificateAuthority");
    const certificates = array(object(ca.certChain, "certChain").certificates, "certChain.certificates");
    if (certificates.length === 0) throw new TrustedRootError("empty certificate chain");
    return {
      uri: typeof ca.uri === "string" ? ca.uri : "",
      chain: certificates.map((c) =>
        Certificate.fromDer(fromBase64(string(object(c, "certificate").rawBytes, "rawBytes"))),
      ),
      validFor: validity(ca.validFor),
    };
  });
  return {
    tlogs: logs(root.tlogs, "tlogs"),
    ctlogs: logs(root.ctlogs, "ctlogs"),
    certificateAuthorities,
    keys: new Map(keys.map((k) => [k.hint, k])),
  };
}

/**
 * The npm registry's keys (registry.npmjs.org/-/npm/v1/keys, also the
 * `registry.npmjs.org/keys.json` target of the Sigstore TUF repository) that
 * may sign attestations (`keyUsage` "npm:attestations").
 */
export function npmAttestationKeys(json: unknown): TrustedKey[] {
  return array(object(json, "npm keys").keys, "keys").flatMap((entry): TrustedKey[] => {
    const k = object(entry, "key");
    if (k.keyUsage !== "npm:attestations") return [];
    const publicKey = object(k.publicKey, "publicKey");
    const key = tryKey(publicKey.rawBytes);
    return key ? [{ hint: string(k.keyId, "keyId"), key, validFor: validity(publicKey.validFor) }] : [];
  });
}

function tryKey(rawBytes: unknown): PublicKey | undefined {
  try {
    return PublicKey.fromSpki(fromBase64(string(rawBytes, "rawBytes")));
  } catch {
    return undefined;
  }
}

function validity(value: unknown): ValidityWindow {
  if (value === undefined) return { start: new Date(0) };
  const v = object(value, "validFor");
  const start = v.start === undefined ? new Date(0) : date(v.start);
  return v.end === undefined ? { start } : { start, end: date(v.end) };
}

function date(value: unknown): Date {
  const d = new Date(string(value, "timestamp"));
  if (Number.isNaN(d.getTime())) throw new TrustedRootError(`bad timestamp ${String(value)}`);
  return d;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TrustedRootError(`${what}: not an object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new TrustedRootError(`${what}: not an array`);
  return value;
}

function string(value: unknown, what: string): string {
  if (typeof value !== "string") throw new TrustedRootError(`${what}: not a string`);
  return value;
}
