/**
 * Reading one bin's file out of its pack (bin-pack.ts): a head of the pack
 * for its custom metadata, which says where the file is, then a ranged get of
 * those bytes alone. The file is served as if stored on its own: its ETag is
 * the SHA-256 of the range, as for every other metadata file.
 */
import { sha256Hex } from "../lib/digest.ts";
import { type BinFile, locateInPack } from "./bin-pack.ts";
import { type StoredObject, storedBytes } from "./stored-object.ts";

/** `bin`'s file from the pack stored at `key`, or null if there is no such pack or it does not hold the bin. */
export async function readPackedBin(bucket: R2Bucket, key: string, bin: BinFile): Promise<StoredObject | null> {
  const head = await bucket.head(key);
  const at = head && locateInPack(head.customMetadata, bin);
  if (!at) return null;
  const part = await bucket.get(key, { range: at });
  if (!part) return null;
  const bytes = new Uint8Array(await part.arrayBuffer());
  return storedBytes(bytes, await sha256Hex(bytes));
}
