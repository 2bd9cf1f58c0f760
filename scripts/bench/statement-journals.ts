/**
 * Which inserts make SQLite copy pages to a journal before changing them,
 * measured in Node's SQLite (the same pager as the object's) on the
 * machine's tmpfs, with temporary files on disk as workerd keeps them:
 *   - rows read from json_each (INSERT ... SELECT ... FROM json_each(?)),
 *     plain or OR IGNORE, as targets-index.ts wrote a push's targets before
 *     plain-inserts.ts;
 *   - rows in VALUES with bound parameters, plain or OR IGNORE;
 *   - OR IGNORE VALUES inside a savepoint opened in the transaction (as
 *     transactionSync does: accept-group.ts's careful way), or as the
 *     savepoint that begins the transaction (storage.transaction()).
 * Each shape writes 20 transactions of 16 statements of 10 rows into a
 * table of 100,000 rows with a primary key and an index, both in random
 * order (as targets' path and bin), and reports this process's write
 * system calls and KB written per row (/proc/self/io: the write-ahead log's
 * frames and the journals' copies alike) and µs per row.
 *
 *   node scripts/bench/statement-journals.ts [--rows N] [--dir DIR]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { parseProcIo } from "./proc-io.ts";

const TRANSACTIONS = 20;
const STATEMENTS = 16;
const ROWS = 10;

const { values: options } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    dir: { type: "string", default: "/dev/shm" },
    help: { type: "boolean", short: "h" },
  },
});
if (options.help) {
  console.log("usage: node scripts/bench/statement-journals.ts [--rows N] [--dir DIR]");
  process.exit(0);
}
const existing = Number(options.rows);
if (!Number.isSafeInteger(existing) || existing < 0) throw new Error(`--rows must be a count, not ${options.rows}`);

const dir = mkdtempSync(join(options.dir, "statement-journals-"));
// SQLite's unix files put temporary files (a statement journal past 64 KB) here.
process.env.SQLITE_TMPDIR = dir;
const db = new DatabaseSync(join(dir, "journals.db"));
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA temp_store = FILE");
db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, bin TEXT NOT NULL, v TEXT NOT NULL)");
db.exec("CREATE INDEX t_by_bin ON t (bin, k, v)");
const row = () => [
  randomBytes(12).toString("hex"),
  `bins-${(Math.random() * 16_384) | 0}`,
  randomBytes(48).toString("hex"),
];
const fill = db.prepare("INSERT INTO t VALUES (?, ?, ?)");
db.exec("BEGIN");
for (let i = 0; i < existing; i++) fill.run(...(row() as [string, string, string]));
db.exec("COMMIT");
db.exec("PRAGMA wal_checkpoint(TRUNCATE)");

const valuesSql = (verb: string) => `${verb} INTO t VALUES ${Array(ROWS).fill("(?, ?, ?)").join(", ")}`;
const jsonSql = (verb: string) => `${verb} INTO t SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`;
const asValues = () => Array.from({ length: ROWS }, row).flat();
const asJson = () => [JSON.stringify(Array.from({ length: ROWS }, row))];

interface Shape {
  name: string;
  sql: string;
  args: () => string[];
  begin: string[];
  end: string[];
}
const inTransaction = { begin: ["BEGIN"], end: ["COMMIT"] };
const shapes: Shape[] = [
  { name: "INSERT ... FROM json_each, in BEGIN", sql: jsonSql("INSERT"), args: asJson, ...inTransaction },
  {
    name: "INSERT OR IGNORE ... FROM json_each, in BEGIN",
    sql: jsonSql("INSERT OR IGNORE"),
    args: asJson,
    ...inTransaction,
  },
  { name: "INSERT ... VALUES, in BEGIN", sql: valuesSql("INSERT"), args: asValues, ...inTransaction },
  {
    name: "INSERT OR IGNORE ... VALUES, in BEGIN",
    sql: valuesSql("INSERT OR IGNORE"),
    args: asValues,
    ...inTransaction,
  },
  {
    name: "INSERT OR IGNORE ... VALUES, in a savepoint inside BEGIN",
    sql: valuesSql("INSERT OR IGNORE"),
    args: asValues,
    begin: ["BEGIN", "SAVEPOINT s"],
    end: ["RELEASE s", "COMMIT"],
  },
  {
    name: "INSERT OR IGNORE ... VALUES, in a savepoint that begins the transaction",
    sql: valuesSql("INSERT OR IGNORE"),
    args: asValues,
    begin: ["SAVEPOINT s"],
    end: ["RELEASE s"],
  },
];

const io = () => {
  const read = parseProcIo(readFileSync("/proc/self/io", "utf8"));
  if (!read) throw new Error("/proc/self/io has no wchar or syscw");
  return read;
};
const written = TRANSACTIONS * STATEMENTS * ROWS;
console.log(
  `| ${written} rows into ${existing.toLocaleString("en")} (16 statements of 10 a transaction) | write calls per row | KB written per row | µs per row |`,
);
console.log("|---|--:|--:|--:|");
for (const shape of shapes) {
  const statement = db.prepare(shape.sql);
  const before = io();
  const start = process.hrtime.bigint();
  for (let t = 0; t < TRANSACTIONS; t++) {
    for (const sql of shape.begin) db.exec(sql);
    for (let s = 0; s < STATEMENTS; s++) statement.run(...shape.args());
    for (const sql of shape.end) db.exec(sql);
  }
  const us = Number(process.hrtime.bigint() - start) / 1000;
  const after = io();
  const calls = (after.writeCalls - before.writeCalls) / written;
  const kb = (after.writeBytes - before.writeBytes) / 1024 / written;
  console.log(`| ${shape.name} | ${calls.toFixed(2)} | ${kb.toFixed(2)} | ${(us / written).toFixed(1)} |`);
}
db.close();
rmSync(dir, { recursive: true, force: true });
