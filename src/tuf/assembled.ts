/**
 * Signed files assembled from pre-serialised members instead of serialised
 * whole: a bin's `targets` map and the snapshot's `meta` map are most of
 * their bytes, and each member (one target's entry, one role's version)
 * changes rarely. A member is kept in both forms a file needs: its canonical
 * JSON (what is signed) and its JSON.stringify text (what is served). The
 * file is then a sort and a join, and its bytes are exactly those `sign()`
 * in metadata.ts produces for the same object (test/unit/assembled.test.ts
 * checks that for random members).
 */
import { canonicalize as olpc } from "@tufjs/canonical-json";
import { canonicalProblem, canonicalText } from "./canonical.ts";
import { toHex, utf8, utf8Around } from "../lib/bytes.ts";
import type { Signature } from "./metadata.ts";
import type { Signer } from "./signer.ts";
import type { TargetFile } from "./targets.ts";

/** One member of a signed map, in both forms: `"key":value`. */
export interface Member {
  key: string;
  /** Canonical JSON (OLPC) of the key and value, as signed. */
  canonical: string;
  /** JSON.stringify of the key and value, as served. */
  json: string;
}

/** Characters whose order differs by UTF-16 code unit and by code point (see canonical.ts). */
const ORDER_SENSITIVE = /[\uE000-\uFFFF]/;
/** The placeholder a header carries where its map goes (no character any encoder escapes). */
const SLOT = "tuf-edge-assembled-members-slot";
/** Keys JSON.stringify (like every JS object) lists first, in numeric order: array indices. */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;
const isArrayIndex = (key: string) => ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1;

/**
 * The member `"key":value`. What canonicalBytes refuses (floats, lone
 * surrogates, keys some client would sort differently) is refused here,
 * once, when the member is made.
 */
export function member(key: string, value: unknown): Member {
  const problem = canonicalProblem({ [key]: value });
  if (problem) throw new TypeError(`cannot sign as canonical JSON: ${problem}`);
  return {
    key,
    canonical: `${olpc(key)}:${olpc(value as Parameters<typeof olpc>[0])}`,
    json: `${JSON.stringify(key)}:${JSON.stringify(value)}`,
  };
}

/** Printable ASCII without `"` or `\\`: written alike by canonical JSON and JSON.stringify, sorted alike everywhere. */
const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** The member `"key":{"version":N}` of a snapshot's `meta`, without a serialiser for the common plain key. */
export function versionMember(key: string, version: number): Member {
  if (!PLAIN.test(key) || !Number.isSafeInteger(version)) return member(key, { version });
  const text = `"${key}":{"version":${version}}`;
  return { key, canonical: text, json: text };
}

/** Printable ASCII: sorted alike by UTF-8 bytes (SQLite), by UTF-16 code units and by code points. */
const PRINTABLE = /^[\x20-\x7e]*$/;

/**
 * Whether `m` is served as it is signed (its JSON.stringify form is its
 * canonical form) and its key is listed in the same place by every order a
 * map's members are put in: printable ASCII, and not an array index (which
 * JSON.stringify lists first). A map of such members is served as the join
 * of their canonical forms sorted by key, so a store can keep the one form.
 */
export function servedAsSigned(m: Member): boolean {
  return m.json === m.canonical && PRINTABLE.test(m.key) && !isArrayIndex(m.key);
}

/**
 * The member `"path":{…}` of a bin's `targets` map for a target file, as
 * member(path, file) makes it; written directly, without a serialiser, for
 * the common file (a plain path, no `custom`, plain hash values: what an
 * import of a million targets is made of). In canonical JSON `hashes` comes
 * before `length`; JSON.stringify keeps the file's own order, so a file
 * made in canonical order (targetFile() in targets.ts) is served as signed.
 */
export function fileMember(path: string, file: TargetFile): Member {
  const names = Object.keys(file).join();
  const hashes = Object.entries(file.hashes);
  const simple =
    (names === "hashes,length" || names === "length,hashes") &&
    PLAIN.test(path) &&
    Number.isSafeInteger(file.length) &&
    HASH_ORDERS.has(hashes.map(([name]) => name).join()) &&
    hashes.every(([, value]) => typeof value === "string" && PLAIN.test(value));
  if (!simple) return member(path, file);
  const hashesText = `{${hashes.map(([name, value]) => `"${name}":"${value}"`).join(",")}}`;
  const canonical = `"${path}":{"hashes":${hashesText},"length":${file.length}}`;
  return {
    key: path,
    canonical,
    json: names === "hashes,length" ? canonical : `"${path}":{"length":${file.length},"hashes":${hashesText}}`,
  };
}

