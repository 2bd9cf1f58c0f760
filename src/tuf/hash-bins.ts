/**
 * Hash-bin delegations as TAP 15 "succinct_roles" describes them: 2^k bins,
 * named `<prefix>-<n>` with n in lower-case hex zero-padded to ceil(k/4)
 * digits; a target belongs to the bin given by the first k bits of the
 * SHA-256 of its path (the computation python-tuf and tuf-js both use).
 */
import { sha256 } from "../lib/digest.ts";
import { utf8 } from "../lib/bytes.ts";

export const MIN_BIT_LENGTH = 1;
export const MAX_BIT_LENGTH = 14;
export const DEFAULT_BIT_LENGTH = 8;
export const DEFAULT_NAME_PREFIX = "bins";

export class HashBins {
  readonly bitLength: number;
  readonly namePrefix: string;
  readonly count: number;
  /** Hex digits in a bin name's suffix (every bin name has the same width). */
  readonly suffixLength: number;

  constructor(bitLength: number = DEFAULT_BIT_LENGTH, namePrefix: string = DEFAULT_NAME_PREFIX) {
    if (!Number.isInteger(bitLength) || bitLength < MIN_BIT_LENGTH || bitLength > MAX_BIT_LENGTH) {
      throw new RangeError(`bit_length must be an integer from ${MIN_BIT_LENGTH} to ${MAX_BIT_LENGTH}`);
    }
    this.bitLength = bitLength;
    this.namePrefix = namePrefix;
    this.count = 2 ** bitLength;
    this.suffixLength = Math.ceil(bitLength / 4);
  }

  /** The bit length (log2) for a power-of-two number of bins, e.g. 256 bins → 8. */
  static bitLengthFor(count: number): number {
    const bits = Math.log2(count);
    if (!Number.isInteger(bits)) throw new RangeError("the number of bins must be a power of two");
    return bits;
  }

  name(index: number): string {
    return `${this.namePrefix}-${index.toString(16).padStart(this.suffixLength, "0")}`;
  }

  /** The index of a bin from its name, or -1 if it is not one of these bins. */
  indexOf(name: string): number {
    const prefix = `${this.namePrefix}-`;
    const suffix = name.slice(prefix.length);
    if (!name.startsWith(prefix) || suffix.length !== this.suffixLength || !/^[0-9a-f]+$/.test(suffix)) return -1;
    const index = Number.parseInt(suffix, 16);
    return index < this.count ? index : -1;
  }

  names(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.name(i));
  }

  async indexFor(targetPath: string): Promise<number> {
    return this.indexForDigest(await sha256(utf8(targetPath)));
  }

  /** The bin index from the SHA-256 of a path's UTF-8: its first bit_length bits. */
  indexForDigest(digest: Uint8Array): number {
    const first32 = new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false);
    return first32 >>> (32 - this.bitLength);
  }

  async binFor(targetPath: string): Promise<string> {
    return this.name(await this.indexFor(targetPath));
  }
}
