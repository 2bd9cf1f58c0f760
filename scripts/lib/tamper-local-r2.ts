/**
 * Alters an object's bytes in the R2 bucket of a local instance, behind the
 * Worker's back, to test that clients reject what the repository did not sign.
 *
 * Miniflare keeps R2 object bodies as plain files ("blobs") under
 * `<persistTo>/v3/r2/<bucket>/blobs/` and their metadata (key, size, hashes,
 * blob id) in SQLite; it reads the blob file on every `get`. So overwriting
 * the blob file with as many different bytes changes what the Worker serves,
 * while R2's recorded size and checksums stay the old ones, as they would after
 * storage corruption or tampering.
 */
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Every file in a `blobs` folder of the R2 state under `persistTo`. */
async function r2BlobFiles(persistTo: string): Promise<string[]> {
  const r2Root = join(persistTo, "v3", "r2");
  const files: string[] = [];
  for (const entry of await readdir(r2Root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.parentPath.split(/[\\/]/).at(-1) === "blobs")
      files.push(join(entry.parentPath, entry.name));
  }
  return files;
}

/**
 * Replaces the body of the one local R2 object whose bytes are `original` with
 * `replacement` (same length, so only the hash check can catch it). Throws when
 * no object, or more than one, holds exactly `original`.
 */
export async function tamperLocalR2Object(
  persistTo: string,
  original: Uint8Array,
  replacement: Uint8Array,
): Promise<string> {
  if (replacement.length !== original.length) throw new RangeError("the replacement must have the original's length");
  if (Buffer.from(replacement).equals(Buffer.from(original)))
    throw new RangeError("the replacement must differ from the original");
  const matches: string[] = [];
  for (const file of await r2BlobFiles(persistTo)) {
    if ((await stat(file)).size !== original.length) continue;
    if ((await readFile(file)).equals(original)) matches.push(file);
  }
  if (matches.length !== 1) {
    throw new Error(`expected one local R2 blob with the given bytes under ${persistTo}, found ${matches.length}`);
  }
  const [file] = matches as [string];
  await writeFile(file, replacement);
  return file;
}

/**
 * The bytes of every local R2 object that contain `needle` (read from the
 * blob files, not through the Worker, so no cache keeps a copy of them).
 */
export async function findLocalR2Objects(persistTo: string, needle: string): Promise<Uint8Array[]> {
  const found: Uint8Array[] = [];
  for (const file of await r2BlobFiles(persistTo)) {
    const bytes = await readFile(file);
    if (bytes.includes(needle)) found.push(new Uint8Array(bytes));
  }
  return found;
}
