/**
 * Reading an import file: JSON lines ({path, length, hashes: {sha256, sha512}, custom}
 * or {path, length, sha256, sha512}) or CSV (path,length,sha256[,sha512], an
 * optional header line). Lines are numbered from 1 as in the file; blank lines
 * and a CSV header are skipped but counted, so a resume point is a line number.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { TargetEntry } from "../../src/repository-api.ts";
import { targetPathProblem } from "../../src/schemas/target-path.ts";
import { usageError } from "./exit.ts";

export type ImportFormat = "jsonl" | "csv";

const SHA256 = /^[0-9a-f]{64}$/;
const SHA512 = /^[0-9a-f]{128}$/;

export function formatOf(path: string, explicit?: string): ImportFormat {
  if (explicit) {
    if (explicit !== "jsonl" && explicit !== "csv")
      throw usageError(`--format must be jsonl or csv, not "${explicit}"`);
    return explicit;
  }
  return /\.csv$/i.test(path) ? "csv" : "jsonl";
}

/** Size, SHA-256 and line count of the input: identifies it across runs. */
export async function fingerprint(path: string): Promise<{ size: number; sha256: string; lines: number }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const hash = createHash("sha256");
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    last = chunk.at(-1) ?? last;
  }
  if (size > 0 && last !== 10) lines++;
  return { size, sha256: hash.digest("hex"), lines };
}

/** Splits one CSV line; fields may be quoted ("a,b" and "" for a quote). */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  if (quoted) throw new TypeError("an unterminated quoted field");
  fields.push(field);
  return fields;
}

function checkEntry(entry: {
  path: unknown;
  length: unknown;
  sha256?: unknown;
  sha512?: unknown;
  custom?: unknown;
}): TargetEntry {
  if (typeof entry.path !== "string") throw new TypeError("no path");
  // The schema's own check, without zod's cost per line (a million lines are an ordinary import).
  const problem = targetPathProblem(entry.path);
  if (problem) throw new TypeError(`path "${entry.path}": ${problem}`);
  const length = typeof entry.length === "string" && /^\d+$/.test(entry.length) ? Number(entry.length) : entry.length;
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0)
    throw new TypeError(`length must be a whole number of bytes`);
  const hashes: TargetEntry["hashes"] = {};
  if (entry.sha256 !== undefined && entry.sha256 !== "") {
    if (typeof entry.sha256 !== "string" || !SHA256.test(entry.sha256))
      throw new TypeError("sha256 must be 64 lower-case hex characters");
    hashes.sha256 = entry.sha256;
  }
  if (entry.sha512 !== undefined && entry.sha512 !== "") {
    if (typeof entry.sha512 !== "string" || !SHA512.test(entry.sha512))
      throw new TypeError("sha512 must be 128 lower-case hex characters");
    hashes.sha512 = entry.sha512;
  }
  if (!hashes.sha256 && !hashes.sha512) throw new TypeError("a sha256 or sha512 is required");
  const result: TargetEntry = { path: entry.path, length, hashes };
  if (entry.custom !== undefined) {
    if (!entry.custom || typeof entry.custom !== "object" || Array.isArray(entry.custom))
      throw new TypeError("custom must be a JSON object");
    result.custom = entry.custom as Record<string, unknown>;
  }
  return result;
}

/** One line as a target, null for a blank line or a CSV header; throws TypeError for an invalid line. */
export function parseLine(line: string, format: ImportFormat, lineNumber: number): TargetEntry | null {
  const text = line.trim();
  if (!text) return null;
  if (format === "csv") {
    const fields = splitCsv(text);
    if (lineNumber === 1 && fields[0]?.trim().toLowerCase() === "path") return null;
    if (fields.length < 3 || fields.length > 4)
      throw new TypeError(`expected path,length,sha256[,sha512], found ${fields.length} field(s)`);
    const [path, length = "", sha256 = ""] = fields;
    return checkEntry({
      path,
      length: length.trim(),
      sha256: sha256.trim(),
      sha512: fields[3]?.trim(),
    });
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`not JSON: ${(error as Error).message}`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new TypeError("not a JSON object");
  const hashes = (json.hashes ?? {}) as Record<string, unknown>;
  return checkEntry({
    path: json.path,
    length: json.length,
    sha256: hashes.sha256 ?? json.sha256,
    sha512: hashes.sha512 ?? json.sha512,
    custom: json.custom,
  });
}

export interface Batch {
  /** Targets, each with the line it came from. */
  entries: TargetEntry[];
  lines: number[];
  /** The last line number this batch covers (blank and duplicate lines included). */
  endLine: number;
  /** SHA-256 of lines 1..endLine (each with its "\n"): identifies the acknowledged part across runs. */
  prefixSha256: string;
}

/** SHA-256 of lines 1..`count` of the file, each followed by "\n" (as `Batch.prefixSha256`). */
export async function prefixSha256(path: string, count: number): Promise<string> {
  const hash = createHash("sha256");
  let n = 0;
  if (count > 0) {
    const input = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
    for await (const line of input) {
      hash.update(`${line}\n`);
      if (++n >= count) {
        input.close();
        break;
      }
    }
  }
  return hash.digest("hex");
}

/**
 * The targets from line `skipLines + 1` on, in batches of at most `size`
 * distinct paths. A path repeated with the same length and digests is sent
 * once; with different ones it is an error (a target path is immutable).
 */
export async function* readBatches(
  path: string,
  format: ImportFormat,
  skipLines: number,
  size: number,
): AsyncGenerator<Batch> {
  const input = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let lineNumber = 0;
  const prefix = createHash("sha256");
  const emptyBatch = (): Batch => ({ entries: [], lines: [], endLine: lineNumber, prefixSha256: "" });
  let batch = emptyBatch();
  let seen = new Map<string, number>();
  const done = (b: Batch) => ({ ...b, prefixSha256: prefix.copy().digest("hex") });
  for await (const line of input) {
    lineNumber++;
    prefix.update(`${line}\n`);
    if (lineNumber <= skipLines) {
      batch.endLine = lineNumber;
      continue;
    }
    let entry: TargetEntry | null;
    try {
      entry = parseLine(line, format, lineNumber);
    } catch (error) {
      throw usageError(
        `${path}, line ${lineNumber}: ${(error as Error).message}`,
        `fix the line and run the import again: it resumes after the last acknowledged batch`,
      );
    }
    batch.endLine = lineNumber;
    if (!entry) continue;
    const earlier = seen.get(entry.path);
    if (earlier !== undefined) {
      const other = batch.entries[earlier];
      if (!other || other.length !== entry.length || JSON.stringify(other.hashes) !== JSON.stringify(entry.hashes)) {
        throw usageError(
          `${path}, line ${lineNumber}: target "${entry.path}" appears on line ${batch.lines[earlier]} with a different length or digest; a target path is immutable`,
        );
      }
      continue;
    }
    seen.set(entry.path, batch.entries.length);
    batch.entries.push(entry);
    batch.lines.push(lineNumber);
    if (batch.entries.length >= size) {
      yield done(batch);
      batch = emptyBatch();
      seen = new Map();
    }
  }
  if (batch.entries.length || batch.endLine > skipLines) yield done(batch);
}
