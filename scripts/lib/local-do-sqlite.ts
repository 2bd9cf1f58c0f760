/**
 * Reads the on-disk state of a local instance (`wrangler dev --persist-to`)
 * behind the Worker's back, for tests that play an attacker with access to
 * the storage, or that need to see what the service really stored.
 *
 * Miniflare keeps every Durable Object in its own SQLite file:
 *   <persistTo>/v3/do/<script>-<Class>/<object id>.sqlite
 * with the object's name (for objects addressed by name) in the table
 * `__miniflare_do_name`. R2 buckets are Durable Objects too: each object's
 * metadata (key, size, blob id) is a row of `_mf_objects` in
 *   <persistTo>/v3/r2/miniflare-R2BucketObject/<bucket id>.sqlite
 * and its bytes are the file `<persistTo>/v3/r2/<bucket>/blobs/<blob id>`.
 *
 * workerd keeps these databases in WAL mode, so a read-only connection from
 * another process sees every committed transaction (it reads the -wal file
 * through the shared -shm index) and never blocks the running instance.
 * Requires Node's built-in `node:sqlite` (Node ≥ 22.13).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";

export interface LocalDurableObjectFile {
  /** The SQLite file. */
  file: string;
  /** The namespace folder, `<script>-<Class>`. */
  namespace: string;
  /** The name the object was addressed by, or null for an object addressed by id. */
  name: string | null;
}

/** Runs one read-only query on a SQLite file (which may belong to a running workerd) and returns every row. */
export function queryLocalSqlite<T = Record<string, unknown>>(
  file: string,
  sql: string,
  ...params: SQLInputValue[]
): T[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Every Durable Object's SQLite file under `persistTo`, optionally of one class (namespace folders end in `-<Class>`). */
export async function localDurableObjects(persistTo: string, className?: string): Promise<LocalDurableObjectFile[]> {
  const root = join(persistTo, "v3", "do");
  const found: LocalDurableObjectFile[] = [];
  for (const namespace of await readdir(root)) {
    if (className && !namespace.endsWith(`-${className}`)) continue;
    let files: string[];
    try {
      files = await readdir(join(root, namespace));
    } catch {
      continue; // not a folder
    }
    for (const name of files) {
      // metadata.sqlite holds the namespace's alarms, not an object.
      if (!name.endsWith(".sqlite") || name === "metadata.sqlite") continue;
      const file = join(root, namespace, name);
      const [tables] = queryLocalSqlite<{ n: number }>(
        file,
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '__miniflare_do_name'",
      );
      const hasName = (tables?.n ?? 0) > 0;
      const named = hasName
        ? queryLocalSqlite<{ name: string }>(file, "SELECT name FROM __miniflare_do_name LIMIT 1")[0]
        : undefined;
      found.push({ file, namespace, name: named?.name ?? null });
    }
  }
  return found;
}

/** The SQLite file of the one local Durable Object of class `className` addressed by `name`. */
export async function localDurableObjectFile(persistTo: string, className: string, name: string): Promise<string> {
  const [match, ...others] = (await localDurableObjects(persistTo, className)).filter((o) => o.name === name);
  if (!match || others.length > 0) {
    throw new Error(
      `expected one local ${className} Durable Object named "${name}" under ${persistTo}, found ${others.length + (match ? 1 : 0)}`,
    );
  }
  return match.file;
}

/** Read-only rows from the SQLite storage of the local Durable Object `className` named `name`. */
export async function queryLocalDurableObject<T = Record<string, unknown>>(
  persistTo: string,
  object: { className: string; name: string },
  sql: string,
  ...params: SQLInputValue[]
): Promise<T[]> {
  return queryLocalSqlite<T>(await localDurableObjectFile(persistTo, object.className, object.name), sql, ...params);
}

export interface LocalR2Object {
  key: string;
  /** The file holding the object's bytes (overwrite it to tamper with what the Worker serves). */
  blobFile: string;
  /** The size R2 recorded (and the Worker sends as Content-Length). */
  size: number;
  bytes: Buffer;
}

/**
 * The object stored under `key` in any local R2 bucket, read from disk rather
 * than through the Worker (so no edge cache is filled on the way).
 */
export async function readLocalR2Object(persistTo: string, key: string): Promise<LocalR2Object> {
  const r2Root = join(persistTo, "v3", "r2");
  const metadataDir = join(r2Root, "miniflare-R2BucketObject");
  const rows: Array<{ blob_id: string | null; size: number }> = [];
  for (const name of await readdir(metadataDir)) {
    if (!name.endsWith(".sqlite") || name === "metadata.sqlite") continue;
    rows.push(
      ...queryLocalSqlite<{ blob_id: string | null; size: number }>(
        join(metadataDir, name),
        "SELECT blob_id, size FROM _mf_objects WHERE key = ?",
        key,
      ),
    );
  }
  const [row] = rows;
  if (!row || rows.length !== 1)
    throw new Error(`expected one local R2 object "${key}" under ${persistTo}, found ${rows.length}`);
  const { blob_id: blobId, size } = row;
  if (!blobId) throw new Error(`local R2 object "${key}" has no blob (multipart objects are not supported)`);
  for (const bucket of await readdir(r2Root)) {
    if (bucket === "miniflare-R2BucketObject") continue;
    const blobFile = join(r2Root, bucket, "blobs", blobId);
    try {
      return { key, blobFile, size, bytes: await readFile(blobFile) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" && (error as NodeJS.ErrnoException).code !== "ENOTDIR")
        throw error;
    }
  }
  throw new Error(`the blob ${blobId} of local R2 object "${key}" is not under ${r2Root}`);
}
