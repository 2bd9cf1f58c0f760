/**
 * X.509 certificates (RFC 5280), parsed only as far as Sigstore needs:
 * names and validity for chaining, the public key, the signature, and the
 * extensions that carry a Fulcio identity, CA status and embedded SCTs.
 */
import { bytesEqual } from "../lib/bytes.ts";
import {
  children,
  decodeBitFlags,
  decodeBitStringBytes,
  decodeBoolean,
  decodeOid,
  decodeSmallInteger,
  decodeString,
  decodeTime,
  type Der,
  DerError,
  expectTag,
  parseDer,
  readElement,
  sequence,
  TAG,
} from "../lib/der.ts";
import { type HashName, PublicKey, pssParameters, type RsaPadding } from "./keys.ts";

export const OID = {
  SUBJECT_KEY_ID: "2.5.29.14",
  KEY_USAGE: "2.5.29.15",
  SUBJECT_ALT_NAME: "2.5.29.17",
  BASIC_CONSTRAINTS: "2.5.29.19",
  AUTHORITY_KEY_ID: "2.5.29.35",
  EXT_KEY_USAGE: "2.5.29.37",
  EKU_CODE_SIGNING: "1.3.6.1.5.5.7.3.3",
  EKU_TIME_STAMPING: "1.3.6.1.5.5.7.3.8",
  SCT_LIST: "1.3.6.1.4.1.11129.2.4.2",
  CT_POISON: "1.3.6.1.4.1.11129.2.4.3",
  /** Fulcio: OIDC issuer, raw bytes (deprecated, still issued alongside .8). */
  FULCIO_ISSUER_V1: "1.3.6.1.4.1.57264.1.1",
  /** Fulcio: OIDC issuer, a DER UTF8String. */
  FULCIO_ISSUER_V2: "1.3.6.1.4.1.57264.1.8",
  /** Fulcio: SAN otherName for identities that are neither a URI nor an e-mail. */
  FULCIO_OTHERNAME_SAN: "1.3.6.1.4.1.57264.1.7",
} as const;

/** How a certificate (or a CMS signer) is signed: the key type it needs, the hash, and RSA's padding. */
export type SignatureAlgorithm =
  | { readonly key: "ecdsa"; readonly hash: HashName }
  | { readonly key: "rsa"; readonly hash: HashName; readonly padding: RsaPadding }
  | { readonly key: "ed25519" };

const SIGNATURE_ALGORITHMS: Record<string, SignatureAlgorithm> = {
  "1.2.840.10045.4.3.2": { key: "ecdsa", hash: "SHA-256" }, // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3": { key: "ecdsa", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { key: "ecdsa", hash: "SHA-512" },
  "1.2.840.113549.1.1.11": { key: "rsa", hash: "SHA-256", padding: { scheme: "pkcs1" } }, // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12": { key: "rsa", hash: "SHA-384", padding: { scheme: "pkcs1" } },
  "1.2.840.113549.1.1.13": { key: "rsa", hash: "SHA-512", padding: { scheme: "pkcs1" } },
  "1.3.101.112": { key: "ed25519" },
};
const OID_RSASSA_PSS = "1.2.840.113549.1.1.10";

/** The signature algorithm an AlgorithmIdentifier names (RSASSA-PSS with its parameters). */
export function signatureAlgorithmOf(algorithmIdentifier: Der): SignatureAlgorithm {
  const [oidNode, params] = sequence(algorithmIdentifier, "signatureAlgorithm");
  const oid = decodeOid(oidNode);
  if (oid === OID_RSASSA_PSS) {
    if (!params) throw new DerError("RSASSA-PSS without parameters");
    const { hash, saltLength } = pssParameters(params.bytes);
    return { key: "rsa", hash, padding: { scheme: "pss", saltLength } };
  }
  const algorithm = SIGNATURE_ALGORITHMS[oid];
  if (!algorithm) throw new DerError(`unsupported signature algorithm ${oid}`);
  return algorithm;
}

