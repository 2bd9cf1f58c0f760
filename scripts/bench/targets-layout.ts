/**
 * The targets table's layout, measured in Node's SQLite on the machine's
 * tmpfs (not workerd: a question for a migration, asked cheaply):
 *   - the rowid table (path primary key) with an index on bin alone, as
 *     before migration 26;
 *   - the same table with the index on bin that holds each entry (bin,
 *     path, entry_canonical, entry_json), as migration 26 made it;
 *   - a table clustered by bin (WITHOUT ROWID, primary key (bin, path), a
 *     unique index on path);
 *   - the bin index holding the columns a plain entry is written from (bin,
 *     path, length, hashes, ...), the rows keeping no entry, as from
 *     migration 27 on (durable-objects/derived-entry.ts).
 * For each, N random targets in 16,384 bins, then, on a fresh connection
 * with SQLite's default page cache (2 MB, as the object's):
 *   - bins read as a round reads them (TargetsIndex.binsJoined's statement:
 *     each bin's entries joined in path order), 128 random bins a transaction;
 *   - new targets written as pushes write them, 100 a transaction;
 *   - then new targets written as an import batch writes them, 10,000 a
 *     transaction (or each --import-batch size in turn).
 * Then migration 27 itself (schema.ts: the bin index rebuilt), timed on N
 * rows as migration 26 left them, with a check that bins join to the same
 * text after it.
 *
 *   node scripts/bench/targets-layout.ts [--targets N ...] [--dir DIR] [--import-batch B ...]
 *
 * Prints µs per bin read, per target written and per target imported, the
 * database's bytes per target, and each layout ÷ the one before migration 26.
 */
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { MIGRATIONS } from "../../durable-objects/schema.ts";
import { ENTRY_CANONICAL } from "../../durable-objects/derived-entry.ts";

const BINS = 16_384;
const READ_TRANSACTIONS = 40;
const BINS_PER_READ = 128;
const WRITE_TRANSACTIONS = 100;
const TARGETS_PER_WRITE = 100;
/** Targets written per import measurement, in transactions of each --import-batch size. */
const IMPORTED = 50_000;

const TABLE = `CREATE TABLE targets (path TEXT PRIMARY KEY, bin TEXT NOT NULL, length INTEGER NOT NULL,
  hashes TEXT NOT NULL, custom TEXT, entry_canonical TEXT, entry_json TEXT);`;
const INSERT =
  "INSERT INTO targets (path, bin, length, hashes, custom, entry_canonical, entry_json) VALUES (?, ?, ?, ?, NULL, ?, '')";
const JOINED = `SELECT bin, group_concat(entry_canonical, ',' ORDER BY path) AS canonical
  FROM targets WHERE bin IN (SELECT value FROM json_each(?)) GROUP BY bin`;

const ENTRIES = "entries in the bin index (26)";
const DERIVED_LAYOUT = "columns in the bin index, entries derived (27)";
/** Each layout's schema, the statement that writes a target's row and the one that joins a round's bins. */
const LAYOUTS = {
  "bin index (before 26)": {
    schema: `${TABLE} CREATE INDEX targets_by_bin ON targets (bin);`,
    insert: INSERT,
    joined: JOINED,
  },
  [ENTRIES]: {
    schema: `${TABLE} CREATE INDEX targets_by_bin ON targets (bin, path, entry_canonical, entry_json);`,
    insert: INSERT,
    joined: JOINED,
  },
  "clustered by bin": {
    schema: `CREATE TABLE targets (bin TEXT NOT NULL, path TEXT NOT NULL, length INTEGER NOT NULL, hashes TEXT NOT NULL,
             custom TEXT, entry_canonical TEXT, entry_json TEXT, PRIMARY KEY (bin, path)) WITHOUT ROWID;
           CREATE UNIQUE INDEX targets_by_path ON targets (path);`,
    insert: INSERT,
    joined: JOINED,
  },
  // Every random target is plain: its row keeps '' (target-rows.ts, stored()), whatever entry is given.
  [DERIVED_LAYOUT]: {
    schema: `${TABLE} CREATE INDEX targets_by_bin ON targets (bin, path, length, hashes, entry_canonical, entry_json);`,
    insert: INSERT.replace("?, '')", "iif(length(?) > 0, '', NULL), '')"),
    joined: JOINED.replace("entry_canonical,", `${ENTRY_CANONICAL},`),
  },
} satisfies Record<string, { schema: string; insert: string; joined: string }>;
type Layout = keyof typeof LAYOUTS;

