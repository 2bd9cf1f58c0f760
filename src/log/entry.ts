/**
 * The entries of tuf-edge's per-repository transparency log.
 *
 * An entry is one JSON object, encoded as OLPC canonical JSON (the form TUF
 * signs, src/tuf/canonical.ts: keys sorted by code point, no white space,
 * integers only, UTF-8). The entry bytes are that encoding; the Merkle leaf
 * is leafHash(bytes) = SHA-256(0x00 || bytes) (RFC 6962 §2.1), and entry
 * bundles (tiles.ts) carry the bytes. Every object has
 *
 *   "type"        one of the strings below
 *   "repository"  the repository name (src/schemas/repository-name.ts)
 *
 * and, per type, exactly these other fields (no others are allowed):
 *
 *   "target.add", "target.remove", "target.yank", "target.unyank",
 *   "target.quarantine" (taken out of the metadata for review), "target.release" (listed again)
 *       "path"            the target path (src/schemas/target-path.ts)
 *       "hashes"          {"sha256"?: hex, "sha512"?: hex}, at least one, lower-case hex:
 *                         the target file the event is about
 *   "attestation.add"
 *       "path"            the target path the attestation is for
 *       "bundle_sha256"   hex SHA-256 of the stored attestation (Sigstore bundle) bytes
 *       "predicate_type"  the in-toto predicate type URI, 1–256 printable ASCII characters
 *   "metadata.publish"
 *       "role"            the TUF role name ("timestamp", "snapshot", "targets", a delegated
 *                         role such as "bins-0a"): 1–128 of [A-Za-z0-9._-], not starting with . or -
 *       "version"         the metadata version, an integer ≥ 1
 *       "sha256"          hex SHA-256 of the published metadata file bytes
 *       "length"          its length in bytes, an integer ≥ 0
 *   "root.change"
 *       "version"         the new root's version, an integer ≥ 1
 *       "sha256"          hex SHA-256 of the new root metadata file bytes
 *
 * For example (one line, no trailing newline):
 *
 *   {"hashes":{"sha256":"…"},"path":"pkg/a-1.0.tgz","repository":"acme","type":"target.add"}
 *
 * Decoding accepts only bytes that are exactly the canonical encoding of a
 * valid entry, so every entry has one encoding and one leaf hash. An entry
 * is at most 65,535 bytes (the uint16 length prefix of tlog-tiles bundles).
 */
import { z } from "zod";
import { REPOSITORY_NAME } from "../schemas/repository-name.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { canonicalBytes } from "../tuf/canonical.ts";
import { fromUtf8, utf8 } from "../lib/bytes.ts";
import { HashesSchema, SHA256_HEX, Sha256Hex } from "../tuf/targets.ts";
import { bytesEqual } from "../lib/bytes.ts";
import { LogError } from "./errors.ts";
import { type Hash, leafHash } from "./merkle.ts";
import { MAX_ENTRY_SIZE } from "./tiles.ts";

export const TARGET_ENTRY_TYPES = [
  "target.add",
  "target.remove",
  "target.yank",
  "target.unyank",
  "target.quarantine",
  "target.release",
] as const;
export const ENTRY_TYPES = [...TARGET_ENTRY_TYPES, "attestation.add", "metadata.publish", "root.change"] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

const Repository = z.string().regex(REPOSITORY_NAME, "not a repository name");
const Version = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const Length = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const ROLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const RoleName = z.string().regex(ROLE_NAME, "not a role name");
const PredicateType = z.string().regex(/^[\x21-\x7e]{1,256}$/, "a predicate type is 1–256 printable ASCII characters");

function targetEntry<T extends (typeof TARGET_ENTRY_TYPES)[number]>(type: T) {
  return z.strictObject({
    type: z.literal(type),
    repository: Repository,
    path: TargetPathSchema,
    hashes: HashesSchema,
  });
}

export const LogEntrySchema = z.discriminatedUnion("type", [
  targetEntry("target.add"),
  targetEntry("target.remove"),
  targetEntry("target.yank"),
  targetEntry("target.unyank"),
  targetEntry("target.quarantine"),
  targetEntry("target.release"),
  z.strictObject({
    type: z.literal("attestation.add"),
    repository: Repository,
    path: TargetPathSchema,
    bundle_sha256: Sha256Hex,
    predicate_type: PredicateType,
  }),
  z.strictObject({
    type: z.literal("metadata.publish"),
    repository: Repository,
    role: RoleName,
    version: Version,
    sha256: Sha256Hex,
    length: Length,
  }),
  z.strictObject({ type: z.literal("root.change"), repository: Repository, version: Version, sha256: Sha256Hex }),
]);

export type LogEntry = z.infer<typeof LogEntrySchema>;
export type TargetLogEntry = Extract<LogEntry, { type: (typeof TARGET_ENTRY_TYPES)[number] }>;
export type AttestationEntry = Extract<LogEntry, { type: "attestation.add" }>;
export type MetadataEntry = Extract<LogEntry, { type: "metadata.publish" }>;
export type RootEntry = Extract<LogEntry, { type: "root.change" }>;