/** Whether `key` made `signature` over `message` with `algorithm`. */
export function verifyWith(
  key: PublicKey,
  algorithm: SignatureAlgorithm,
  message: Uint8Array<ArrayBuffer>,
  signature: Uint8Array,
): Promise<boolean> {
  const family = key.algorithm === "rsa" ? "rsa" : key.algorithm === "ed25519" ? "ed25519" : "ecdsa";
  if (family !== algorithm.key) return Promise.resolve(false);
  if (algorithm.key === "ed25519") return key.verify(message, signature);
  return key.verify(message, signature, algorithm.hash, algorithm.key === "rsa" ? algorithm.padding : undefined);
}

/** Extensions a verifier here understands; any other critical extension makes a certificate unusable. */
const UNDERSTOOD = new Set<string>([
  OID.SUBJECT_KEY_ID,
  OID.KEY_USAGE,
  OID.SUBJECT_ALT_NAME,
  OID.BASIC_CONSTRAINTS,
  OID.AUTHORITY_KEY_ID,
  OID.EXT_KEY_USAGE,
]);

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's content. */
  readonly value: Uint8Array;
  /** The whole Extension element, as encoded in the TBSCertificate. */
  readonly element: Der;
}

export interface SubjectAltNames {
  readonly uris: string[];
  readonly emails: string[];
  /** Fulcio otherName (1.3.6.1.4.1.57264.1.7) values, e.g. "user!example.com". */
  readonly others: string[];
}

export class Certificate {
  readonly der: Uint8Array<ArrayBuffer>;
  readonly tbs: Der;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  /** The serialNumber INTEGER's content octets. */
  readonly serialNumber: Uint8Array;
  /** Raw Name DER, compared byte for byte when chaining. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKey;
  readonly extensions: readonly Extension[];
  /** The TBSCertificate children up to (excluding) the [3] extensions wrapper, for SCT re-encoding. */
  readonly tbsPrefix: readonly Der[];

  private constructor(der: Uint8Array<ArrayBuffer>) {
    this.der = der;
    const [tbs, sigAlg, sigValue, ...rest] = sequence(parseDer(der), "Certificate");
    if (rest.length) throw new DerError("Certificate has extra fields");
    this.tbs = expectTag(tbs, TAG.SEQUENCE, "TBSCertificate");
    this.signatureAlgorithm = signatureAlgorithmOf(expectTag(sigAlg, TAG.SEQUENCE, "signatureAlgorithm"));
    this.signature = decodeBitStringBytes(sigValue);

    const fields = children(this.tbs);
    let i = 0;
    const versionField = fields[i];
    if (versionField?.tag === 0xa0) {
      const [version] = children(versionField);
      if (decodeSmallInteger(version) !== 2) throw new DerError("only X.509 v3 certificates are supported");
      i++;
    } else {
      throw new DerError("only X.509 v3 certificates are supported");
    }
    this.serialNumber = expectTag(fields[i++], TAG.INTEGER, "serialNumber").content;
    const innerAlg = expectTag(fields[i++], TAG.SEQUENCE, "signature");
    if (!sigAlg || !bytesEqual(innerAlg.bytes, sigAlg.bytes))
      throw new DerError("TBSCertificate and Certificate disagree on the signature algorithm");
    this.issuer = expectTag(fields[i++], TAG.SEQUENCE, "issuer").bytes;
    const [notBefore, notAfter] = sequence(fields[i++], "validity");
    this.notBefore = decodeTime(notBefore);
    this.notAfter = decodeTime(notAfter);
    this.subject = expectTag(fields[i++], TAG.SEQUENCE, "subject").bytes;
    this.publicKey = PublicKey.fromSpki(expectTag(fields[i++], TAG.SEQUENCE, "subjectPublicKeyInfo").bytes);
    while (fields[i]?.tag === 0x81 || fields[i]?.tag === 0x82) i++; // unique IDs
    this.tbsPrefix = fields.slice(0, i);
    const extensions: Extension[] = [];
    const extensionsField = fields[i];
    if (extensionsField?.tag === 0xa3) {
      const [list, ...more] = children(extensionsField);
      if (more.length) throw new DerError("malformed extensions");
      const seen = new Set<string>();
      for (const ext of sequence(list, "extensions")) {
        const parts = sequence(ext, "Extension");
        const oid = decodeOid(parts[0]);
        let critical = false;
        let valueNode = parts[1];
        if (valueNode?.tag === TAG.BOOLEAN) {
          critical = decodeBoolean(valueNode);
          valueNode = parts[2];
        }
        const value = expectTag(valueNode, TAG.OCTET_STRING, "extnValue").content;
        if (seen.has(oid)) throw new DerError(`duplicate extension ${oid}`);
        seen.add(oid);
        extensions.push({ oid, critical, value, element: ext });
      }
      i++;
    }
    if (i !== fields.length) throw new DerError("unexpected TBSCertificate fields");
    this.extensions = extensions;
  }

