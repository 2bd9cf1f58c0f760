/**
 * The R2 layout of one repository. Everything clients download lives here:
 *   <repo>/metadata/<N>.root.json, <V>.<role>.json, timestamp.json
 *   <repo>/targets/<dir>/<sha256>.<name>
 *   <repo>/log/checkpoint, <repo>/log/tile/…  (the transparency log, C2SP tlog-tiles)
 * The Durable Object writes metadata; the Worker only reads.
 */
export const JSON_TYPE = "application/json";

export class RepositoryBucket {
  readonly #bucket: R2Bucket;
  readonly #repo: string;

  constructor(bucket: R2Bucket, repo: string) {
    this.#bucket = bucket;
    this.#repo = repo;
  }

  metadataKey(filename: string): string {
    return `${this.#repo}/metadata/${filename}`;
  }

  /** The object key of a target's bytes, by the SHA-256 they must have. */
  targetKey(targetPath: string, sha256: string): string {
    const slash = targetPath.lastIndexOf("/");
    const dir = slash < 0 ? "" : targetPath.slice(0, slash + 1);
    return `${this.#repo}/targets/${dir}${sha256}.${targetPath.slice(slash + 1)}`;
  }

  /** Stores a metadata file; R2 checks the bytes against their SHA-256 on the way in. */
  async putMetadata(filename: string, bytes: Uint8Array<ArrayBuffer>, sha256: string): Promise<void> {
    await this.#bucket.put(this.metadataKey(filename), bytes, {
      sha256,
      httpMetadata: { contentType: JSON_TYPE },
      customMetadata: { sha256 },
    });
  }

  getMetadata(filename: string): Promise<R2ObjectBody | null> {
    return this.#bucket.get(this.metadataKey(filename));
  }

  /**
   * Streams a target into R2. R2 refuses the write when the bytes do not have
   * `sha256` (nothing is stored then); a FixedLengthStream makes it refuse a
   * body longer or shorter than `length`.
   */
  async putTarget(targetPath: string, body: ReadableStream<Uint8Array>, length: number, sha256: string): Promise<void> {
    const fixed = new FixedLengthStream(length);
    const piping = body.pipeTo(fixed.writable);
    const put = this.#bucket.put(this.targetKey(targetPath, sha256), fixed.readable, {
      sha256,
      customMetadata: { sha256 },
    });
    await Promise.all([piping, put]);
  }

  /** The transparency log's files: `checkpoint`, `tile/…`, `tile/entries/…`. */
  logKey(path: string): string {
    return `${this.#repo}/log/${path}`;
  }

  async putLog(path: string, bytes: Uint8Array<ArrayBuffer>, immutable: boolean): Promise<void> {
    await this.#bucket.put(this.logKey(path), bytes, {
      httpMetadata: { contentType: path === "checkpoint" ? "text/plain; charset=utf-8" : "application/octet-stream" },
      customMetadata: { immutable: immutable ? "1" : "0" },
    });
  }

  getLog(path: string): Promise<R2ObjectBody | null> {
    return this.#bucket.get(this.logKey(path));
  }

  /** Attestations, content-addressed: `<repo>/attestations/<sha256>.json`. */
  attestationKey(sha256: string): string {
    return `${this.#repo}/attestations/${sha256}.json`;
  }

  async putAttestation(sha256: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.#bucket.put(this.attestationKey(sha256), bytes, {
      sha256,
      httpMetadata: { contentType: "application/json" },
      customMetadata: { sha256 },
    });
  }

  getAttestation(sha256: string): Promise<R2ObjectBody | null> {
    return this.#bucket.get(this.attestationKey(sha256));
  }

  getTarget(targetPath: string, sha256: string): Promise<R2ObjectBody | null> {
    return this.#bucket.get(this.targetKey(targetPath, sha256));
  }
}
