/**
 * The R2 layout of one repository. Everything clients download lives here:
 *   <repo>/metadata/<N>.root.json, <V>.<role>.json, timestamp.json
 *   <repo>/shared/empty-bin.json   version 1 of every top-level hash bin: the empty
 *       bin signed once at bootstrap, read for each `1.bins-<hex>.json` (see getMetadata)
 *   <repo>/packs/<version>/65536  later versions of top-level hash bins: a step pack, up to
 *       512 bins' files in one object, read for each `<version>.bins-<hex>.json` (bin-pack.ts);
 *       earlier releases also wrote slice packs, `<repo>/packs/<version>/<slice>`, still read
 *   <repo>/targets/<dir>/<sha256>.<name>
 *   <repo>/log/checkpoint, <repo>/log/tile/…  (the transparency log, C2SP tlog-tiles)
 *   <repo>/quarantine/<key below the repository>  bytes of quarantined targets and their
 *       attestations, kept for review; no route serves this prefix publicly
 *   <repo>/staging/<upload id>   an upload's bytes until the Durable Object accepts them
 *   <repo>/site/status.json, <repo>/site/targets/<path>  what the public pages and health read
 *       (durable-objects/site-documents.ts writes status.json and sends the targets' documents to
 *       the site-documents queue, whose consumer writes them: src/pages/site-document-consumer.ts)
 *   <repo>/public/attestations.json          the attestation documents' index: flavour, complete
 *   <repo>/public/attestations/<path>        a target's attestation list
 *   <repo>/public/npm/<path>                 npm's attestations document of a tarball
 *   <repo>/public/pep740/<file name>         PEP 740 provenance of a file name
 *       (durable-objects/public-documents.ts writes them; the Worker serves them as they are)
 * The files of replaced metadata versions (under metadata/ and packs/) are
 * deleted once the repository's retainSuperseded has passed
 * (durable-objects/superseded-files.ts); roots, timestamp.json, the empty bin,
 * targets and the log never are.
 * Nothing under staging/ is ever served: the target route only maps names to
 * targets/ keys. The Durable Object writes metadata and moves accepted
 * uploads to their content address under targets/; the Worker streams
 * uploads into staging/, its queue consumer writes the targets' site
 * documents the object sends, and otherwise it only reads.
 */
import { sha256Hex } from "../lib/digest.ts";
import { binFile, encodeStepPack, type PackFile, STEP_PACK_SLICE, sliceOf } from "./bin-pack.ts";
import { readPackedBin } from "./bin-pack-reader.ts";
import { JSON_TYPE, type StoredObject } from "./stored-object.ts";

/** Keys one R2 delete call takes at most (R2's limit). */
export const R2_DELETE_LIMIT = 1_000;

