/**
 * Checks downloaded bytes against the length and hashes their referrer lists
 * (spec §5.5.2 snapshot against timestamp, §5.6.2 targets against snapshot,
 * §5.7 a target file against targets). Every listed hash must match, and an
 * algorithm this code cannot compute refuses the file rather than skipping it.
 */
import { toHex } from "../../lib/bytes.ts";
import { BadHashError } from "../errors.ts";

const ALGORITHMS: Record<string, string> = { sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };

export async function checkLengthAndHashes(
  name: string,
  bytes: Uint8Array<ArrayBuffer>,
  expected: { length?: number | undefined; hashes?: Readonly<Record<string, string>> | undefined },
): Promise<void> {
  if (expected.length !== undefined && bytes.length !== expected.length) {
    throw new BadHashError(`${name}: ${bytes.length} bytes, its referrer lists ${expected.length}`);
  }
  for (const [algorithm, want] of Object.entries(expected.hashes ?? {})) {
    const webCrypto = ALGORITHMS[algorithm];
    if (!webCrypto) throw new BadHashError(`${name}: hash algorithm ${algorithm} is not supported`);
    const have = toHex(new Uint8Array(await crypto.subtle.digest(webCrypto, bytes)));
    if (have !== want) throw new BadHashError(`${name}: ${algorithm} ${have}, its referrer lists ${want}`);
  }
}
