/**
 * A plain target's entry, written by SQLite from its row instead of kept in
 * it (migration 27). A bin's `targets` map is joined from its rows' entries
 * (targets-index.ts, src/tuf/assembled.ts); for most targets the entry is
 * `"path":{"hashes":hashes,"length":length}`, the row's own columns, so a
 * row keeps entry_canonical '' and the bin index holds those columns
 * instead of the same bytes twice. Plain SQL and string code, no I/O.
 */

/** SQL: the entry written from a `targets` row's path, hashes and length. */
export const DERIVED_ENTRY = `('"' || path || '":{"hashes":' || hashes || ',"length":' || length || '}')`;

/** SQL: a `targets` row's canonical entry (NULL, for a row written before migration 14, stays NULL). */
export const ENTRY_CANONICAL = `iif(entry_canonical = '', ${DERIVED_ENTRY}, entry_canonical)`;

/** Control characters (C0, DEL, C1): SQLite's text functions stop at a NUL. */
const CONTROL = /\p{Cc}/u;

/**
 * Whether the row's entry is what DERIVED_ENTRY writes from its path,
 * `hashes` column and length, to the byte: then the row keeps ''. A length
 * SQLite would write otherwise (a float) or a path with a control
 * character keeps its entry.
 */
export function isDerived(canonical: string, path: string, hashes: string, length: number): boolean {
  return (
    Number.isSafeInteger(length) &&
    !CONTROL.test(path) &&
    canonical === `"${path}":{"hashes":${hashes},"length":${length}}`
  );
}
