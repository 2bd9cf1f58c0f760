/**
 * Step 5 of a log monitor run (log-monitor.ts): the new entries decoded and
 * reported, and what the log says of each target path. A path keeps the
 * distinct digests its target.add entries gave it; an entry that gives it
 * another one (a file replaced under the same name) is an alert, whatever
 * its type.
 */
import { decodeEntry, type LogEntry, TARGET_ENTRY_TYPES, type TargetLogEntry } from "../../src/log/entry.ts";
import type { Hashes } from "../../src/tuf/targets.ts";
import type { IdentifierRecord, MonitorFinding, ReportedEntry } from "./log-monitor-report.ts";

function isTargetEntry(entry: LogEntry): entry is TargetLogEntry {
  return (TARGET_ENTRY_TYPES as readonly string[]).includes(entry.type);
}

/** Whether two digests name the same file: they agree on every algorithm both give, and share one. */
function sameDigests(a: Hashes, b: Hashes): boolean {
  let common = 0;
  for (const algorithm of ["sha256", "sha512"] as const) {
    if (a[algorithm] === undefined || b[algorithm] === undefined) continue;
    if (a[algorithm] !== b[algorithm]) return false;
    common += 1;
  }
  return common > 0;
}

function describeHashes(h: Hashes): string {
  return Object.entries(h)
    .map(([a, v]) => `${a}:${v}`)
    .join(", ");
}

/**
 * Decodes the entries from index `from` on, in log order, and follows each
 * path from `known` (left as it is): the entries as reported, and the paths'
 * records after them. Alerts go to `findings`.
 */
export function followEntries(
  leaves: ReadonlyArray<{ index: number; bytes: Uint8Array }>,
  from: number,
  repo: string,
  known: Readonly<Record<string, IdentifierRecord>>,
  findings: MonitorFinding[],
): { entries: ReportedEntry[]; identifiers: Record<string, IdentifierRecord> } {
  const identifiers: Record<string, IdentifierRecord> = structuredClone(known);
  const entries: ReportedEntry[] = [];
  for (const { index, bytes } of leaves) {
    if (index < from) continue;
    let entry: LogEntry;
    try {
      entry = decodeEntry(bytes);
    } catch (error) {
      entries.push({ index, entry: null });
      findings.push({ type: "invalid_entry", severity: "alert", index, detail: (error as Error).message });
      continue;
    }
    entries.push({ index, entry });
    if (entry.repository !== repo) {
      findings.push({
        type: "invalid_entry",
        severity: "alert",
        index,
        detail: `entry ${index} is about repository "${entry.repository}", not "${repo}"`,
      });
    }
    if (!isTargetEntry(entry)) {
      if ("path" in entry) {
        const record = identifiers[entry.path];
        if (record) Object.assign(record, { lastType: entry.type, lastIndex: index });
      }
      continue;
    }
    const record = identifiers[entry.path] ?? { digests: [], lastType: entry.type, lastIndex: index };
    identifiers[entry.path] = record;
    const conflict = record.digests.find((d) => !sameDigests(d.hashes, entry.hashes));
    if (conflict) {
      findings.push({
        type: "digest_changed",
        severity: "alert",
        path: entry.path,
        index,
        entryType: entry.type,
        hashes: entry.hashes,
        previous: conflict,
        detail: `"${entry.path}": entry ${index} (${entry.type}) has ${describeHashes(entry.hashes)}; entry ${conflict.index} added it with ${describeHashes(conflict.hashes)}`,
      });
    }
    if (entry.type === "target.add") {
      const same = record.digests.find((d) => sameDigests(d.hashes, entry.hashes));
      // The same file, perhaps with one more algorithm (a sha512 next to the sha256): remember the union.
      if (same) same.hashes = { ...same.hashes, ...entry.hashes };
      else record.digests.push({ hashes: entry.hashes, index });
    }
    record.lastType = entry.type;
    record.lastIndex = index;
  }
  return { entries, identifiers };
}
