/**
 * Certificate path validation for Fulcio leaf certificates: from the leaf to
 * one of the trusted root's certificate authorities, every certificate valid
 * at the signing time (the log's integrated time: Fulcio leaves live ten
 * minutes), CA and name-chaining rules of RFC 5280, path-length limits, and
 * no critical extension we do not understand. The bundle's own intermediate
 * certificates, if any, are ignored: the path comes from the trusted root.
 */
import { bytesEqual } from "./der.ts";
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
  if (!byIssuer) linkCache.set(child, (byIssuer = new WeakMap()));
  let result = byIssuer.get(issuer);
  if (!result) byIssuer.set(issuer, (result = child.signedBy(issuer)));
  return result;
}

export interface CertificatePath {
  /** Leaf first, trust anchor last. */
  readonly path: readonly Certificate[];
  readonly authority: CertificateAuthority;
}

export async function verifyCertificatePath(
  leaf: Certificate,
  time: Date,
  root: TrustedRoot,
): Promise<CertificatePath> {
  checkLeaf(leaf, time);
  const candidates = root.certificateAuthorities.filter((ca) => within(ca.validFor, time));
  if (candidates.length === 0)
    throw new ChainError(`no trusted certificate authority was valid at ${time.toISOString()}`);
  let lastError: ChainError | undefined;
  for (const ca of candidates) {
    try {
      await checkAuthorityPath(leaf, ca, time);
      return { path: [leaf, ...ca.chain], authority: ca };
    } catch (error) {
      if (!(error instanceof ChainError)) throw error;
      lastError = error;
    }
  }
  throw lastError ?? new ChainError("no trusted certificate path");
}

function checkLeaf(leaf: Certificate, time: Date): void {
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
  const eku = leaf.extendedKeyUsage;
  if (!eku || !eku.includes(OID.EKU_CODE_SIGNING))
    throw new ChainError("leaf certificate is not for code signing (extKeyUsage)");
}

async function checkAuthorityPath(leaf: Certificate, ca: CertificateAuthority, time: Date): Promise<void> {
  const chain = ca.chain;
  const issuer = chain[0]!;
  if (!bytesEqual(leaf.issuer, issuer.subject))
    throw new ChainError(`leaf was not issued by ${ca.uri || "this CA"} (issuer name)`);
  if (!(await signedBy(leaf, issuer, false)))
    throw new ChainError("leaf certificate signature does not verify against its issuer");
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (!cert.validAt(time)) throw new ChainError(`CA certificate ${i} not valid at ${time.toISOString()}`);
    const constraints = cert.basicConstraints;
    if (!constraints?.ca) throw new ChainError(`CA certificate ${i} is not a CA`);
    if (constraints.pathLength !== undefined && constraints.pathLength < i)
      throw new ChainError(`CA certificate ${i}: path length exceeded`);
    if (cert.keyUsage(KEY_USAGE_KEY_CERT_SIGN) === false)
      throw new ChainError(`CA certificate ${i} may not sign certificates`);
    const unknown = cert.unknownCriticalExtensions();
    if (unknown.length)
      throw new ChainError(`CA certificate ${i} has unsupported critical extensions ${unknown.join(", ")}`);
    const parent = chain[i + 1] ?? cert; // The last one is the self-signed anchor.
    if (!bytesEqual(cert.issuer, parent.subject))
      throw new ChainError(`CA certificate ${i}: issuer name does not chain`);
    if (!(await signedBy(cert, parent, true))) throw new ChainError(`CA certificate ${i}: signature does not verify`);
  }
}
