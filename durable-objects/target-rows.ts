/**
 * How a target is kept in a row of the `targets` table (targets-index.ts):
 * its columns, and its entry as a bin lists it, serialised once when the
 * row is written (src/tuf/assembled.ts), so signing a bin joins entries
 * instead of re-serialising targets.
 */
import type { TargetEntry } from "../src/repository-api.ts";
import { targetFile } from "../src/tuf/targets.ts";
import { fileMember, type Member, servedAsSigned } from "../src/tuf/assembled.ts";
import { isDerived } from "./derived-entry.ts";

export interface StoredTarget extends TargetEntry {
  bin: string;
}

export interface TargetRow extends Record<string, SqlStorageValue> {
  path: string;
  bin: string;
  length: number;
  hashes: string;
  custom: string | null;
}

export interface EntryRow extends Record<string, SqlStorageValue> {
  path: string;
  entry_canonical: string | null;
  entry_json: string | null;
}

export function fromRow(row: TargetRow): StoredTarget {
  const target: StoredTarget = { path: row.path, bin: row.bin, length: row.length, hashes: JSON.parse(row.hashes) };
  if (row.custom !== null) target.custom = JSON.parse(row.custom);
  return target;
}

/**
 * A target's columns as stored, and its entry as a bin lists it (built from
 * those columns, as a bin read them back).
 * - `canonical` is the entry_canonical column: "" for an entry SQLite
 *   writes from the row's other columns (derived-entry.ts), the entry's
 *   canonical form otherwise.
 * - `json` is the entry_json column: "" for an entry served as it is signed
 *   (servedAsSigned, every plain target), so binsJoined joins one column;
 *   the served form otherwise.
 */
export function stored(target: TargetEntry): {
  hashes: string;
  custom: string | null;
  entry: Member;
  canonical: string;
  json: string;
} {
  const file = targetFile(target.length, target.hashes, target.custom);
  const hashes = JSON.stringify(file.hashes);
  const custom = target.custom === undefined ? null : JSON.stringify(target.custom);
  if (custom !== null) file.custom = JSON.parse(custom);
  const entry = fileMember(target.path, file);
  return {
    hashes,
    custom,
    entry,
    canonical: isDerived(entry.canonical, target.path, hashes, target.length) ? "" : entry.canonical,
    json: servedAsSigned(entry) ? "" : entry.json,
  };
}

/** A row's entry as a Member, from its canonical entry (ENTRY_CANONICAL) and entry_json ("" stands for the canonical form: stored()). */
export function entryOf(path: string, canonical: string, json: string): Member {
  return { key: path, canonical, json: json === "" ? canonical : json };
}