  static fromDer(der: Uint8Array): Certificate {
    return new Certificate(new Uint8Array(der));
  }

  extension(oid: string): Extension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  get basicConstraints(): { ca: boolean; pathLength?: number } | undefined {
    const ext = this.extension(OID.BASIC_CONSTRAINTS);
    if (!ext) return undefined;
    const parts = sequence(parseDer(ext.value), "BasicConstraints");
    let ca = false;
    let k = 0;
    const caPart = parts[k];
    if (caPart?.tag === TAG.BOOLEAN) {
      ca = decodeBoolean(caPart);
      k++;
    }
    const lengthPart = parts[k];
    const pathLength = lengthPart ? decodeSmallInteger(lengthPart) : undefined;
    return pathLength === undefined ? { ca } : { ca, pathLength };
  }

  /** The subjectKeyIdentifier extension's key identifier, if present. */
  get subjectKeyIdentifier(): Uint8Array | undefined {
    const ext = this.extension(OID.SUBJECT_KEY_ID);
    return ext ? expectTag(parseDer(ext.value), TAG.OCTET_STRING, "SubjectKeyIdentifier").content : undefined;
  }

  get isCA(): boolean {
    return this.basicConstraints?.ca === true;
  }

  /** KeyUsage bit (0 digitalSignature, 5 keyCertSign); undefined when the extension is absent. */
  keyUsage(bit: number): boolean | undefined {
    const ext = this.extension(OID.KEY_USAGE);
    return ext ? decodeBitFlags(parseDer(ext.value))(bit) : undefined;
  }

  get extendedKeyUsage(): string[] | undefined {
    const ext = this.extension(OID.EXT_KEY_USAGE);
    return ext ? sequence(parseDer(ext.value), "ExtKeyUsage").map(decodeOid) : undefined;
  }

  get subjectAltNames(): SubjectAltNames {
    const out: SubjectAltNames = { uris: [], emails: [], others: [] };
    const ext = this.extension(OID.SUBJECT_ALT_NAME);
    if (!ext) return out;
    const latin1 = new TextDecoder("latin1");
    for (const name of sequence(parseDer(ext.value), "SubjectAltName")) {
      if (name.tag === 0x86) out.uris.push(latin1.decode(name.content));
      else if (name.tag === 0x81) out.emails.push(latin1.decode(name.content));
      else if (name.tag === 0xa0) {
        const [typeId, wrapped] = children(name);
        if (decodeOid(typeId) === OID.FULCIO_OTHERNAME_SAN && wrapped?.tag === 0xa0) {
          out.others.push(decodeString(children(wrapped)[0]));
        }
      }
    }
    return out;
  }

  /** The unknown critical extensions (RFC 5280 §4.2: a certificate with any must be rejected). */
  unknownCriticalExtensions(): string[] {
    return this.extensions.filter((e) => e.critical && !UNDERSTOOD.has(e.oid)).map((e) => e.oid);
  }

  validAt(time: Date): boolean {
    return this.notBefore.getTime() <= time.getTime() && time.getTime() <= this.notAfter.getTime();
  }

  /** Whether `issuer`'s key signed this certificate. */
  async signedBy(issuer: Certificate): Promise<boolean> {
    return verifyWith(issuer.publicKey, this.signatureAlgorithm, new Uint8Array(this.tbs.bytes), this.signature);
  }

  /** Text of a Fulcio extension: DER UTF8String (.8 and later) or raw bytes (legacy .1–.6). */
  fulcioExtension(oid: string): string | undefined {
    const ext = this.extension(oid);
    if (!ext) return undefined;
    const arc = Number(oid.split(".").pop());
    if (oid.startsWith("1.3.6.1.4.1.57264.1.") && arc >= 8) {
      try {
        const { element, next } = readElement(ext.value, 0);
        if (next === ext.value.length) return decodeString(element);
      } catch {
        return undefined;
      }
      return undefined;
    }
    return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(ext.value);
  }
}
