/**
 * A minimal, strict reader for ASN.1 DER (X.690): just what X.509
 * certificates and their extensions, SubjectPublicKeyInfo, RFC 3161
 * timestamps and ECDSA-Sig-Value need. Every element keeps its exact
 * bytes, so signed parts (TBSCertificate, names, SubjectPublicKeyInfo) are
 * verified and compared as they were transmitted, never re-encoded.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export class DerError extends Error {
  override name = "DerError";
}

/** One TLV element. `bytes` is the whole element (header included); `content` its value. */
export interface Der {
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly content: Uint8Array;
}

/** The byte at `offset`, or a DerError when the input ends before it. */
function byteAt(buf: Uint8Array, offset: number): number {
  const byte = buf[offset];
  if (byte === undefined) throw new DerError("truncated DER");
  return byte;
}

/** Reads the element at `offset`; returns it and the offset just past it. */
export function readElement(buf: Uint8Array, offset: number): { element: Der; next: number } {
  const start = offset;
  if (offset + 2 > buf.length) throw new DerError("truncated DER header");
  const tag = byteAt(buf, offset++);
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tags are not supported");
  const first = byteAt(buf, offset++);
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError("indefinite length is not DER");
    if (count > 4) throw new DerError("DER length too large");
    if (offset + count > buf.length) throw new DerError("truncated DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + byteAt(buf, offset++);
    if (length < 0x80 || buf[offset - count] === 0) throw new DerError("non-minimal DER length");
  }
  const end = offset + length;
  if (end > buf.length) throw new DerError("DER element runs past its container");
  return { element: { tag, bytes: buf.subarray(start, end), content: buf.subarray(offset, end) }, next: end };
}

/** Parses `buf` as exactly one element (no trailing bytes). */
export function parseDer(buf: Uint8Array): Der {
  const { element, next } = readElement(buf, 0);
  if (next !== buf.length) throw new DerError("trailing bytes after DER element");
  return element;
}

/** The elements inside a constructed element (SEQUENCE, SET, explicit tags). */
export function children(node: Der): Der[] {
  if ((node.tag & 0x20) === 0) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: Der[] = [];
  let offset = 0;
  while (offset < node.content.length) {
    const { element, next } = readElement(node.content, offset);
    out.push(element);
    offset = next;
  }
  return out;
}

export function expectTag(node: Der | undefined, tag: number, what: string): Der {
  if (!node || node.tag !== tag) {
    throw new DerError(
      `${what}: expected tag 0x${tag.toString(16)}, got ${node ? `0x${node.tag.toString(16)}` : "nothing"}`,
    );
  }
  return node;
}

/** A SEQUENCE's children, checking the tag. */
export function sequence(node: Der | undefined, what: string): Der[] {
  return children(expectTag(node, TAG.SEQUENCE, what));
}

export function decodeOid(element: Der | undefined): string {
  const node = expectTag(element, TAG.OID, "OBJECT IDENTIFIER");
  const bytes = node.content;
  if (bytes.length === 0) throw new DerError("empty OID");
  const arcs: number[] = [];
  let value = 0;
  let arcStart = true;
  for (const [i, b] of bytes.entries()) {
    if (arcStart && b === 0x80) throw new DerError("non-minimal OID arc");
    if (value > 2 ** 45) throw new DerError("OID arc too large");
    value = value * 128 + (b & 0x7f);
    arcStart = (b & 0x80) === 0;
    if (arcStart) {
      arcs.push(value);
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError("truncated OID");
    }
  }
  const [first = 0] = arcs; // at least one arc: the content is non-empty and its last byte ends an arc
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join(".");
}

export function decodeBoolean(element: Der | undefined): boolean {
  const node = expectTag(element, TAG.BOOLEAN, "BOOLEAN");
  if (node.content.length !== 1) throw new DerError("malformed BOOLEAN");
  if (node.content[0] === 0xff) return true;
  if (node.content[0] === 0x00) return false;
  throw new DerError("BOOLEAN is neither 0x00 nor 0xff");
}

/** A non-negative INTEGER small enough for a JS number (path lengths, versions). */
export function decodeSmallInteger(element: Der | undefined): number {
  const node = expectTag(element, TAG.INTEGER, "INTEGER");
  const bytes = node.content;
  if (bytes.length === 0 || bytes.length > 6 || (byteAt(bytes, 0) & 0x80) !== 0)
    throw new DerError("unsupported INTEGER");
  let n = 0;
  for (const b of bytes) n = n * 256 + b;
  return n;
}

/** The bytes of a BIT STRING with no unused bits (keys, signatures). */
export function decodeBitStringBytes(element: Der | undefined): Uint8Array {
  const node = expectTag(element, TAG.BIT_STRING, "BIT STRING");
  if (node.content.length === 0 || node.content[0] !== 0) throw new DerError("BIT STRING with unused bits");
  return node.content.subarray(1);
}

/** Named bits of a BIT STRING (KeyUsage): bit 0 is the most significant bit of the first byte. */
export function decodeBitFlags(node: Der): (bit: number) => boolean {
  expectTag(node, TAG.BIT_STRING, "BIT STRING");
  if (node.content.length === 0) throw new DerError("empty BIT STRING");
  const bytes = node.content.subarray(1);
  return (bit) => {
    const byte = bytes[bit >> 3];
    return byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0;
  };
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF8String, PrintableString or IA5String as text. */
export function decodeString(node: Der | undefined): string {
  if (!node) throw new DerError("expected a string, got nothing");
  switch (node.tag) {
    case TAG.UTF8_STRING:
      return utf8.decode(node.content);
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
      return latin1.decode(node.content);
    default:
      throw new DerError(`tag 0x${node.tag.toString(16)} is not a string`);
  }
}

/**
 * UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280
 * profiles them; `fraction` also allows GeneralizedTime's fractional seconds
 * (YYYYMMDDHHMMSS.fffZ), which RFC 3161 timestamps may carry.
 */
export function decodeTime(node: Der | undefined, options: { fraction?: boolean } = {}): Date {
  if (!node) throw new DerError("expected a time, got nothing");
  const text = latin1.decode(node.content);
  let match: RegExpExecArray | null;
  let year: number;
  if (node.tag === TAG.UTC_TIME) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError(`malformed UTCTime ${text}`);
    const yy = Number(match[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (node.tag === TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d*[1-9])?Z$/.exec(text);
    if (!match || (match[7] !== undefined && !options.fraction))
      throw new DerError(`malformed GeneralizedTime ${text}`);
    year = Number(match[1]);
    if (match[7] !== undefined) {
      const [, , mo = 0, d = 0, h = 0, mi = 0, s = 0] = match.map(Number);
      const millis = Math.floor(Number(`0${match[7]}`) * 1000);
      return new Date(Date.UTC(year, mo - 1, d, h, mi, s, millis));
    }
  } else {
    throw new DerError("not a time");
  }
  const [, , mo = 0, d = 0, h = 0, mi = 0, s = 0] = match.map(Number);
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

/** A DER header for `length` content bytes under `tag` (used to re-wrap the TBS without the SCT extension). */
export function encodeHeader(tag: number, length: number): Uint8Array {
  if (length < 0x80) return new Uint8Array([tag, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return new Uint8Array([tag, 0x80 | bytes.length, ...bytes]);
}