/** The hash names a simple file lists, in an order that is also canonical JSON's. */
const HASH_ORDERS = new Set(["sha256", "sha512", "sha256,sha512"]);

/**
 * Signs `header` with `members` as its map field `field` (e.g. a bin's
 * `targets`). `members` come in the order the map would have been built
 * (its insertion order, which JSON.stringify keeps); the canonical form
 * sorts them. The header's own fields must not include `field`.
 */
export async function signAssembled(
  header: Record<string, unknown>,
  field: string,
  members: readonly Member[],
  signers: readonly Signer[],
): Promise<{ bytes: Uint8Array<ArrayBuffer> }> {
  return signJoined(header, field, joinMembers(members), signers);
}

/** A map's members joined as signJoined takes them (see signAssembled for the order they come in). */
export function joinMembers(members: readonly Member[]): Joined {
  // Members usually come sorted already (SQLite's order is code-point order): then no sort is needed.
  const inOrder = members.every((m, i) => i === 0 || (members[i - 1] as Member).key < m.key);
  const sorted = inOrder ? members : [...members].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const [i, m] of sorted.entries()) {
    if (i > 0 && sorted[i - 1]?.key === m.key) throw new TypeError(`member "${m.key}" appears twice`);
    if (ORDER_SENSITIVE.test(m.key))
      throw new TypeError(`cannot sign as canonical JSON: the key "${m.key}" sorts differently across clients`);
  }
  const indices = members.filter((m) => isArrayIndex(m.key)).sort((a, b) => Number(a.key) - Number(b.key));
  const served = indices.length ? [...indices, ...members.filter((m) => !isArrayIndex(m.key))] : members;
  return { canonical: sorted.map((m) => m.canonical).join(","), json: served.map((m) => m.json).join(",") };
}

/**
 * A map's members, comma-separated without the braces: canonical forms in
 * canonical key order, JSON.stringify forms in the map's order. As text, or
 * as its UTF-8 bytes: a large map read as bytes (the snapshot's `meta`,
 * about 540 KB at 16,384 bins) is copied into the signed file's bytes and
 * never becomes a string. A string that size is a large object in V8's old
 * generation from birth, and the join, the replace and the envelope made
 * four to six of them a round; workerd collects that generation in stop-the-world
 * pauses (it runs V8 without incremental marking), which every push that
 * arrives meanwhile waits for.
 */
export interface Joined {
  canonical: string | Uint8Array<ArrayBuffer>;
  json: string | Uint8Array<ArrayBuffer>;
}

/**
 * `head` (a serialised object with a map field holding `quotedSlot`) with
 * the map `{members}` in the slot's place, between `before` and `after`, as
 * UTF-8 bytes. Members given as bytes are copied once, never decoded.
 */
function filledSlot(
  head: string,
  quotedSlot: string,
  members: string | Uint8Array<ArrayBuffer>,
  before = "",
  after = "",
): Uint8Array<ArrayBuffer> {
  // Replaced by a function: a `$` in the members is not a replacement pattern.
  if (typeof members === "string") return utf8(`${before}${head.replace(quotedSlot, () => `{${members}}`)}${after}`);
  const at = head.indexOf(quotedSlot);
  if (at < 0) throw new Error("the header lost its slot");
  return utf8Around(`${before}${head.slice(0, at)}{`, members, `}${head.slice(at + quotedSlot.length)}${after}`);
}

/**
 * Signs `header` with a map field `field` whose members come already joined:
 * `canonical`, the members' canonical forms in canonical key order, and
 * `json`, their JSON.stringify forms in the order the map lists them, each
 * comma-separated without the braces. For a map assembled elsewhere (the
 * snapshot's `meta`, joined by SQLite: role-table.ts); signAssembled is the
 * same for members given one by one.
 */
export async function signJoined(
  header: Record<string, unknown>,
  field: string,
  joined: Joined,
  signers: readonly Signer[],
): Promise<{ bytes: Uint8Array<ArrayBuffer> }> {
  const withSlot = { ...header, [field]: SLOT };
  const quotedSlot = JSON.stringify(SLOT);
  const canonical = filledSlot(canonicalText(withSlot), quotedSlot, joined.canonical);
  const signatures: Signature[] = [];
  for (const signer of signers) signatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(canonical)) });
  // As serialize() in metadata.ts writes an envelope.
  const bytes = filledSlot(
    JSON.stringify(withSlot),
    quotedSlot,
    joined.json,
    `{"signatures":${JSON.stringify(signatures)},"signed":`,
    "}",
  );
  return { bytes };
}
