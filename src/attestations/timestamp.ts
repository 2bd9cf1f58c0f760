/**
 * RFC 3161 signed timestamps in a bundle (`timestampVerificationData`):
 * a TimeStampResp (or a bare TimeStampToken), i.e. a CMS SignedData
 * (RFC 5652) whose encapsulated content is a TSTInfo.
 *
 * A timestamp counts as a signing time when
 *  - its TSTInfo's messageImprint is the digest of the bundle's signature
 *    (the timestamp was requested over exactly that signature);
 *  - its signer is a timestamping certificate of one of the trusted root's
 *    timestamp authorities (the authority's first certificate, or a
 *    certificate the token embeds that the authority issued), and that
 *    authority was valid at genTime (its `validFor`, and every certificate of
 *    the path), the certificate is for time stamping (extKeyUsage);
 *  - the signed attributes carry the content type id-ct-TSTInfo and the
 *    digest of the TSTInfo, and the signer's signature over them verifies.
 * A timestamp whose signer no trusted authority vouches for is refused with
 * its own error (`untrusted_timestamp_authority`): it is not ignored.
 */
import { bytesEqual } from "../lib/bytes.ts";
import {
  children,
  type Der,
  DerError,
  decodeOid,
  decodeSmallInteger,
  decodeTime,
  expectTag,
  parseDer,
  sequence,
  TAG,
} from "../lib/der.ts";
import { pathToAuthority } from "./chain.ts";
import { type HashName, hashOfOid } from "./keys.ts";
import { type CertificateAuthority, within } from "./trusted-root.ts";
import { Certificate, OID, type SignatureAlgorithm, signatureAlgorithmOf, verifyWith } from "./x509.ts";

export class TimestampError extends Error {
  override name = "TimestampError";
}

/** The timestamp's signer is not a timestamp authority of the trusted root. */
export class UntrustedTimestampAuthorityError extends TimestampError {
  override name = "UntrustedTimestampAuthorityError";
}

const OID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const OID_TST_INFO = "1.2.840.113549.1.9.16.1.4";
const OID_CONTENT_TYPE = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
const OID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";

/** A parsed timestamp token, not yet trusted. */
export interface TimestampToken {
  readonly genTime: Date;
  readonly imprintHash: HashName;
  readonly imprint: Uint8Array;
  /** The TSTInfo DER, as signed. */
  readonly tstInfo: Uint8Array<ArrayBuffer>;
  readonly certificates: readonly Certificate[];
  readonly signer: {
    readonly issuer?: Uint8Array;
    readonly serialNumber?: Uint8Array;
    readonly subjectKeyIdentifier?: Uint8Array;
    readonly digest: HashName;
    /** The signed attributes re-tagged as a SET OF: what the signature covers. */
    readonly signedAttributes: Uint8Array<ArrayBuffer>;
    readonly contentType: string | undefined;
    readonly messageDigest: Uint8Array | undefined;
    readonly signatureAlgorithm: SignatureAlgorithm;
    readonly signature: Uint8Array;
  };
}

function fail(message: string): never {
  throw new TimestampError(message);
}

function at(nodes: readonly Der[], index: number, what: string): Der {
  return nodes[index] ?? fail(`malformed timestamp: no ${what}`);
}

/** Parses a TimeStampResp or a TimeStampToken (ContentInfo). */
export function parseTimestamp(der: Uint8Array): TimestampToken {
  try {
    return parseToken(der);
  } catch (error) {
    if (error instanceof DerError) throw new TimestampError(`malformed timestamp: ${error.message}`);
    throw error;
  }
}