/** A random target's row: an npm-like path, its bin by SHA-256, and an entry of the usual size. */
function randomTarget(): [string, string, number, string, string] {
  const path = `pkg-${randomBytes(6).toString("hex")}/pkg-${randomBytes(3).toString("hex")}-1.0.${randomBytes(1)[0]}.tgz`;
  const bin = Number.parseInt(createHash("sha256").update(path).digest("hex").slice(0, 4), 16) % BINS;
  const hashes = JSON.stringify({ sha256: randomBytes(32).toString("hex") });
  return [
    path,
    `bins-${bin.toString(16).padStart(4, "0")}`,
    12_345,
    hashes,
    `"${path}":{"hashes":${hashes},"length":12345}`,
  ];
}

function randomBins(count: number): string[] {
  return Array.from(
    { length: count },
    () =>
      `bins-${Math.floor(Math.random() * BINS)
        .toString(16)
        .padStart(4, "0")}`,
  );
}

function inTransaction(db: DatabaseSync, work: () => void): void {
  db.exec("BEGIN");
  work();
  db.exec("COMMIT");
}

/** A fresh database file in `dir` for `name`, and how to remove it. */
function scratch(dir: string, name: number): { file: string; remove: () => void } {
  const file = join(dir, `tuf-edge-targets-layout-${name}-${process.pid}.db`);
  const remove = () => {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  };
  remove();
  return { file, remove };
}

/** Writes `targets` random rows in `layout`, 10,000 a transaction. */
function fill(file: string, layout: Layout, targets: number): void {
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(LAYOUTS[layout].schema);
  const insert = db.prepare(LAYOUTS[layout].insert);
  for (let i = 0; i < targets; i += 10_000)
    inTransaction(db, () => {
      for (let j = i; j < Math.min(targets, i + 10_000); j++) insert.run(...randomTarget());
    });
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}

/** The database's pages in use, in bytes per target. */
function bytesPerTarget(db: DatabaseSync, targets: number): number {
  const pages = db
    .prepare("SELECT page_count - freelist_count AS used FROM pragma_page_count, pragma_freelist_count")
    .get() as { used: number };
  const page = db.prepare("PRAGMA page_size").get() as { page_size: number };
  return (pages.used * page.page_size) / targets;
}

function measure(
  layout: Layout,
  targets: number,
  dir: string,
  importBatches: readonly number[],
): { readUs: number; writeUs: number; importUs: number[]; bytesPerTarget: number } {
  const { file, remove } = scratch(dir, Object.keys(LAYOUTS).indexOf(layout));
  try {
    fill(file, layout, targets);
    const db = new DatabaseSync(file);
    const bytes = bytesPerTarget(db, targets);
    const joined = db.prepare(LAYOUTS[layout].joined);
    let started = performance.now();
    for (let r = 0; r < READ_TRANSACTIONS; r++)
      inTransaction(db, () => joined.all(JSON.stringify(randomBins(BINS_PER_READ).sort())));
    const readUs = ((performance.now() - started) * 1000) / (READ_TRANSACTIONS * BINS_PER_READ);
    const write = db.prepare(LAYOUTS[layout].insert);
    started = performance.now();
    for (let w = 0; w < WRITE_TRANSACTIONS; w++)
      inTransaction(db, () => {
        for (let t = 0; t < TARGETS_PER_WRITE; t++) write.run(...randomTarget());
      });
    const writeUs = ((performance.now() - started) * 1000) / (WRITE_TRANSACTIONS * TARGETS_PER_WRITE);
    // Each batch size in turn, on the same database (a later one finds IMPORTED more rows per size before it).
    const importUs = importBatches.map((batch) => {
      const begun = performance.now();
      for (let done = 0; done < IMPORTED; done += batch)
        inTransaction(db, () => {
          for (let t = done; t < Math.min(IMPORTED, done + batch); t++) write.run(...randomTarget());
        });
      return ((performance.now() - begun) * 1000) / IMPORTED;
    });
    db.close();
    return { readUs, writeUs, importUs, bytesPerTarget: bytes };
  } finally {
    remove();
  }
}

