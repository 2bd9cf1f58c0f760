/**
 * What a page (and health) reads: the files clients download, from R2 through
 * the same edge-cache entries and isolate copies the file routes use
 * (src/http/edge-cache.ts), so a page view costs cache look-ups, not Durable
 * Object calls. Immutable files are
 * cached for good; mutable ones (timestamp, checkpoint, site/status.json, the
 * attestation documents' index) for
 * SHORT_CACHE_SECONDS.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { cachedFile, IMMUTABLE, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";
import type { StoredObject } from "../storage/stored-object.ts";

export interface PublishedFile {
  bytes: Uint8Array<ArrayBuffer>;
  /** The SHA-256 recorded when the file was stored, if any. */
  sha256: string | null;
}

export class Published {
  readonly bucket: RepositoryBucket;
  readonly #c: Context<AppEnv>;
  readonly #short: string;

  constructor(c: Context<AppEnv>, repo: string = c.get("repo")) {
    this.#c = c;
    this.bucket = new RepositoryBucket(c.env.BUCKET, repo);
    this.#short = shortLived(shortCacheSeconds(c.env));
  }

  metadata(file: string): Promise<PublishedFile | null> {
    const mutable = file === "timestamp.json";
    return this.#read(this.bucket.metadataKey(file), mutable, () => this.bucket.getMetadata(file));
  }

  log(path: string, mutable: boolean): Promise<PublishedFile | null> {
    return this.#read(this.bucket.logKey(path), mutable, () => this.bucket.getLog(path));
  }

  attestation(sha256: string): Promise<PublishedFile | null> {
    return this.#read(this.bucket.attestationKey(sha256), false, () => this.bucket.getAttestation(sha256));
  }

  /** A site document; target documents change when their target does, so all are short-lived. */
  site(name: string): Promise<PublishedFile | null> {
    return this.#read(this.bucket.siteKey(name), true, () => this.bucket.getSite(name));
  }

  /** The attestation documents' index (durable-objects/public-documents.ts); mutable. */
  attestationIndex(): Promise<PublishedFile | null> {
    const key = this.bucket.attestationIndexKey();
    return this.#read(key, true, () => this.bucket.getPublic(key));
  }

  async json<T>(file: Promise<PublishedFile | null>): Promise<T | null> {
    const f = await file;
    return f ? (JSON.parse(new TextDecoder().decode(f.bytes)) as T) : null;
  }

  async #read(
    r2Key: string,
    mutable: boolean,
    load: () => Promise<StoredObject | null>,
  ): Promise<PublishedFile | null> {
    const response = await cachedFile(this.#c, { r2Key, cacheControl: mutable ? this.#short : IMMUTABLE, load });
    if (!response) return null;
    const etag = response.headers.get("ETag");
    return {
      bytes: new Uint8Array(await response.arrayBuffer()),
      sha256: etag?.match(/^"([0-9a-f]{64})"$/)?.[1] ?? null,
    };
  }
}
