/**
 * Sigstore trust material: the `trusted_root.json` TUF target
 * (application/vnd.dev.sigstore.trustedroot+json;version=0.1, protobuf JSON)
 * plus, optionally, standalone signing keys that bundles name by hint (the
 * npm registry's attestation keys). Parse once and reuse: keys are imported
 * into WebCrypto on first use and kept.
 */
import { z } from "zod";
import { fromBase64 } from "../lib/bytes.ts";
import { PublicKey } from "./keys.ts";
import { bytes, firstIssue, nonEmptyString, optional, repeated, timestamp } from "./protobuf-json.ts";
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
  /** RFC 3161 timestamp authorities: the signing certificate first, root last. */
  readonly timestampAuthorities: readonly CertificateAuthority[];
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

const ValidForJson = optional(z.object({ start: optional(timestamp), end: optional(timestamp) }));

const PublicKeyJson = z.object({
  rawBytes: optional(bytes),
  keyDetails: optional(z.string()),
  validFor: ValidForJson,
});

const LogJson = z.object({
  baseUrl: z.string(),
  hashAlgorithm: optional(z.string()),
  publicKey: PublicKeyJson,
  logId: z.object({ keyId: nonEmptyString }),
});

const AuthorityJson = z.object({
  uri: optional(z.string()),
  certChain: optional(z.object({ certificates: repeated(z.object({ rawBytes: bytes })) })),
  validFor: ValidForJson,
});

const TrustedRootJson = z.object({
  mediaType: z.string(),
  tlogs: repeated(LogJson),
  certificateAuthorities: repeated(AuthorityJson),
  ctlogs: repeated(LogJson),
  timestampAuthorities: repeated(AuthorityJson),
});

/**
 * Parses a trusted root. Instances this verifier cannot use (a key of an
 * unsupported type, a certificate that does not parse, a log key without a
 * validity start) are left out rather than failing the whole root: a
 * bundle that needs one of them is refused when it names it.
 */
export function trustedRootFromJSON(json: unknown, keys: readonly TrustedKey[] = []): TrustedRoot {
  const parsed = TrustedRootJson.safeParse(json);
  if (!parsed.success) throw new TrustedRootError(firstIssue(parsed.error, "trusted root"));
  const root = parsed.data;
  if (root.mediaType !== TRUSTED_ROOT_MEDIA_TYPE) {
    throw new TrustedRootError(`unsupported trusted root media type ${root.mediaType}`);
  }
  const logs = (entries: readonly z.output<typeof LogJson>[]): TransparencyLog[] =>
    entries.flatMap((log): TransparencyLog[] => {
      const key = tryKey(log.publicKey.rawBytes);
      // A log key's validity must say from when (protobuf-specs: start is required).
      const validFor = log.publicKey.validFor;
      if (!key || !validFor?.start) return [];
      let origin: string;
      try {
        origin = new URL(log.baseUrl).host;
      } catch {
        return [];
      }
      return [
        {
          baseUrl: log.baseUrl,
          origin,
          logId: fromBase64(log.logId.keyId),
          logIdBase64: log.logId.keyId,
          key,
          validFor: { start: validFor.start, ...(validFor.end ? { end: validFor.end } : {}) },
        },
      ];
    });
  const authorities = (entries: readonly z.output<typeof AuthorityJson>[]): CertificateAuthority[] =>
    entries.flatMap((ca): CertificateAuthority[] => {
      const certificates = ca.certChain?.certificates ?? [];
      if (certificates.length === 0) return [];
      try {
        return [
          {
            uri: ca.uri ?? "",
            chain: certificates.map((c) => Certificate.fromDer(c.rawBytes)),
            validFor: validity(ca.validFor),
          },
        ];
      } catch {
        return []; // a certificate this verifier cannot read: that authority is unusable, the rest is not
      }
    });
  return {
    tlogs: logs(root.tlogs),
    ctlogs: logs(root.ctlogs),
    certificateAuthorities: authorities(root.certificateAuthorities),
    timestampAuthorities: authorities(root.timestampAuthorities),
    keys: new Map(keys.map((k) => [k.hint, k])),
  };
}

const NpmKeysJson = z.object({
  keys: z.array(z.object({ keyId: nonEmptyString, keyUsage: optional(z.string()), publicKey: PublicKeyJson })),
});

/**
 * The npm registry's keys (registry.npmjs.org/-/npm/v1/keys, also the
 * `registry.npmjs.org/keys.json` target of the Sigstore TUF repository) that
 * may sign attestations (`keyUsage` "npm:attestations").
 */
export function npmAttestationKeys(json: unknown): TrustedKey[] {
  const parsed = NpmKeysJson.safeParse(json);
  if (!parsed.success) throw new TrustedRootError(firstIssue(parsed.error, "npm keys"));
  return parsed.data.keys.flatMap((k): TrustedKey[] => {
    if (k.keyUsage !== "npm:attestations") return [];
    const key = tryKey(k.publicKey.rawBytes);
    return key ? [{ hint: k.keyId, key, validFor: validity(k.publicKey.validFor) }] : [];
  });
}

function tryKey(rawBytes: Uint8Array | undefined): PublicKey | undefined {
  if (!rawBytes) return undefined;
  try {
    return PublicKey.fromSpki(rawBytes);
  } catch {
    return undefined;
  }
}

function validity(value: { start?: Date | undefined; end?: Date | undefined } | undefined): ValidityWindow {
  const start = value?.start ?? new Date(0);
  return value?.end ? { start, end: value.end } : { start };
}
