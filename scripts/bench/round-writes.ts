/**
 * What a publish round's bookkeeping of its roles writes, measured in Node's
 * SQLite on the machine's tmpfs (not workerd: a question for a migration,
 * asked cheaply), with the object's schema (schema.ts) and 16,384 bins:
 *   - as the object did it before migration 29: each bin's row of `roles`
 *     is written three times, in transactions of their own: its version
 *     reserved (PackVersions.reserve), its staged file recorded
 *     (RoleTable.recordStagedMany), then made current
 *     (RoleTable.commitStaged);
 *   - with the reservation alone in a table of its own, holding only the
 *     roles of the round under way (`roles` written twice);
 *   - as the object does it since migration 29: the reservation and the
 *     staged file in a table of their own (`reserved_versions`), so that
 *     `roles` is written once, when the round's versions become current.
 * For each, ROUNDS rounds of N random bins (each --files size in turn),
 * reserved and recorded TURN bins a transaction, then committed in one.
 *
 *   node scripts/bench/round-writes.ts [--files N ...] [--dir DIR]
 *
 * Prints the write-ahead log's pages and the µs per file a round signs, and
 * each layout ÷ the first.
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { MIGRATIONS } from "../../durable-objects/schema.ts";

/** The schema before migration 29, on which each layout adds its own (the last one is migration 29). */
const BASE = MIGRATIONS.slice(0, 28);

const BINS = 16_384;
const ROUNDS = 6;
/** Bins reserved and recorded per transaction: a pack's slice, as a round's turn signs them. */
const TURN = 128;
/** A WAL frame: a page and its header. */
const FRAME_BYTES = 4096 + 24;

const RESERVE = `UPDATE roles SET allocated = ?1 WHERE name IN (SELECT value FROM json_each(?2))
  AND MAX(allocated, version, IFNULL(staged_version, 0)) < ?1`;
const STAGED_ROWS = `staged (name, version, expires, length, sha256, slice) AS (
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?))`;