function parseToken(der: Uint8Array): TimestampToken {
  let contentInfo = sequence(parseDer(der), "timestamp");
  // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }
  if (contentInfo[0]?.tag === TAG.SEQUENCE) {
    const status = sequence(contentInfo[0], "PKIStatusInfo");
    const granted = decodeSmallInteger(at(status, 0, "status"));
    if (granted !== 0 && granted !== 1) fail(`the timestamp authority did not grant the request (status ${granted})`);
    contentInfo = sequence(at(contentInfo, 1, "timeStampToken"), "timeStampToken");
  }
  if (decodeOid(at(contentInfo, 0, "contentType")) !== OID_SIGNED_DATA) fail("a timestamp token is a CMS SignedData");
  const wrapper = expectTag(at(contentInfo, 1, "content"), 0xa0, "content");
  const signedData = sequence(at(children(wrapper), 0, "SignedData"), "SignedData");
  let i = 1; // version, then digestAlgorithms
  expectTag(at(signedData, i++, "digestAlgorithms"), TAG.SET, "digestAlgorithms");
  const encap = sequence(at(signedData, i++, "encapContentInfo"), "encapContentInfo");
  if (decodeOid(at(encap, 0, "eContentType")) !== OID_TST_INFO) fail("the token does not hold a TSTInfo");
  const eContent = expectTag(at(encap, 1, "eContent"), 0xa0, "eContent");
  const tstInfo = new Uint8Array(expectTag(at(children(eContent), 0, "TSTInfo"), TAG.OCTET_STRING, "eContent").content);
  const certificates: Certificate[] = [];
  if (signedData[i]?.tag === 0xa0) {
    for (const c of children(at(signedData, i, "certificates"))) {
      if (c.tag === TAG.SEQUENCE) certificates.push(Certificate.fromDer(c.bytes));
    }
    i++;
  }
  if (signedData[i]?.tag === 0xa1) i++; // crls
  const signerInfos = children(expectTag(at(signedData, i, "signerInfos"), TAG.SET, "signerInfos"));
  if (signerInfos.length !== 1) fail(`a timestamp token has one signer, this one has ${signerInfos.length}`);
  const info = sequence(at(signerInfos, 0, "SignerInfo"), "SignerInfo");

  const sid = at(info, 1, "sid");
  let signerId: Pick<TimestampToken["signer"], "issuer" | "serialNumber" | "subjectKeyIdentifier">;
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = sequence(sid, "IssuerAndSerialNumber");
    signerId = {
      issuer: expectTag(issuer, TAG.SEQUENCE, "issuer").bytes,
      serialNumber: expectTag(serial, TAG.INTEGER, "serialNumber").content,
    };
  } else {
    signerId = { subjectKeyIdentifier: expectTag(sid, 0x80, "subjectKeyIdentifier").content };
  }
  const digest = hashOfOid(decodeOid(at(sequence(at(info, 2, "digestAlgorithm"), "digestAlgorithm"), 0, "OID")));
  const attributes = expectTag(at(info, 3, "signedAttrs"), 0xa0, "signedAttrs");
  const signedAttributes = new Uint8Array(attributes.bytes);
  signedAttributes[0] = TAG.SET;
  let contentType: string | undefined;
  let messageDigest: Uint8Array | undefined;
  for (const attribute of children(attributes)) {
    const [type, values] = sequence(attribute, "Attribute");
    const oid = decodeOid(type ?? fail("malformed timestamp: an attribute without a type"));
    const value = at(children(expectTag(values, TAG.SET, "attrValues")), 0, "attrValue");
    if (oid === OID_CONTENT_TYPE) contentType = decodeOid(value);
    if (oid === OID_MESSAGE_DIGEST) messageDigest = expectTag(value, TAG.OCTET_STRING, "messageDigest").content;
  }
  const algorithmId = expectTag(at(info, 4, "signatureAlgorithm"), TAG.SEQUENCE, "signatureAlgorithm");
  const signature = expectTag(at(info, 5, "signature"), TAG.OCTET_STRING, "signature").content;

  const tst = sequence(parseDer(tstInfo), "TSTInfo");
  const imprint = sequence(at(tst, 2, "messageImprint"), "messageImprint");
  return {
    genTime: decodeTime(expectTag(at(tst, 4, "genTime"), TAG.GENERALIZED_TIME, "genTime"), { fraction: true }),
    imprintHash: hashOfOid(decodeOid(at(sequence(at(imprint, 0, "hashAlgorithm"), "hashAlgorithm"), 0, "OID"))),
    imprint: expectTag(at(imprint, 1, "hashedMessage"), TAG.OCTET_STRING, "hashedMessage").content,
    tstInfo,
    certificates,
    signer: {
      ...signerId,
      digest,
      signedAttributes,
      contentType,
      messageDigest,
      signatureAlgorithm: cmsSignatureAlgorithm(algorithmId, digest),
      signature,
    },
  };
}

