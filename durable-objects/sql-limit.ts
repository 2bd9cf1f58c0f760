/**
 * A LIMIT clause with its count written into the statement's text, never
 * bound as a parameter.
 *
 * SQLite plans a `LIMIT ?` (or `OFFSET ?`) with the value bound to it, and so
 * marks the statement to be prepared again once that binding changes. workerd
 * clears a statement's bindings after every run (`sqlite3_clear_bindings`),
 * so a cached statement with a bound LIMIT is parsed and planned again on
 * each run: at 2,000 pushed targets/s that was the object's most frequent
 * statement (README, "Measured": "Statements prepared again"). A literal
 * count keeps the cached plan. Counts are the callers' constants or
 * settings; each distinct count is one more cached statement.
 */
export function sqlLimit(count: number): string {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`a LIMIT is a non-negative integer, not ${count}`);
  }
  return `LIMIT ${count}`;
}
