/**
 * Proof that an aggregate saw a bin's rows in path order. A round joins each
 * bin's entries with `group_concat` (targets-index.ts, binsJoined), and the
 * signed bytes depend on their order. `group_concat(x, ',' ORDER BY path)`
 * promises it, but SQLite then sorts every bin's rows in a temporary B-tree,
 * although the bin index (bin, path, …) already yields them in that order:
 * at 625 targets a bin that sort was most of the statement's time
 * (docs/measured.md, "A bin's order proven, not sorted"). Without the
 * `ORDER BY` the order is whatever the scan's is, which SQLite does not
 * promise. So the same aggregate step also joins the rows' paths
 * (PATH_WITNESS): every aggregate of one row loop sees the rows in one
 * order, and if the paths it joined ascend, so did the entries. A bin whose
 * witness does not prove it is read again with the `ORDER BY`. Plain SQL and
 * string code, no I/O.
 */
import { sortsAlikeEverywhere } from "../src/tuf/canonical.ts";

/** The separator of PATH_WITNESS: a control character, which no target path holds (src/schemas/target-path.ts). */
const SEPARATOR = "\n";

/** SQL result columns: the bin's row count and its paths joined in the order the aggregate saw them. */
export const PATH_WITNESS = "COUNT(*) AS witness_rows, group_concat(path, char(10)) AS witness_paths";

/** The columns PATH_WITNESS adds to a row. */
export interface PathWitness {
  witness_rows: number;
  witness_paths: string | null;
}

/**
 * Whether the witness proves its aggregate saw the rows in SQLite's path
 * order (BINARY, by UTF-8 bytes), strictly ascending. Not proven: a path
 * that holds the separator (more pieces than rows), or one whose order by
 * UTF-16 code unit (JavaScript's `<`) could differ from its order by UTF-8
 * bytes (a character in U+E000–U+FFFF, which canonical.ts refuses anyway).
 */
export function scannedInOrder(row: PathWitness): boolean {
  if (row.witness_rows === 0) return true;
  if (row.witness_paths === null || !sortsAlikeEverywhere(row.witness_paths)) return false;
  const paths = row.witness_paths.split(SEPARATOR);
  if (paths.length !== row.witness_rows) return false;
  for (let i = 1; i < paths.length; i++) if (!((paths[i - 1] as string) < (paths[i] as string))) return false;
  return true;
}