/** CMS names the signature either fully (ecdsa-with-SHA384) or by key type only, the hash being the digest algorithm. */
function cmsSignatureAlgorithm(algorithmId: Der, digest: HashName): SignatureAlgorithm {
  const oid = decodeOid(at(sequence(algorithmId, "signatureAlgorithm"), 0, "OID"));
  if (oid === OID_RSA_ENCRYPTION) return { key: "rsa", hash: digest, padding: { scheme: "pkcs1" } };
  if (oid === OID_EC_PUBLIC_KEY) return { key: "ecdsa", hash: digest };
  return signatureAlgorithmOf(algorithmId);
}

function identifies(token: TimestampToken, cert: Certificate): boolean {
  const { issuer, serialNumber, subjectKeyIdentifier } = token.signer;
  if (subjectKeyIdentifier) {
    const ski = cert.subjectKeyIdentifier;
    return ski !== undefined && bytesEqual(ski, subjectKeyIdentifier);
  }
  return (
    issuer !== undefined &&
    serialNumber !== undefined &&
    bytesEqual(cert.issuer, issuer) &&
    bytesEqual(cert.serialNumber, serialNumber)
  );
}

async function digestOf(hash: HashName, bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(hash, bytes));
}

/**
 * Verifies one timestamp over `signature` (the bundle's message or DSSE
 * signature bytes) and returns its time.
 */
export async function verifyTimestamp(
  der: Uint8Array,
  signature: Uint8Array<ArrayBuffer>,
  authorities: readonly CertificateAuthority[],
): Promise<Date> {
  const token = parseTimestamp(der);
  const time = token.genTime;
  if (!bytesEqual(await digestOf(token.imprintHash, signature), token.imprint))
    fail("the timestamp is not over this bundle's signature (message imprint)");
  const { signer } = token;
  if (signer.contentType !== OID_TST_INFO) fail("the timestamp's signed attributes lack the TSTInfo content type");
  if (!signer.messageDigest || !bytesEqual(await digestOf(signer.digest, token.tstInfo), signer.messageDigest))
    fail("the timestamp's signed attributes do not match its TSTInfo (message digest)");

  // The signer: an authority's own timestamping certificate, or one the token carries that an authority issued.
  const listed = authorities.filter((ca) => ca.chain[0] && identifies(token, ca.chain[0]));
  const embedded = token.certificates.filter((c) => identifies(token, c));
  if (listed.length === 0 && embedded.length === 0)
    throw new UntrustedTimestampAuthorityError(
      "the timestamp's signer is not a timestamp authority of the trusted root",
    );
  const valid = authorities.filter((ca) => within(ca.validFor, time));
  let lastError: Error | undefined;
  for (const leaf of [...listed.map((ca) => ca.chain[0] as Certificate), ...embedded]) {
    try {
      await pathToAuthority(leaf, time, valid, "timestamp authority");
      checkTimestampingLeaf(leaf, time);
      if (!(await verifyWith(leaf.publicKey, signer.signatureAlgorithm, signer.signedAttributes, signer.signature)))
        fail("the timestamp's signature does not verify");
      return time;
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      lastError = error;
    }
  }
  if (lastError instanceof TimestampError) throw lastError;
  if (listed.length === 0)
    throw new UntrustedTimestampAuthorityError(
      `the timestamp's signing certificate does not chain to a timestamp authority of the trusted root valid at ${time.toISOString()}: ${lastError?.message ?? ""}`,
    );
  throw new TimestampError(
    `the timestamp authority's certificate path fails at ${time.toISOString()}: ${lastError?.message ?? ""}`,
  );
}

function checkTimestampingLeaf(leaf: Certificate, time: Date): void {
  if (!leaf.validAt(time)) fail(`the timestamping certificate was not valid at ${time.toISOString()}`);
  if (!leaf.extendedKeyUsage?.includes(OID.EKU_TIME_STAMPING))
    fail("the timestamp's signing certificate is not for time stamping (extKeyUsage)");
}