/**
 * Migration 27 run on `targets` rows written as migration 26 left them
 * (schema.ts: the bin index rebuilt, the rows left as they are): its time,
 * the bytes per target before and after, and a check that 128 random bins
 * join to the same text before and after.
 */
function measureMigration(targets: number, dir: string): { seconds: number; before: number; after: number } {
  const { file, remove } = scratch(dir, 99);
  try {
    fill(file, ENTRIES, targets);
    const db = new DatabaseSync(file);
    const before = bytesPerTarget(db, targets);
    const bins = JSON.stringify(randomBins(BINS_PER_READ).sort());
    const joinedBefore = db.prepare(LAYOUTS[ENTRIES].joined).all(bins);
    const started = performance.now();
    db.exec(MIGRATIONS[26] ?? "");
    const seconds = (performance.now() - started) / 1000;
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const joinedAfter = db.prepare(LAYOUTS[DERIVED_LAYOUT].joined).all(bins);
    if (JSON.stringify(joinedAfter) !== JSON.stringify(joinedBefore))
      throw new Error("migration 27 changed what a bin joins to");
    const after = bytesPerTarget(db, targets);
    db.close();
    return { seconds, before, after };
  } finally {
    remove();
  }
}

const { values } = parseArgs({
  options: {
    targets: { type: "string", multiple: true, default: ["100000", "1000000"] },
    dir: { type: "string", default: "/dev/shm" },
    "import-batch": { type: "string", multiple: true, default: ["10000"] },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(`usage: node scripts/bench/targets-layout.ts [--targets N ...] [--dir DIR] [--import-batch B ...]

Layouts of the targets table in Node's SQLite, with N random targets in
16,384 bins (default 100,000 and 1,000,000), in DIR (default /dev/shm): the
index on bin alone (before migration 26), the bin index holding the entries
(migration 26), a table clustered by bin, and the bin index holding the
columns entries are written from (migration 27). For each: µs per bin read
as a round joins it, µs per target written as pushes write them (100 a
transaction) and as an import writes them (B a transaction, 50,000 targets
for each B, default 10,000 as tuf-edge import sends them; several B are
measured in turn on the same database), the database's bytes per target,
and each ÷ the layout before migration 26. Then migration 27's time on N
rows as migration 26 left them.`);
  process.exit(0);
}
const importBatches = values["import-batch"].map((text) => {
  const b = Number(text);
  if (!Number.isSafeInteger(b) || b < 1) throw new Error(`--import-batch takes a positive integer, not ${text}`);
  return b;
});
const f = (x: number) => x.toFixed(1).padStart(9);
const ratio = (a: number, b: number) => (a / b).toFixed(2).padStart(9);
const imported = importBatches.map((b) => `target imported (${b} a transaction), µs`);
console.log(
  `| targets | layout | bin read, µs | target written, µs | read + written, µs | ${imported.join(" | ")} | bytes per target |`,
);
console.log(`|--:|:--|--:|--:|--:|${imported.map(() => "--:|").join("")}--:|`);
for (const text of values.targets) {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--targets takes a positive integer, not ${text}`);
  const measured = (Object.keys(LAYOUTS) as Layout[]).map((layout) => ({
    layout,
    m: measure(layout, n, values.dir, importBatches),
  }));
  for (const { layout, m } of measured)
    console.log(
      `| ${n} | ${layout} | ${f(m.readUs)} | ${f(m.writeUs)} | ${f(m.readUs + m.writeUs)} | ${m.importUs.map(f).join(" | ")} | ${f(m.bytesPerTarget)} |`,
    );
  const [first, ...others] = measured;
  const b = first?.m;
  if (first && b)
    for (const { layout, m } of others)
      console.log(
        `| ${n} | ${layout} ÷ ${first.layout} | ${ratio(m.readUs, b.readUs)} | ${ratio(m.writeUs, b.writeUs)} | ${ratio(m.readUs + m.writeUs, b.readUs + b.writeUs)} | ${m.importUs.map((us, i) => ratio(us, b.importUs[i] ?? us)).join(" | ")} | ${ratio(m.bytesPerTarget, b.bytesPerTarget)} |`,
      );
  const m = measureMigration(n, values.dir);
  console.log(
    `\nmigration 27 at ${n} targets (rows as 26 left them): ${m.seconds.toFixed(1)} s; bytes per target ${m.before.toFixed(1)} before, ${m.after.toFixed(1)} after (bins join to the same text)\n`,
  );
}