function validate(value: unknown): LogEntry {
  const result = LogEntrySchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new LogError("invalid_entry", `not a log entry: ${where}${issue?.message ?? "invalid"}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** The entry bytes: canonical JSON of a validated entry (unknown fields are an error, not dropped). */
export function encodeEntry(entry: LogEntry): Uint8Array<ArrayBuffer> {
  const bytes = canonicalBytes(validate(entry));
  if (bytes.length > MAX_ENTRY_SIZE) {
    throw new LogError("invalid_entry", `an entry is at most ${MAX_ENTRY_SIZE} bytes, this one is ${bytes.length}`);
  }
  return bytes;
}

const TARGET_ENTRY_KEYS = ["hashes", "path", "repository", "type"];
const HASH_NAMES = ["sha256", "sha512"] as const;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f]/;

/**
 * Whether JSON.stringify writes `s` as canonical JSON does: canonical JSON
 * escapes only `"` and `\`, JSON.stringify also a control character and a
 * lone surrogate (a target path has neither: TargetPathSchema).
 */
const stringifiedCanonically = (s: string) => !CONTROL.test(s) && s.isWellFormed();

/**
 * The bytes encodeEntry gives a target entry whose path, hashes and
 * repository were validated already, with the very schemas LogEntrySchema
 * applies to them (a request's TargetPathSchema and HashesSchema; the
 * repository is the object's own, validated name): a push's target
 * additions are validated once, when its body is parsed, not again per log
 * entry. Only the entry's shape is checked here (its type, exactly these
 * four fields, hash names and string values); an entry of any other shape is
 * refused. The canonical JSON is written directly (keys in their sorted
 * order), or by canonicalBytes for a string JSON.stringify would escape.
 */
export function encodeValidatedTargetEntry(entry: TargetLogEntry): Uint8Array<ArrayBuffer> {
  const keys = Object.keys(entry).sort();
  const hashes: Record<string, unknown> = entry.hashes ?? {};
  const names = Object.keys(hashes);
  if (
    !(TARGET_ENTRY_TYPES as readonly string[]).includes(entry.type) ||
    keys.length !== TARGET_ENTRY_KEYS.length ||
    keys.some((key, i) => key !== TARGET_ENTRY_KEYS[i]) ||
    typeof entry.path !== "string" ||
    typeof entry.repository !== "string" ||
    names.length === 0 ||
    names.some((name) => !(HASH_NAMES as readonly string[]).includes(name) || typeof hashes[name] !== "string")
  ) {
    throw new LogError(
      "invalid_entry",
      "not a target log entry: type, repository, path and hashes, and no other field",
    );
  }
  const strings = [entry.path, entry.repository, ...names.map((name) => hashes[name] as string)];
  const bytes = strings.every(stringifiedCanonically)
    ? utf8(
        `{"hashes":{${HASH_NAMES.filter((name) => name in hashes)
          .map((name) => `"${name}":${JSON.stringify(hashes[name])}`)
          .join(
            ",",
          )}},"path":${JSON.stringify(entry.path)},"repository":${JSON.stringify(entry.repository)},"type":${JSON.stringify(entry.type)}}`,
      )
    : canonicalBytes(entry);
  if (bytes.length > MAX_ENTRY_SIZE) {
    throw new LogError("invalid_entry", `an entry is at most ${MAX_ENTRY_SIZE} bytes, this one is ${bytes.length}`);
  }
  return bytes;
}

const METADATA_ENTRY_KEYS = ["length", "repository", "role", "sha256", "type", "version"];
const isInteger = (n: unknown, min: number): n is number => Number.isSafeInteger(n) && (n as number) >= min;

/**
 * The bytes encodeEntry gives a "metadata.publish" entry, written directly:
 * a round logs one for every file it published (16,387 for a full re-sign of
 * 16,384 bins), in the synchronous block that makes them current, where the
 * generic encoding (schema, then canonicalize) took 107 of the 319 ms
 * (docs/measured.md, "A round's last block"). The entry is checked
 * as LogEntrySchema checks it (exactly these six fields, a role name, a
 * repository name, lower-case SHA-256 hex, integers in range) and refused
 * the same way otherwise. None of those strings has a character that JSON
 * escapes, and a safe integer prints as canonical JSON prints it, so the
 * template below is the canonical encoding (keys in their sorted order); at
 * most 373 bytes (the longest names, the largest integers), far below
 * MAX_ENTRY_SIZE.
 */
export function encodeMetadataEntry(entry: MetadataEntry): Uint8Array<ArrayBuffer> {
  const keys = Object.keys(entry).sort();
  const { repository, role, version, sha256, length } = entry;
  if (
    entry.type !== "metadata.publish" ||
    keys.length !== METADATA_ENTRY_KEYS.length ||
    keys.some((key, i) => key !== METADATA_ENTRY_KEYS[i]) ||
    typeof repository !== "string" ||
    !REPOSITORY_NAME.test(repository) ||
    typeof role !== "string" ||
    !ROLE_NAME.test(role) ||
    typeof sha256 !== "string" ||
    !SHA256_HEX.test(sha256) ||
    !isInteger(version, 1) ||
    !isInteger(length, 0)
  ) {
    // The schema's own message says which field is wrong.
    validate(entry);
    throw new LogError("invalid_entry", "not a metadata.publish entry");
  }
  return utf8(
    `{"length":${length},"repository":"${repository}","role":"${role}","sha256":"${sha256}","type":"metadata.publish","version":${version}}`,
  );
}

/** Parses entry bytes; they must be exactly the canonical encoding of a valid entry. */
export function decodeEntry(bytes: Uint8Array): LogEntry {
  if (bytes.length > MAX_ENTRY_SIZE) throw new LogError("invalid_entry", `an entry is at most ${MAX_ENTRY_SIZE} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new LogError("invalid_entry", "an entry is UTF-8 JSON", { cause });
  }
  const entry = validate(value);
  if (!bytesEqual(canonicalBytes(entry), bytes))
    throw new LogError("invalid_entry", "an entry is in canonical JSON form");
  return entry;
}

/** The Merkle leaf hash of an entry: SHA-256(0x00 || encodeEntry(entry)). */
export function entryLeafHash(entry: LogEntry): Promise<Hash> {
  return leafHash(encodeEntry(entry));
}
