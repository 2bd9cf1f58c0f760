/**
 * End to end: the reference TypeScript client (tuf-js) against a real local
 * instance (wrangler dev on workerd, Durable Objects and R2 persisted on disk).
 */
import { randomBytes, createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { repositoryUrls, writeTrustedRoot, type RepositoryUrls } from "../../scripts/lib/client-setup.ts";
import { randomSecrets, startLocalInstance, type LocalInstance } from "../../scripts/lib/local-instance.ts";
import { tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { defined } from "../../scripts/lib/defined.ts";

const REPO = "e2e";
const SHORT = "public, max-age=10";
const IMMUTABLE = "public, max-age=31536000, immutable";

/** Unique bytes: the tamper helper finds a target's blob by its content. */
function content(label: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(`${label} ${randomBytes(16).toString("hex")}\n`));
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("tuf-js client against a local instance", () => {
  let instance: LocalInstance;
  let scratch: string;
  let client: AdminClient;
  let urls: RepositoryUrls;
  /** The client's metadata folder, kept across refreshes as a real client's would be. */
  let metadataDir: string;

  const hello = { path: "hello/hello-world.txt", bytes: content("hello from tuf-edge") };
  const pkg = { path: "packages/demo-1.0.0.tgz", bytes: content("demo package") };
  const tampered = { path: "packages/tampered-2.0.0.tgz", bytes: content("bytes that will be altered in R2") };
  const listedOnly = {
    path: "docs/guide.pdf",
    length: 4321,
    sha256: randomBytes(32).toString("hex"),
    custom: { note: "metadata only" },
  };

  let before: { timestamp: number; snapshot: number };

  function updater(targetDir: string): Updater {
    return new Updater({ metadataDir, metadataBaseUrl: urls.metadata, targetDir, targetBaseUrl: urls.targets });
  }

  async function persisted(role: string): Promise<any> {
    return JSON.parse(await readFile(join(metadataDir, `${role}.json`), "utf8"));
  }

  async function tempDir(name: string): Promise<string> {
    return mkdtemp(join(scratch, `${name}-`));
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-e2e-"));
    const secrets = randomSecrets();
    instance = await startLocalInstance({ persistTo: join(scratch, "state"), secrets });
    urls = repositoryUrls(instance.baseUrl, REPO);
    client = new AdminClient({ baseUrl: instance.baseUrl, repo: REPO, token: secrets.ADMIN_TOKEN });
    const signers = await Promise.all([1, 2].map(async () => (await Ed25519Signer.generate()).signer));
    const { rootBytes } = await bootstrapRepository(client, {
      rootSigners: signers,
      threshold: 2,
      settings: { bins: 256 },
    });
    metadataDir = await tempDir("metadata");
    await writeTrustedRoot(join(metadataDir, "root.json"), rootBytes);
  });

  afterAll(async () => {
    await instance?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("refreshes from root v1 and downloads a target through its hash bin", async () => {
    await client.upload(hello.path, hello.bytes);
    const targetDir = await tempDir("targets-a");
    const tuf = updater(targetDir);
    await tuf.refresh();

    const info = await tuf.getTargetInfo(hello.path);
    expect(info).toBeDefined();
    expect(defined(info).length).toBe(hello.bytes.length);
    expect(defined(info).hashes).toEqual({ sha256: sha256(hello.bytes) });
    const file = await tuf.downloadTarget(defined(info));
    expect(new Uint8Array(await readFile(file))).toEqual(hello.bytes);

    // The target came from a bin the top-level targets delegates to, not from targets itself.
    const targets = await persisted("targets");
    // tuf-js accepted (and kept) the timestamp's commitment to the transparency log.
    const timestamp = await persisted("timestamp");
    expect(timestamp.signed["x-tuf-edge-log"]).toMatchObject({
      origin: expect.stringMatching(/\/e2e$/),
      size: expect.any(Number),
    });
    // Top-level targets lists only the transparency log's verifier key; packages live in bins.
    expect(Object.keys(targets.signed.targets)).toEqual(["tuf-edge/log-verifier-key.txt"]);
    expect(targets.signed.delegations.succinct_roles).toMatchObject({ bit_length: 8, name_prefix: "bins" });
    const bins = (await readdir(metadataDir)).filter((f) => /^bins-[0-9a-f]{2}\.json$/.test(f));
    expect(bins).toHaveLength(1);
    const bin = await persisted(defined(bins[0]).slice(0, -".json".length));
    expect(Object.keys(bin.signed.targets)).toEqual([hello.path]);

    before = {
      timestamp: (await persisted("timestamp")).signed.version,
      snapshot: (await persisted("snapshot")).signed.version,
    };
  });

  it("sees targets added later, uploaded or listed only, after another refresh", async () => {
    await client.upload(pkg.path, pkg.bytes);
    await client.upload(tampered.path, tampered.bytes);
    const { versions } = await client.changeTargets({
      add: [
        {
          path: listedOnly.path,
          length: listedOnly.length,
          hashes: { sha256: listedOnly.sha256 },
          custom: listedOnly.custom,
        },
      ],
    });
    expect(versions.timestamp).toBeGreaterThan(before.timestamp);
    // A cached timestamp.json may be reused for up to SHORT_CACHE_SECONDS (10 s); wait until the served one has caught up.
    await waitFor(
      async () => (await fetchJson(`${urls.metadata}/timestamp.json`)).signed.version >= versions.timestamp,
      15_000,
    );

    const targetDir = await tempDir("targets-b");
    const tuf = updater(targetDir);
    await tuf.refresh();

    const timestamp = (await persisted("timestamp")).signed.version;
    const snapshot = (await persisted("snapshot")).signed.version;
    expect(timestamp).toBe(versions.timestamp);
    expect(snapshot).toBeGreaterThan(before.snapshot);

    expect((await tuf.getTargetInfo(hello.path))?.hashes).toEqual({ sha256: sha256(hello.bytes) });
    const pkgInfo = await tuf.getTargetInfo(pkg.path);
    expect(pkgInfo).toMatchObject({ length: pkg.bytes.length, hashes: { sha256: sha256(pkg.bytes) } });
    expect((await tuf.getTargetInfo(tampered.path))?.length).toBe(tampered.bytes.length);
    const listedInfo = await tuf.getTargetInfo(listedOnly.path);
    expect(listedInfo).toMatchObject({
      length: listedOnly.length,
      hashes: { sha256: listedOnly.sha256 },
      custom: listedOnly.custom,
    });
    expect(await tuf.getTargetInfo("packages/never-added.tgz")).toBeUndefined();

    // The bins that gained targets were republished (bootstrap published every bin at version 1).
    const binFiles = (await readdir(metadataDir)).filter((f) => f.startsWith("bins-"));
    const binsByTarget = new Map<string, number>();
    for (const f of binFiles) {
      const bin = JSON.parse(await readFile(join(metadataDir, f), "utf8"));
      for (const path of Object.keys(bin.signed.targets)) binsByTarget.set(path, bin.signed.version);
    }
    expect(binsByTarget.get(pkg.path)).toBeGreaterThan(1);
    expect(binsByTarget.get(listedOnly.path)).toBeGreaterThan(1);

    const file = await tuf.downloadTarget(defined(pkgInfo));
    expect(new Uint8Array(await readFile(file))).toEqual(pkg.bytes);
    // Listed in the metadata, but no bytes were ever stored.
    await expect(tuf.downloadTarget(defined(listedInfo))).rejects.toMatchObject({ statusCode: 404 });
  });

  it("rejects a target whose stored bytes were altered in R2", async () => {
    const altered = tampered.bytes.map((b) => b ^ 0x20);
    await tamperLocalR2Object(join(scratch, "state"), tampered.bytes, altered);
    // The server does serve the altered bytes: only the client's hash check stands in the way.
    const served = await fetch(`${urls.targets}/packages/${sha256(tampered.bytes)}.tampered-2.0.0.tgz`);
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(altered);

    const targetDir = await tempDir("targets-c");
    const tuf = updater(targetDir);
    await tuf.refresh();
    const info = await tuf.getTargetInfo(tampered.path);
    expect(info).toBeDefined();
    const error = await tuf.downloadTarget(defined(info)).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.constructor.name).toBe("LengthOrHashMismatchError");
    expect(error?.message).toMatch(/Expected hash/);
    expect(await readdir(targetDir)).toEqual([]);

    // An untouched target still downloads into the same folder.
    const ok = await tuf.downloadTarget(defined(await tuf.getTargetInfo(hello.path)));
    expect(new Uint8Array(await readFile(ok))).toEqual(hello.bytes);
  });

  it("serves timestamp.json short-lived, versioned files immutable, and 404 for the next root", async () => {
    const timestamp = await fetch(`${urls.metadata}/timestamp.json`);
    expect(timestamp.status).toBe(200);
    expect(timestamp.headers.get("Cache-Control")).toBe(SHORT);
    const { signed } = (await timestamp.json()) as { signed: { meta: Record<string, { version: number }> } };
    const snapshotVersion = defined(signed.meta["snapshot.json"]).version;
    const snapshot = await fetchJson(`${urls.metadata}/${snapshotVersion}.snapshot.json`);
    const targetsVersion = snapshot.signed.meta["targets.json"].version;
    const binVersion = snapshot.signed.meta["bins-00.json"].version;

    const versioned = [
      `${urls.metadata}/1.root.json`,
      `${urls.metadata}/${snapshotVersion}.snapshot.json`,
      `${urls.metadata}/${targetsVersion}.targets.json`,
      `${urls.metadata}/${binVersion}.bins-00.json`,
      `${urls.targets}/hello/${sha256(hello.bytes)}.hello-world.txt`,
    ];
    for (const url of versioned) {
      const response = await fetch(url);
      await response.arrayBuffer();
      expect([url, response.status, response.headers.get("Cache-Control")]).toEqual([url, 200, IMMUTABLE]);
    }

    const nextRoot = await fetch(`${urls.metadata}/2.root.json`);
    await nextRoot.arrayBuffer();
    expect(nextRoot.status).toBe(404);
    expect(nextRoot.headers.get("Cache-Control")).toBe(SHORT);
  });
});

async function fetchJson(url: string): Promise<any> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return response.json();
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