/** Compare-and-write rounds a site document's write makes before it gives up (and its message is retried). */
const SITE_WRITE_ATTEMPTS = 5;

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

  /**
   * Stores a metadata file; R2 checks the bytes against their SHA-256 on the
   * way in. timestamp.json also records `rootVersion`, the newest root stored
   * before it: the Worker serves no newer root than the timestamp it serves.
   */
  async putMetadata(
    filename: string,
    bytes: Uint8Array<ArrayBuffer>,
    sha256: string,
    rootVersion?: number,
  ): Promise<void> {
    await this.#bucket.put(this.metadataKey(filename), bytes, {
      sha256,
      httpMetadata: { contentType: JSON_TYPE },
      customMetadata: { sha256, ...(rootVersion === undefined ? {} : { "root-version": String(rootVersion) }) },
    });
  }

  /**
   * A metadata file's bytes. A top-level hash bin's file is read from where
   * the publisher stores it: version 1 from the empty bin that bootstrap
   * signs once for all of them (bins name no role in their signed part, so
   * one file is every bin's version 1), later versions from their pack
   * (bin-pack.ts). A bin stored under its own key (by a repository
   * bootstrapped or published before bins shared a file or a pack) is read
   * from there.
   */
  async getMetadata(filename: string): Promise<StoredObject | null> {
    const bin = binFile(filename);
    if (bin?.version === 1) {
      const shared = await this.#bucket.get(this.#emptyBinKey());
      if (shared) return shared;
    } else if (bin) {
      // A version's bins are in its step pack; a version of an earlier release's may be in a slice pack.
      const packed =
        (await readPackedBin(this.#bucket, this.#packKey(bin.version, STEP_PACK_SLICE), bin)) ??
        (await readPackedBin(this.#bucket, this.#packKey(bin.version, sliceOf(bin.index)), bin));
      if (packed) return packed;
    }
    return this.#bucket.get(this.metadataKey(filename));
  }

  /**
   * Stores the files of at most STEP_PACK_BINS bins of any slices, all at
   * `version`, as its one step pack (bin-pack.ts): the caller stores no other
   * step pack at that version.
   */
  async putStepPack(version: number, width: number, files: readonly PackFile[]): Promise<void> {
    const { body, customMetadata } = encodeStepPack(files, width);
    await this.#bucket.put(this.#packKey(version, STEP_PACK_SLICE), body, {
      sha256: await sha256Hex(body),
      httpMetadata: { contentType: "application/octet-stream" },
      customMetadata,
    });
  }

  #packKey(version: number, slice: number): string {
    return `${this.#repo}/packs/${version}/${slice}`;
  }

  /** Stores version 1 of every top-level hash bin (see getMetadata). */
  async putEmptyBin(bytes: Uint8Array<ArrayBuffer>, sha256: string): Promise<void> {
    await this.#bucket.put(this.#emptyBinKey(), bytes, {
      sha256,
      httpMetadata: { contentType: JSON_TYPE },
      customMetadata: { sha256 },
    });
  }

  #emptyBinKey(): string {
    return `${this.#repo}/shared/empty-bin.json`;
  }

  /** Stores bytes the Durable Object produced itself at their content address (hash- and length-checked by R2). */
  async putTarget(targetPath: string, body: ReadableStream<Uint8Array>, length: number, sha256: string): Promise<void> {
    await this.#putChecked(this.targetKey(targetPath, sha256), body, length, sha256);
  }

  /** Where an upload's bytes wait, unservable, until the Durable Object accepts them. */
  stagingKey(uploadId: string): string {
    return `${this.#repo}/staging/${uploadId}`;
  }

  /**
   * Streams an upload into its staging key. R2 refuses the write when the
   * bytes do not have `sha256` (nothing is stored then); a FixedLengthStream
   * makes it refuse a body longer or shorter than `length`.
   */
  async putStaged(uploadId: string, body: ReadableStream<Uint8Array>, length: number, sha256: string): Promise<void> {
    await this.#putChecked(this.stagingKey(uploadId), body, length, sha256);
  }

  /**
   * Copies an accepted upload from its staging key to its content address
   * (R2 has no rename: one read and one write of the bytes, checked against
   * `sha256` again), then deletes the staged copy. False if nothing is staged.
   */
  async promoteStaged(uploadId: string, targetPath: string, sha256: string): Promise<boolean> {
    const staged = await this.#bucket.get(this.stagingKey(uploadId));
    if (!staged) return false;
    await this.#putChecked(this.targetKey(targetPath, sha256), staged.body, staged.size, sha256);
    await this.deleteStaged(uploadId);
    return true;
  }

  async deleteStaged(uploadId: string): Promise<void> {
    await this.#bucket.delete(this.stagingKey(uploadId));
  }

  /**
   * Deletes files by their keys below the repository's prefix (`metadata/…`,
   * `packs/…`), in one call: at most R2_DELETE_LIMIT keys.
   */
  async deleteFiles(keys: readonly string[]): Promise<void> {
    if (keys.length > R2_DELETE_LIMIT)
      throw new Error(`R2 deletes at most ${R2_DELETE_LIMIT} keys in one call, not ${keys.length}`);
    if (keys.length > 0) await this.#bucket.delete(keys.map((key) => `${this.#repo}/${key}`));
  }

  /** Deletes a target's bytes (bytes the Durable Object did not accept, found at a content address). */
  async deleteTarget(targetPath: string, sha256: string): Promise<void> {
    await this.#bucket.delete(this.targetKey(targetPath, sha256));
  }

  async #putChecked(key: string, body: ReadableStream<Uint8Array>, length: number, sha256: string): Promise<void> {
    const fixed = new FixedLengthStream(length);
    const piping = body.pipeTo(fixed.writable);
    const put = this.#bucket.put(key, fixed.readable, { sha256, customMetadata: { sha256 } });
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

  /** Where a quarantined object (a public key of this repository) is kept for review. */
  quarantineKey(publicKey: string): string {
    const prefix = `${this.#repo}/`;
    if (!publicKey.startsWith(prefix)) throw new Error(`${publicKey} is not a key of repository ${this.#repo}`);
    return `${this.#repo}/quarantine/${publicKey.slice(prefix.length)}`;
  }

  /** Takes an object out of public reach: copies it to its quarantine key, then deletes it. False if it was not there. */
  async hide(publicKey: string): Promise<boolean> {
    const copied = await this.#copy(publicKey, this.quarantineKey(publicKey));
    if (copied) await this.#bucket.delete(publicKey);
    return copied;
  }

  /** Puts a quarantined object back at its public key (the quarantined copy stays). False if none is kept. */
  restore(publicKey: string): Promise<boolean> {
    return this.#copy(this.quarantineKey(publicKey), publicKey);
  }

  /** Deletes the quarantined copy of an object. */
  async discard(publicKey: string): Promise<void> {
    await this.#bucket.delete(this.quarantineKey(publicKey));
  }

  /** The quarantined copy of an object (for operators' review). */
  getQuarantined(publicKey: string): Promise<R2ObjectBody | null> {
    return this.#bucket.get(this.quarantineKey(publicKey));
  }

  async #copy(from: string, to: string): Promise<boolean> {
    const object = await this.#bucket.get(from);
    if (!object) return false;
    const fixed = new FixedLengthStream(object.size);
    const sha256 = object.customMetadata?.sha256;
    await Promise.all([
      object.body.pipeTo(fixed.writable),
      this.#bucket.put(to, fixed.readable, {
        ...(sha256 ? { sha256 } : {}),
        httpMetadata: object.httpMetadata ?? {},
        customMetadata: object.customMetadata ?? {},
      }),
    ]);
    return true;
  }

  /** The documents the public pages read: `status.json`, `targets/<path>`. */
  siteKey(name: string): string {
    return `${this.#repo}/site/${name}`;
  }

  async putSite(name: string, bytes: Uint8Array<ArrayBuffer>, sha256: string): Promise<void> {
    await this.#bucket.put(this.siteKey(name), bytes, {
      sha256,
      httpMetadata: { contentType: JSON_TYPE },
      customMetadata: { sha256 },
    });
  }

  /**
   * Stores a site document read at log size `logSize` unless the stored one
   * was read at the same size or a later one: "written" or "kept" (what is
   * stored is as new or newer). Writers that race settle by R2's
   * conditional writes: a write applies only over the very object it
   * compared with (its etag), or only if none exists, else it compares
   * again. `existed: false` says the document is probably new, so creating
   * it is tried first, with no read. A document without a log size (written
   * before they carried one) is older than any.
   */
  async putSiteIfNewer(
    name: string,
    bytes: Uint8Array<ArrayBuffer>,
    logSize: number,
    existed: boolean,
  ): Promise<"written" | "kept"> {
    const key = this.siteKey(name);
    const sha256 = await sha256Hex(bytes);
    const put = (onlyIf: R2Conditional) =>
      this.#bucket.put(key, bytes, {
        sha256,
        onlyIf,
        httpMetadata: { contentType: JSON_TYPE },
        customMetadata: { sha256, logSize: String(logSize) },
      });
    if (!existed && (await put({ etagDoesNotMatch: "*" }))) return "written";
    for (let attempt = 0; attempt < SITE_WRITE_ATTEMPTS; attempt++) {
      const stored = await this.#bucket.head(key);
      if (stored && Number(stored.customMetadata?.logSize ?? 0) >= logSize) return "kept";
      if (await put(stored ? { etagMatches: stored.etag } : { etagDoesNotMatch: "*" })) return "written";
    }
    throw new Error(`${key}: another writer changed it ${SITE_WRITE_ATTEMPTS} times while this one compared`);
  }

  getSite(name: string): Promise<R2ObjectBody | null> {
    return this.#bucket.get(this.siteKey(name));
  }

  /** Target documents whose path starts with `prefix`, in key order, a page at a time. */
  async listSiteTargets(
    prefix: string,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<{ paths: string[]; cursor: string | null }> {
    const base = this.siteKey("targets/");
    const listed = await this.#bucket.list({
      prefix: base + prefix,
      limit: options.limit,
      ...(options.cursor ? { cursor: options.cursor } : {}),
    });
    return {
      paths: listed.objects.map((o) => o.key.slice(base.length)),
      cursor: listed.truncated ? listed.cursor : null,
    };
  }

  /** The index of the attestation documents (`{flavour, complete}`). */
  attestationIndexKey(): string {
    return `${this.#repo}/public/attestations.json`;
  }

  /** A target's attestation list document. */
  attestationListKey(path: string): string {
    return `${this.#repo}/public/attestations/${path}`;
  }

  /** npm's attestations document of the tarball at `path`. */
  npmDocumentKey(path: string): string {
    return `${this.#repo}/public/npm/${path}`;
  }

  /** PEP 740 provenance of every target named `filename`. */
  pep740DocumentKey(filename: string): string {
    return `${this.#repo}/public/pep740/${filename}`;
  }

  /** Stores a public document at one of the keys above (R2 checks the bytes against `sha256`). */
  async putPublic(key: string, bytes: Uint8Array<ArrayBuffer>, sha256: string): Promise<void> {
    await this.#bucket.put(this.#publicKey(key), bytes, {
      sha256,
      httpMetadata: { contentType: JSON_TYPE },
      customMetadata: { sha256 },
    });
  }

  getPublic(key: string): Promise<R2ObjectBody | null> {
    return this.#bucket.get(this.#publicKey(key));
  }

  async deletePublic(key: string): Promise<void> {
    await this.#bucket.delete(this.#publicKey(key));
  }

  #publicKey(key: string): string {
    if (!key.startsWith(`${this.#repo}/public/`)) throw new Error(`${key} is not a public document of ${this.#repo}`);
    return key;
  }
}
