/**
 * Many rows in one SQLite statement. SQLite takes at most 100 bound
 * parameters per statement here, so a batch of 10,000 targets written with
 * one parameter per value costs hundreds of statements. Instead, a run of
 * rows travels as one JSON text (an array of arrays) bound to a single
 * parameter and is read back in the statement with `json_each` and `->>`:
 * a few statements per batch, in the same order and with the same values.
 *
 * Only values that JSON carries exactly go that way: null, safe integers,
 * and strings that are well-formed Unicode without control characters
 * (U+0000–U+001F). For such a string JSON.stringify escapes nothing but `"`
 * and `\`, which SQLite's JSON functions read back to the same text
 * (non-ASCII characters travel as themselves, in UTF-8), so what is stored
 * does not rest on how SQLite decodes other escapes. A control character
 * would travel as an escape (`\n`, `\u0000`: the workerd of this writing
 * decodes those exactly too, but that is its JSON parser's detail, not
 * JSON's), a lone surrogate as an escape of no UTF-8 character, and a float
 * in a form SQLite may round differently. A row holding any other value is a
 * run of its own with `rows: null`: the caller writes it with bound
 * parameters, as before (test/worker/json-rows.test.ts).
 */

export type JsonCell = string | number | null;

/** A contiguous run of items and each one's row as JSON text; `rows` is null for a row JSON does not carry exactly. */
export interface JsonRun<T> {
  items: T[];
  rows: string[] | null;
}

/** The JSON array of `run`'s rows (all of them, or those at `indices`), for `json_each(?)`. */
export function jsonArray(rows: readonly string[], indices?: readonly number[]): string {
  return `[${indices ? indices.map((i) => rows[i]).join(",") : rows.join(",")}]`;
}

/** Characters of JSON text per statement: well within SQLite's limit on a bound string (1 MB) in UTF-8. */
const MAX_JSON_CHARS = 256 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f]/;

/** Whether JSON carries `cell` exactly (see above). */
export function jsonExact(cell: JsonCell): boolean {
  if (cell === null) return true;
  if (typeof cell === "number") return Number.isSafeInteger(cell);
  return cell.isWellFormed() && !CONTROL.test(cell);
}

/**
 * `items` in order, as runs of at most MAX_JSON_CHARS characters of JSON
 * (`cells` gives an item's row), a row that JSON does not carry exactly
 * alone in a run with `rows: null`.
 */
export function jsonRuns<T>(items: readonly T[], cells: (item: T) => readonly JsonCell[]): JsonRun<T>[] {
  const runs: JsonRun<T>[] = [];
  let rows: string[] = [];
  let run: T[] = [];
  let chars = 0;
  const flush = () => {
    if (run.length > 0) runs.push({ items: run, rows });
    rows = [];
    run = [];
    chars = 0;
  };
  for (const item of items) {
    const row = cells(item);
    if (!row.every(jsonExact)) {
      flush();
      runs.push({ items: [item], rows: null });
      continue;
    }
    const text = JSON.stringify(row);
    if (chars + text.length > MAX_JSON_CHARS) flush();
    rows.push(text);
    run.push(item);
    chars += text.length + 1;
  }
  flush();
  return runs;
}
