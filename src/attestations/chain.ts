/**
 * Certificate path validation, for Fulcio signing certificates and RFC 3161
 * timestamping certificates: from the leaf to one of the trusted root's
 * authorities, every certificate valid at the signing time (the log's
 * integrated time or a verified timestamp: Fulcio leaves live ten minutes),
 * CA and name-chaining rules of RFC 5280, path-length limits, and no
 * critical extension we do not understand.
 *
 * The path is built from the authority's certificates by name, whatever the
 * order the trusted root lists them in. A bundle's own intermediate
 * certificates, if any, are ignored: the path comes from the trusted root.
 */
import { bytesEqual } from "../lib/bytes.ts";
import { type CertificateAuthority, type TrustedRoot, within } from "./trusted-root.ts";
import { type Certificate, OID } from "./x509.ts";

export class ChainError extends Error {
  override name = "ChainError";
}

const KEY_USAGE_DIGITAL_SIGNATURE = 0;
const KEY_USAGE_KEY_CERT_SIGN = 5;

/** Signature checks between trusted-root certificates never change: remember them. */
const linkCache = new WeakMap<Certificate, WeakMap<Certificate, Promise<boolean>>>();

function signedBy(child: Certificate, issuer: Certificate, cache: boolean): Promise<boolean> {
  if (!cache) return child.signedBy(issuer);
  let byIssuer = linkCache.get(child);
  if (!byIssuer) {
    byIssuer = new WeakMap();
    linkCache.set(child, byIssuer);
  }
  let result = byIssuer.get(issuer);
  if (!result) {
    result = child.signedBy(issuer);
    byIssuer.set(issuer, result);
  }
  return result;
}

export interface CertificatePath {
  /** Leaf first, trust anchor last. */
  readonly path: readonly Certificate[];
  readonly authority: CertificateAuthority;
}

/** A Fulcio signing certificate's path to one of the trusted root's certificate authorities at `time`. */
export async function verifyCertificatePath(
  leaf: Certificate,
  time: Date,
  root: TrustedRoot,
): Promise<CertificatePath> {
  checkSigningLeaf(leaf, time);
  return pathToAuthority(leaf, time, root.certificateAuthorities, "certificate authority");
}

/**
 * The path from `leaf` to the first of `authorities` valid at `time` that
 * issued it. `leaf` may itself be an authority's first certificate (a
 * timestamping certificate listed in the trusted root).
 */
export async function pathToAuthority(
  leaf: Certificate,
  time: Date,
  authorities: readonly CertificateAuthority[],
  what: string,
): Promise<CertificatePath> {
  const candidates = authorities.filter((ca) => within(ca.validFor, time));
  if (candidates.length === 0) throw new ChainError(`no trusted ${what} was valid at ${time.toISOString()}`);
  let lastError: ChainError | undefined;
  for (const ca of candidates) {
    try {
      const path = buildPath(leaf, ca);
      await checkPath(path, time, ca);
      return { path, authority: ca };
    } catch (error) {
      if (!(error instanceof ChainError)) throw error;
      lastError = error;
    }
  }
  throw lastError ?? new ChainError("no trusted certificate path");
}

/** Leaf first, then each issuer found by name among the authority's certificates, up to a self-issued one. */
function buildPath(leaf: Certificate, ca: CertificateAuthority): Certificate[] {
  const name = ca.uri || "this authority";
  const pool = ca.chain.filter((c) => c !== leaf && !bytesEqual(c.der, leaf.der));
  const path = [leaf];
  let current = leaf;
  while (!bytesEqual(current.issuer, current.subject)) {
    const index = pool.findIndex((c) => bytesEqual(c.subject, current.issuer));
    const next = pool[index];
    if (!next) {
      throw new ChainError(
        current === leaf
          ? `leaf was not issued by ${name} (issuer name)`
          : `${name}'s chain lacks the issuer of its certificate ${path.length - 1} (no certificate has its issuer's name)`,
      );
    }
    pool.splice(index, 1);
    path.push(next);
    current = next;
  }
  return path;
}

function checkSigningLeaf(leaf: Certificate, time: Date): void {
  if (!leaf.validAt(time)) {
    throw new ChainError(
      `leaf certificate valid ${leaf.notBefore.toISOString()}–${leaf.notAfter.toISOString()}, not at the signing time ${time.toISOString()}`,
    );
  }
  if (leaf.isCA) throw new ChainError("leaf certificate is a CA");
  const unknown = leaf.unknownCriticalExtensions();
  if (unknown.length)
    throw new ChainError(`leaf certificate has unsupported critical extensions ${unknown.join(", ")}`);
  if (leaf.keyUsage(KEY_USAGE_DIGITAL_SIGNATURE) === false)
    throw new ChainError("leaf certificate may not sign (keyUsage)");
  if (!leaf.extendedKeyUsage?.includes(OID.EKU_CODE_SIGNING))
    throw new ChainError("leaf certificate is not for code signing (extKeyUsage)");
}

/** The leaf's signature by its issuer, then every authority certificate's rules and signature. */
async function checkPath(path: readonly Certificate[], time: Date, ca: CertificateAuthority): Promise<void> {
  const [leaf, issuer] = path;
  if (leaf && issuer && !(await signedBy(leaf, issuer, ca.chain.includes(leaf))))
    throw new ChainError("leaf certificate signature does not verify against its issuer");
  for (let i = 1; i < path.length; i++) {
    const cert = path[i] as Certificate;
    const where = `${ca.uri || "authority"} certificate ${i}`;
    if (!cert.validAt(time)) throw new ChainError(`${where} not valid at ${time.toISOString()}`);
    const constraints = cert.basicConstraints;
    if (!constraints?.ca) throw new ChainError(`${where} is not a CA`);
    if (constraints.pathLength !== undefined && constraints.pathLength < i - 1)
      throw new ChainError(`${where}: path length exceeded`);
    if (cert.keyUsage(KEY_USAGE_KEY_CERT_SIGN) === false) throw new ChainError(`${where} may not sign certificates`);
    const unknown = cert.unknownCriticalExtensions();
    if (unknown.length) throw new ChainError(`${where} has unsupported critical extensions ${unknown.join(", ")}`);
    const parent = path[i + 1] ?? cert; // The last one is the self-signed anchor.
    if (!(await signedBy(cert, parent, true))) throw new ChainError(`${where}: signature does not verify`);
  }
}