/** Each layout's statements: reserve version ?1 for ?2, a JSON array of names; record staged files, make them current. */
const LAYOUTS = {
  "in roles (before migration 29)": {
    schema: "",
    reserve: RESERVE,
    record: `WITH ${STAGED_ROWS} UPDATE roles SET staged_version = staged.version, staged_expires = staged.expires,
      staged_length = staged.length, staged_sha256 = staged.sha256, staged_pack_slice = staged.slice
      FROM staged WHERE roles.name = staged.name`,
    commit: [
      `UPDATE roles SET version = staged_version, expires = staged_expires, length = staged_length,
        sha256 = staged_sha256, pack_slice = staged_pack_slice, staged_version = NULL, staged_expires = NULL,
        staged_length = NULL, staged_sha256 = NULL, staged_pack_slice = NULL WHERE staged_version IS NOT NULL`,
    ],
  },
  "the reservation apart": {
    schema: "CREATE TABLE role_reservations (name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;",
    reserve: `INSERT INTO role_reservations (name, version) SELECT value, ?1 FROM json_each(?2) WHERE true
      ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
    record: `WITH ${STAGED_ROWS} UPDATE roles SET staged_version = staged.version, staged_expires = staged.expires,
      staged_length = staged.length, staged_sha256 = staged.sha256, staged_pack_slice = staged.slice
      FROM staged WHERE roles.name = staged.name`,
    commit: [
      `DELETE FROM role_reservations WHERE version <= (SELECT staged_version FROM roles AS r
        WHERE r.name = role_reservations.name)`,
      `UPDATE roles SET version = staged_version, expires = staged_expires, length = staged_length,
        sha256 = staged_sha256, pack_slice = staged_pack_slice, staged_version = NULL, staged_expires = NULL,
        staged_length = NULL, staged_sha256 = NULL, staged_pack_slice = NULL WHERE staged_version IS NOT NULL`,
    ],
  },
  // The statements of durable-objects/reserved-versions.ts (reserveAt, stageRun, commit), as SQL.
  "reserved_versions (migration 29)": {
    schema: MIGRATIONS[28] ?? "",
    reserve: `INSERT INTO reserved_versions (name, allocated)
      SELECT roles.name, ?1 FROM roles LEFT JOIN reserved_versions AS r ON r.name = roles.name
      WHERE roles.name IN (SELECT value FROM json_each(?2)) AND MAX(roles.allocated, roles.version, IFNULL(r.allocated, 0)) < ?1
      ON CONFLICT (name) DO UPDATE SET allocated = excluded.allocated`,
    record: `WITH ${STAGED_ROWS} INSERT INTO reserved_versions (name, allocated, staged_version, staged_expires,
      staged_length, staged_sha256, staged_pack_slice)
      SELECT name, version, version, expires, length, sha256, slice FROM staged WHERE name IN (SELECT name FROM roles)
      ON CONFLICT (name) DO UPDATE SET allocated = MAX(allocated, excluded.allocated),
      staged_version = excluded.staged_version, staged_expires = excluded.staged_expires,
      staged_length = excluded.staged_length, staged_sha256 = excluded.staged_sha256,
      staged_pack_slice = excluded.staged_pack_slice`,
    commit: [
      `UPDATE roles SET version = r.staged_version, expires = r.staged_expires, length = r.staged_length,
        sha256 = r.staged_sha256, pack_slice = r.staged_pack_slice, allocated = MAX(roles.allocated, r.allocated)
        FROM reserved_versions AS r WHERE roles.name = r.name AND r.staged_version IS NOT NULL`,
      "DELETE FROM reserved_versions WHERE staged_version IS NOT NULL",
    ],
  },
};
type Layout = keyof typeof LAYOUTS;

const binName = (i: number) => `bins-${i.toString(16).padStart(4, "0")}`;

function inTransaction(db: DatabaseSync, work: () => void): void {
  db.exec("BEGIN");
  work();
  db.exec("COMMIT");
}

/** A database in `dir` with every migration and a published version 1 of each bin; how to remove it. */
function repository(dir: string, layout: Layout): { db: DatabaseSync; wal: () => number; remove: () => void } {
  const file = join(dir, `tuf-edge-round-writes-${process.pid}.db`);
  const remove = () => {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  };
  remove();
  const db = new DatabaseSync(file);
  // Checkpoints by hand only, so the log's growth is what a round wrote.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
  for (const migration of BASE) db.exec(migration);
  db.exec(LAYOUTS[layout].schema);
  const insert = db.prepare(
    "INSERT INTO roles (name, version, expires, length, sha256, allocated, pack_slice, part) VALUES (?, 1, ?, 900, ?, 1, ?, ?)",
  );
  inTransaction(db, () => {
    for (let i = 0; i < BINS; i++) {
      // Bins published one by one expire at different times (roles_by_expires holds them).
      const expires = new Date(Date.UTC(2026, 0, 2, 0, 0, i % 3600)).toISOString().replace(".000", "");
      insert.run(binName(i), expires, "ab".repeat(32), i >> 7, i >> 7);
    }
  });
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return { db, wal: () => statSync(`${file}-wal`).size, remove };
}

/** Pages written to the log and µs spent per file, over ROUNDS rounds of `files` random bins. */
function measure(layout: Layout, files: number, dir: string): { pages: number; us: number } {
  const { db, wal, remove } = repository(dir, layout);
  try {
    const statements = LAYOUTS[layout];
    const reserve = db.prepare(statements.reserve);
    const record = db.prepare(statements.record);
    let bytes = 0;
    let us = 0;
    let signed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const version = round + 2;
      const expires = new Date(Date.UTC(2026, 0, 3, 0, 0, round)).toISOString().replace(".000", "");
      const picked = [
        ...new Set(Array.from({ length: files }, () => binName(Math.floor(Math.random() * BINS)))),
      ].sort();
      const walBefore = wal();
      const started = performance.now();
      for (let i = 0; i < picked.length; i += TURN) {
        const turn = picked.slice(i, i + TURN);
        inTransaction(db, () => reserve.run(version, JSON.stringify(turn)));
        const rows = turn.map((name, j) => [name, version, expires, 1000 + j, "cd".repeat(32), (i + j) >> 7]);
        inTransaction(db, () => record.run(JSON.stringify(rows)));
      }
      inTransaction(db, () => {
        for (const statement of statements.commit) db.exec(statement);
      });
      us += (performance.now() - started) * 1000;
      bytes += wal() - walBefore;
      signed += picked.length;
    }
    const current = db.prepare("SELECT COUNT(*) AS n FROM roles WHERE version > 1").get() as { n: number };
    if (current.n === 0) throw new Error(`${layout}: no bin was made current`);
    db.close();
    return { pages: bytes / FRAME_BYTES / signed, us: us / signed };
  } finally {
    remove();
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      files: { type: "string", multiple: true },
      dir: { type: "string", default: "/dev/shm" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write("usage: node scripts/bench/round-writes.ts [--files N ...] [--dir DIR]\n");
    return;
  }
  const sizes = (values.files ?? ["1200", "4500"]).map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > BINS))
    throw new Error(`--files takes whole numbers from 1 to ${BINS}`);
  const layouts = Object.keys(LAYOUTS) as Layout[];
  console.log("| files a round signs | layout | WAL pages per file | µs per file |");
  console.log("|--:|:--|--:|--:|");
  for (const files of sizes) {
    const results = layouts.map((layout) => measure(layout, files, values.dir));
    results.forEach((r, i) => {
      console.log(`| ${files} | ${layouts[i]} | ${r.pages.toFixed(2)} | ${r.us.toFixed(1)} |`);
    });
    const first = results[0];
    if (first)
      results.slice(1).forEach((r, i) => {
        const ratio = `${(r.pages / first.pages).toFixed(2)} | ${(r.us / first.us).toFixed(2)}`;
        console.log(`| ${files} | ${layouts[i + 1]} ÷ ${layouts[0]} | ${ratio} |`);
      });
  }
}

main();
