import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index.ts";
import { describe, expect, it, vi } from "vitest";
import { CosignatureV1Signer, cosign, openCheckpoint, addCosignatures } from "../../src/log/checkpoint.ts";
import { decodeEntry } from "../../src/log/entry.ts";
import { leafHashSync, MerkleAccumulator, verifyConsistency, verifyInclusion } from "../../src/log/merkle.ts";
import { Ed25519NoteVerifier } from "../../src/log/note.ts";
import { decodeEntryBundle, decodeTile } from "../../src/log/tiles.ts";
import { fromHex, toHex, utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import {
  BASE,
  bootstrapped,
  getJson,
  recording,
  runsOnceLogCaughtUp,
  type Statement,
  watched,
  workerFetch,
} from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { APPENDED_MAX, HASH_SLICE, TransparencyLog } from "../../durable-objects/transparency-log.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { TILE_WIDTH } from "../../src/log/tiles.ts";
import { PRUNE_ENTRIES, RETAINED_ENTRIES } from "../../durable-objects/log-history.ts";

/** A log over an object's storage, as the object opens it (nothing kept in memory yet). */
function openLog(state: DurableObjectState, repo: string, retained?: number): TransparencyLog {
  return new TransparencyLog({
    sql: state.storage.sql,
    kv: state.storage.kv,
    sealer: new Sealer(env.KEY_ENCRYPTION_KEY),
    origin: `tuf-edge.local/${repo}`,
    retained,
  });
}

/** A log entry about `path` (its digest does not matter here). */
const targetEntry = (repository: string, path: string) => ({
  type: "target.add" as const,
  repository,
  path,
  hashes: { sha256: "0".repeat(64) },
});

/** The root of every stored entry, hashed from scratch. */
function rootOfStored(state: DurableObjectState): { size: number; rootHash: string; entries: ArrayBuffer[] } {
  const tree = new MerkleAccumulator();
  const entries = state.storage.sql
    .exec<{ entry: ArrayBuffer }>("SELECT entry FROM log_entries ORDER BY idx")
    .toArray()
    .map((row) => row.entry);
  for (const entry of entries) tree.appendSync(leafHashSync(new Uint8Array(entry)));
  return { size: entries.length, rootHash: toHex(tree.rootSync()), entries };
}

async function fetchWith(withEnv: Env, path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`), withEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const text = async (path: string) => {
  const response = await workerFetch(BASE + path);
  return { response, body: await response.text() };
};

describe("transparency log", () => {
  it("records every change and published file; the timestamp commits to the signed checkpoint", async () => {
    const { client } = await bootstrapped("log-basic", { bins: 4 });
    const path = "pkg/a-1.0.tgz";
    const sha = await sha256Hex(utf8(path));
    await client.changeTargets({ add: [{ path, length: 3, hashes: { sha256: sha } }] });

    const { json: timestamp } = await getJson("/log-basic/metadata/timestamp.json");
    const commitment = timestamp.signed["x-tuf-edge-log"];
    expect(commitment.origin).toBe("tuf-edge.local/log-basic");

    // The verifier key is in the top-level targets, protected by TUF.
    const { json: targets } = await getJson("/log-basic/metadata/1.targets.json");
    const vkeyTarget = targets.signed.targets["tuf-edge/log-verifier-key.txt"];
    const vkey: string = vkeyTarget.custom.tuf_edge_log.verifier_key;
    const served = await text(`/log-basic/targets/tuf-edge/${vkeyTarget.hashes.sha256}.log-verifier-key.txt`);
    expect(served.body).toBe(`${vkey}\n`);

    const checkpoint = await text("/log-basic/log/checkpoint");
    expect(checkpoint.response.headers.get("Cache-Control")).toBe("public, max-age=10");
    const opened = await openCheckpoint(checkpoint.body, await Ed25519NoteVerifier.fromKey(vkey), {
      origin: commitment.origin,
    });
    expect(opened.checkpoint.size).toBe(commitment.size);
    expect(toHex(opened.checkpoint.rootHash)).toBe(commitment.root_hash);

    // Entries, in order: root 1, the first publish's files, the target, …
    const bundle = await workerFetch(`${BASE}/log-basic/log/tile/entries/000.p/${commitment.size}`);
    expect(bundle.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    const entries = decodeEntryBundle(new Uint8Array(await bundle.arrayBuffer())).map(decodeEntry);
    expect(entries[0]).toMatchObject({ type: "root.change", version: 1 });
    expect(entries.filter((e) => e.type === "metadata.publish").map((e) => (e as { role: string }).role)).toEqual(
      expect.arrayContaining(["targets", "bins-0", "bins-3", "snapshot", "timestamp"]),
    );
    expect(entries.find((e) => e.type === "target.add")).toEqual({
      type: "target.add",
      repository: "log-basic",
      path,
      hashes: { sha256: sha },
    });

    // Hash tile level 0 has one hash per entry.
    const tile = await workerFetch(`${BASE}/log-basic/log/tile/0/000.p/${commitment.size}`);
    expect(decodeTile(new Uint8Array(await tile.arrayBuffer()), commitment.size)).toHaveLength(commitment.size);
  });

  it("serves inclusion proofs by index and by path, and consistency proofs, that verify", async () => {
    const { client } = await bootstrapped("log-proofs", { bins: 4 });
    const first = await getJson("/log-proofs/metadata/timestamp.json");
    const size1: number = first.json.signed["x-tuf-edge-log"].size;
    const root1: string = first.json.signed["x-tuf-edge-log"].root_hash;
    const path = "x/y.tgz";
    await client.changeTargets({ add: [{ path, length: 1, hashes: { sha256: await sha256Hex(utf8(path)) } }] });
    const second = await getJson("/log-proofs/metadata/timestamp.json");
    const { size: size2, root_hash: root2 } = second.json.signed["x-tuf-edge-log"];

    const { response, json: inclusion } = await getJson(
      `/log-proofs/log/proof/inclusion?path=${encodeURIComponent(path)}&size=${size2}`,
    );
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(inclusion.rootHash).toBe(root2);
    expect(JSON.parse(inclusion.entry)).toMatchObject({ type: "target.add", path });
    const ok = await verifyInclusion(
      fromHex(inclusion.leafHash),
      inclusion.index,
      size2,
      inclusion.proof.map(fromHex),
      fromHex(root2),
    );
    expect(ok).toBe(true);
    const tampered = [...inclusion.proof];
    tampered[0] = tampered[0].replace(/^./, (c: string) => (c === "0" ? "1" : "0"));
    expect(
      await verifyInclusion(fromHex(inclusion.leafHash), inclusion.index, size2, tampered.map(fromHex), fromHex(root2)),
    ).toBe(false);

    const byIndex = await getJson(`/log-proofs/log/proof/inclusion?index=0`);
    expect(byIndex.json.index).toBe(0);

    const { json: consistency } = await getJson(`/log-proofs/log/proof/consistency?from=${size1}&to=${size2}`);
    expect(await verifyConsistency(size1, size2, consistency.proof.map(fromHex), fromHex(root1), fromHex(root2))).toBe(
      true,
    );

    for (const bad of ["?index=999999", "?path=nope", "?index=1&path=x", "?from=1"]) {
      const r = await workerFetch(`${BASE}/log-proofs/log/proof/inclusion${bad}`);
      expect([400, 404], bad).toContain(r.status);
    }
  });

  it("serves proofs by index and consistency proofs from the published tiles: the object's answers, for every tree size", async () => {
    const repo = "log-tiles";
    const { client } = await bootstrapped(repo, { bins: 4 });
    // Past one full tile of 256 entries, so proofs span full, partial and level-1 tiles.
    const add = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const path = `t/${i}.tgz`;
        return { path, length: 1, hashes: { sha256: await sha256Hex(utf8(path)) } };
      }),
    );
    await client.changeTargets({ add });
    const { json: timestamp } = await getJson(`/${repo}/metadata/timestamp.json`);
    const published: number = timestamp.signed["x-tuf-edge-log"].size;
    expect(published).toBeGreaterThan(300);

    const uses: string[] = [];
    const seen = { ...env, REPOSITORY: watched(env.REPOSITORY, uses) };
    const fromWorker = async (query: string) => {
      const response = await fetchWith(seen, `/${repo}/log/proof/${query}`);
      expect(response.status, query).toBe(200);
      return response.json<{ rootHash: string; leafHash: string; proof: string[] }>();
    };
    const object = env.REPOSITORY.getByName(repo);
    // Sizes a checkpoint signed and sizes none did, either side of the tile boundary.
    const sizes = [1, 2, 7, 255, 256, 257, 299, published - 1, published];
    const roots = new Map<number, string>();
    for (const size of sizes) {
      for (const index of new Set([0, Math.floor(size / 2), size - 1])) {
        const served = await fromWorker(`inclusion?index=${index}&size=${size}`);
        const expected = await object.logInclusion({ index, size });
        expect(expected.ok && served).toEqual(expected.ok && expected.proof);
        roots.set(size, served.rootHash);
      }
    }
    expect((await fromWorker("inclusion?index=3")).rootHash).toBe(timestamp.signed["x-tuf-edge-log"].root_hash);
    for (const [from, to] of [
      [1, published],
      [7, 256],
      [255, 257],
      [256, published - 1],
      [published, published],
    ] as const) {
      const { proof } = await fromWorker(`consistency?from=${from}&to=${to}`);
      expect(
        await verifyConsistency(
          from,
          to,
          proof.map(fromHex),
          fromHex(defined(roots.get(from))),
          fromHex(defined(roots.get(to))),
        ),
        `${from} → ${to}`,
      ).toBe(true);
    }
    expect(uses).toEqual([]);

    for (const bad of [
      `inclusion?index=${published}`,
      `inclusion?index=0&size=${published + 1}`,
      "consistency?from=2&to=1",
    ]) {
      const response = await fetchWith(seen, `/${repo}/log/proof/${bad}`);
      expect(response.status, bad).toBe(404);
      expect(await response.json()).toMatchObject({ code: "not_found" });
    }
    expect(uses).toEqual([]);
  });

  it("accepts a configured witness's cosignature and serves it; refuses others", async () => {
    await bootstrapped("log-witness", { bins: 2 });
    const witness = await CosignatureV1Signer.fromSeed(
      "witness.example/w1",
      crypto.getRandomValues(new Uint8Array(32)),
    );
    const stranger = await CosignatureV1Signer.fromSeed(
      "witness.example/w2",
      crypto.getRandomValues(new Uint8Array(32)),
    );
    const headers = { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" };
    const set = await workerFetch(`${BASE}/log-witness/admin/log/witnesses`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ witnesses: [witness.verifierKey] }),
    });
    expect(set.status).toBe(200);
    const { body: note } = await text("/log-witness/log/checkpoint");
    const refused = await workerFetch(`${BASE}/log-witness/log/cosignatures`, {
      method: "POST",
      body: addCosignatures(note, [await cosign(note, stranger)]),
    });
    expect(refused.status).toBe(422);
    const accepted = await workerFetch(`${BASE}/log-witness/log/cosignatures`, {
      method: "POST",
      body: addCosignatures(note, [await cosign(note, witness)]),
    });
    expect(accepted.status).toBe(200);
    const { body: served } = await text("/log-witness/log/checkpoint");
    expect(served).toContain(`— witness.example/w1 `);
    expect(served.startsWith(defined(note.split("\n\n")[0]))).toBe(true);
  });

  it("hashes the entries a rolled-back transaction appended as they are stored, not as they were kept in memory", async () => {
    const repo = "log-rolled-back";
    await bootstrapped(repo, { bins: 4 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      const log = openLog(state, repo);
      const entry = (path: string) => ({
        type: "target.add" as const,
        repository: repo,
        path,
        hashes: { sha256: "0".repeat(64) },
      });
      log.hashPending();
      state.storage.transactionSync(() => log.appendMany([entry("a"), entry("b")]));
      // Appended (and kept for the hashing), then rolled back: their indexes go to the next append.
      expect(() =>
        state.storage.transactionSync(() => {
          log.appendMany([entry("refused-1"), entry("refused-2"), entry("refused-3")]);
          throw new Error("refused after appending");
        }),
      ).toThrow("refused after appending");
      state.storage.transactionSync(() => log.appendMany([entry("c")]));
      const head = log.hashPending();
      const stored = rootOfStored(state);
      expect(stored.entries.map((entry) => decodeEntry(new Uint8Array(entry))).slice(-3)).toMatchObject([
        { path: "a" },
        { path: "b" },
        { path: "c" },
      ]);
      expect(head).toMatchObject({ size: stored.size, rootHash: stored.rootHash });
    });
  });

  it("hashes in bounded slices (hashSome) to the root one hashing of everything gives, whether entries are kept in memory or read back", async () => {
    const repo = "log-slices";
    await bootstrapped(repo, { bins: 4 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      const entry = (i: number) => targetEntry(repo, `p/${i}`);
      const log = openLog(state, repo);
      const start = log.hashPending().size;
      state.storage.transactionSync(() => log.appendMany(Array.from({ length: 1300 }, (_, i) => entry(i))));
      const upTo = log.size();
      // Kept in memory by the append: three slices, none past its limit.
      expect(log.hashSome(500, upTo)).toBe(800);
      expect(log.hashSome(500, upTo)).toBe(300);
      // Appended after the size the slices stop at: left for the next hashing.
      state.storage.transactionSync(() => log.appendMany([entry(5000), entry(5001)]));
      expect(log.hashSome(500, upTo)).toBe(0);
      expect(log.hashSome(500, upTo)).toBe(0);
      expect(log.hashPending().size).toBe(upTo + 2);

      // Read back from storage (a fresh object's log keeps nothing in memory): slices of 300 rows, not 1,024.
      state.storage.transactionSync(() => log.appendMany(Array.from({ length: 700 }, (_, i) => entry(6000 + i))));
      const fresh = openLog(state, repo);
      expect(fresh.hashSome(300)).toBe(400);
      expect(fresh.hashSome(300)).toBe(100);
      expect(fresh.hashSome(300)).toBe(0);
      const head = fresh.hashPending();

      expect(head.size).toBe(start + 1300 + 2 + 700);
      const stored = rootOfStored(state);
      expect(head).toMatchObject({ size: stored.size, rootHash: stored.rootHash });
    });
  });

  it("hashes two import batches in flight from memory, the second appended while the first is hashed; past APPENDED_MAX, the oldest kept", async () => {
    const repo = "log-batches-in-flight";
    await bootstrapped(repo, { bins: 4 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const statements: Statement[] = [];
      const log = new TransparencyLog({
        sql: recording(state.storage.sql, statements),
        kv: state.storage.kv,
        sealer: new Sealer(env.KEY_ENCRYPTION_KEY),
        origin: `tuf-edge.local/${repo}`,
      });
      const start = log.hashPending().size;
      const batch = APPENDED_MAX / 2;
      let n = 0;
      const append = (count: number) =>
        state.storage.transactionSync(() =>
          log.appendMany(Array.from({ length: count }, () => targetEntry(repo, `b/${n++}`))),
        );
      const readBack = () =>
        statements.filter((s) => s.query.includes("SELECT entry FROM log_entries")).map((s) => s.bindings[0]);

      // As the CLI's two requests in flight: a batch hashed a slice a turn, the next one appended between two
      // slices, and the one after while that one is hashed (what is hashed is no longer kept).
      append(batch);
      expect(log.hashSome(HASH_SLICE)).toBe(batch - HASH_SLICE);
      append(batch);
      expect(log.hashSome(batch)).toBe(batch - HASH_SLICE);
      append(batch);
      await log.hashInTurns(async () => {});
      expect(readBack()).toEqual([]);
      const stored = rootOfStored(state);
      expect(log.hashPending()).toMatchObject({ size: stored.size, rootHash: stored.rootHash });

      // Three batches at once: the first two kept and hashed from memory, the third read back (from the slice
      // that reaches past the kept ones).
      append(batch);
      append(batch);
      append(batch);
      await log.hashInTurns(async () => {});
      expect(readBack().length).toBeGreaterThan(0);
      for (const from of readBack()) expect(from).toBeGreaterThan(start + 3 * batch + APPENDED_MAX - HASH_SLICE);
      expect(log.hashPending()).toMatchObject({ size: start + 6 * batch, rootHash: rootOfStored(state).rootHash });
    });
  });

  it("hashes HASH_SLICE entries a turn (hashInTurns), waiting for the object's next turn between two slices", async () => {
    const repo = "log-turns";
    await bootstrapped(repo, { bins: 4 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const log = openLog(state, repo);
      log.hashPending();
      const count = 2 * HASH_SLICE + 276;
      state.storage.transactionSync(() =>
        log.appendMany(Array.from({ length: count }, (_, i) => targetEntry(repo, `t/${i}`))),
      );
      // At each wait, what is left to hash (a slice of none hashes nothing).
      const left: number[] = [];
      await log.hashInTurns(async () => {
        left.push(log.hashSome(0));
      });
      expect(left).toEqual([HASH_SLICE + 276, 276]);
      expect(log.hashSome(HASH_SLICE)).toBe(0);
      const stored = rootOfStored(state);
      expect(log.hashPending()).toMatchObject({ size: stored.size, rootHash: stored.rootHash });
    });
  });
  it("hashes the files a round logged once publishing is idle, a slice a turn, not in the next round", async () => {
    const repo = "log-hash-idle";
    // The bootstrap's round publishes 1,027 files (1,024 bins, targets, snapshot, timestamp), logged once its
    // timestamp is out: more than two slices for the idle publish loop (Publisher.hashAhead).
    await bootstrapped(repo, { bins: 1024 });
    const unhashed = () =>
      runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => openLog(state, repo).unhashed());
    await vi.waitFor(async () => expect(await unhashed()).toBe(0), { timeout: 20_000, interval: 50 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      const stored = rootOfStored(state);
      expect(stored.size).toBeGreaterThan(1027);
      expect(openLog(state, repo).hashPending()).toMatchObject({ size: stored.size, rootHash: stored.rootHash });
    });
  });

  it("stores the full tiles of the files a round logged once publishing is idle, not in the next round", async () => {
    const repo = "log-tiles-idle";
    // The bootstrap's round logs 1,027 files once its timestamp is out: four full tiles (and their bundles)
    // past the checkpoint, which before waited for the next round to store them (Publisher.storeAhead).
    const { client } = await bootstrapped(repo, { bins: 1024 });
    const { json: before } = await getJson(`/${repo}/metadata/timestamp.json`);
    // The run that published the bootstrap goes on storing them, and ends idle.
    const boot = await runsOnceLogCaughtUp(repo);
    expect(boot.at(-1)).toMatchObject({ rounds: 1, logWrites: 8, outcome: "idle" });
    const pending = await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) =>
      openLog(state, repo).aheadWithin(1),
    );
    expect(pending).toBeNull();
    // No round ran: the checkpoint still signs the tree the bootstrap's timestamp committed to, and the
    // tiles past it are in R2 already, the last full one included.
    const { json: after } = await getJson(`/${repo}/metadata/timestamp.json`);
    expect(after.signed.version).toBe(before.signed.version);
    const size = await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) =>
      openLog(state, repo).size(),
    );
    const fullTiles = Math.floor(size / TILE_WIDTH);
    expect(fullTiles).toBeGreaterThanOrEqual(4);
    expect(before.signed["x-tuf-edge-log"].size).toBeLessThan(TILE_WIDTH * fullTiles);
    const last = String(fullTiles - 1).padStart(3, "0");
    expect((await workerFetch(`${BASE}/${repo}/log/tile/0/${last}`)).status).toBe(200);
    expect((await workerFetch(`${BASE}/${repo}/log/tile/entries/${last}`)).status).toBe(200);

    // The next change's round has none of them left to store before its timestamp.
    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) =>
      state.storage.kv.delete("publish:recent-invocations"),
    );
    const path = "after-idle.txt";
    await client.changeTargets({ add: [{ path, length: 1, hashes: { sha256: await sha256Hex(utf8(path)) } }] });
    const runs = await runsOnceLogCaughtUp(repo);
    expect(runs.filter((r) => r.rounds > 0)).toEqual([expect.objectContaining({ rounds: 1, logWrites: 0 })]);
  });

  it("refuses to hash over missing entries (a wrong tree, or a loop), and follows a hashing done by another reader of the same storage", async () => {
    const repo = "log-gap";
    await bootstrapped(repo, { bins: 4 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      const log = openLog(state, repo);
      const other = openLog(state, repo);
      const start = log.hashPending().size;
      state.storage.transactionSync(() =>
        log.appendMany(Array.from({ length: 10 }, (_, i) => targetEntry(repo, `g/${i}`))),
      );
      // `other` hashes five; `log`, whose tree was at `start`, goes on from there, not from `start`.
      other.hashSome(5);
      expect(log.unhashed()).toBe(5);
      state.storage.sql.exec("DELETE FROM log_entries WHERE idx = ?", start + 6);
      // A fresh reader keeps none of the appended bytes: it reads storage, where index start + 6 is gone.
      expect(() => openLog(state, repo).hashPending()).toThrow(`log entries from index ${start + 5} are missing`);
    });
  });

  it("plans full tiles ahead of the checkpoint within a number of writes (aheadWithin): at least one, with the tiles above that it completes", {
    timeout: 120_000,
  }, async () => {
    const repo = "log-ahead";
    await bootstrapped(repo, { bins: 4 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const entry = (i: number) => targetEntry(repo, `a/${i}`);
      // Nothing pruned (log-history.ts): the tree the checkpoint signs is compared with every stored entry.
      const log = openLog(state, repo, 2 * TILE_WIDTH * TILE_WIDTH);
      const bucket = new RepositoryBucket(env.BUCKET, repo);
      const published = log.checkpoint.publishedSize();
      expect(published).toBeLessThan(TILE_WIDTH);
      const append = (n: number) =>
        state.storage.transactionSync(() => {
          const from = log.size();
          log.appendMany(Array.from({ length: n }, (_, i) => entry(from + i)));
        });
      append(5 * TILE_WIDTH + 10 - log.size());

      // Two level-0 tiles and their entry bundles in four writes; more wait.
      expect(log.aheadWithin(4)).toEqual({ upTo: 2 * TILE_WIDTH, writes: 4, more: true });
      // At least one tile whatever the writes.
      expect(log.aheadWithin(1)).toEqual({ upTo: TILE_WIDTH, writes: 2, more: true });
      await log.storeFullTiles(bucket, 2 * TILE_WIDTH);
      expect((await workerFetch(`${BASE}/${repo}/log/tile/0/001`)).status).toBe(200);
      expect((await workerFetch(`${BASE}/${repo}/log/tile/0/002`)).status).toBe(404);
      // What was stored is not planned again; the rest fits.
      expect(log.aheadWithin(100)).toEqual({ upTo: 5 * TILE_WIDTH, writes: 6, more: false });
      await log.storeFullTiles(bucket, 5 * TILE_WIDTH);
      expect(log.aheadWithin(100)).toBeNull();

      // Up to the first full level-1 tile (256 level-0 tiles): the write that completes it counts.
      const level1 = TILE_WIDTH * TILE_WIDTH;
      append(level1 + TILE_WIDTH + 10 - log.size());
      await log.storeFullTiles(bucket, level1 - 2 * TILE_WIDTH);
      expect(log.aheadWithin(4)).toEqual({ upTo: level1 - TILE_WIDTH, writes: 2, more: true });
      await log.storeFullTiles(bucket, level1 - TILE_WIDTH);
      expect(log.aheadWithin(4)).toEqual({ upTo: level1, writes: 3, more: true });
      expect(log.aheadWithin(2)).toEqual({ upTo: level1, writes: 3, more: true });
      expect(log.aheadWithin(5)).toEqual({ upTo: level1 + TILE_WIDTH, writes: 5, more: false });
      await log.storeFullTiles(bucket, level1 + TILE_WIDTH);
      expect(log.aheadWithin(100)).toBeNull();
      expect((await workerFetch(`${BASE}/${repo}/log/tile/1/000`)).status).toBe(200);

      // The checkpoint then stores only the partial tiles, and the tree it signs is the stored one.
      const { size, rootHash } = rootOfStored(state);
      expect(await log.publish(bucket)).toMatchObject({ size, rootHash });
    });
  });

  it("prunes the entries whose tiles are in R2, keeps what proofs by path and target pages need, and goes on appending to the same tree", async () => {
    const repo = "log-prune";
    await bootstrapped(repo, { bins: 4 });
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const sql = state.storage.sql;
      const count = (query: string, ...bindings: SqlStorageValue[]) =>
        sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${query}`, ...bindings).one().n;
      const bucket = new RepositoryBucket(env.BUCKET, repo);
      const log = openLog(state, repo, TILE_WIDTH);
      const start = log.size();
      // Entry j is about p/(j mod 100): each path has entries on both sides of the pruning.
      const append = (n: number) =>
        state.storage.transactionSync(() => {
          const from = log.size();
          log.appendMany(Array.from({ length: n }, (_, i) => targetEntry(repo, `p/${(from + i) % 100}`)));
        });
      append(2000);
      // The first 300 as rows appended before the history existed: their path in their own row.
      sql.exec(
        `UPDATE log_entries SET path = (SELECT path FROM log_history WHERE log_history.idx = log_entries.idx)
         WHERE idx >= ? AND idx < ?`,
        start,
        start + 300,
      );
      sql.exec("DELETE FROM log_history WHERE idx < ?", start + 300);
      expect(count("log_history")).toBe(1700);
      const legacy3 = Array.from({ length: 300 }, (_, i) => start + i).filter((j) => j % 100 === 3);
      expect(log.history.latestIndexFor("p/3", start + 300)).toBe(legacy3.at(-1));
      expect(log.history.entriesFor("p/3", start + 300, 100).map((e) => e.index)).toEqual(legacy3);
      // Every entry, read before any is pruned: the tree the pruned log must go on signing.
      const before = rootOfStored(state).entries.map((e) => new Uint8Array(e));
      const first = await log.publish(bucket);
      expect(first.size).toBe(before.length);
      expect(log.history.prunedBelow()).toBe(0);

      // Below the last full tile the checkpoint stored, all but the newest 256 entries go.
      const pruned = Math.floor((first.size - TILE_WIDTH) / TILE_WIDTH) * TILE_WIDTH;
      expect(pruned).toBeGreaterThan(4 * TILE_WIDTH);
      // Rows that carry their path weigh more against a call's limit: the first 1,024 entries hold the
      // 300 such rows, so a limit of 2,048 entries stops after them.
      expect(start + 300).toBeLessThan(4 * TILE_WIDTH);
      expect(log.history.prune(first.size, first.size, 2 * 4 * TILE_WIDTH)).toBe(4 * TILE_WIDTH);
      expect(log.prune()).toBe(pruned - 4 * TILE_WIDTH);
      expect(log.prune()).toBe(0);
      expect(log.history.prunedBelow()).toBe(pruned);
      expect(count("log_entries WHERE idx < ?", pruned)).toBe(0);
      expect(count("log_entries")).toBe(first.size - pruned);
      for (let level = 0; level < 8; level++)
        expect(count("log_nodes WHERE level = ? AND idx < ?", level, pruned >> level), `level ${level}`).toBe(0);
      // What stays of them: a row per entry about a target (the bootstrap's are about metadata and roots);
      // those that carried their path in their row moved it into the history.
      expect(count("log_history")).toBe(2000);
      expect(count("log_entries WHERE path IS NOT NULL")).toBe(0);
      expect(log.size()).toBe(first.size);

      // The same tree goes on: entries appended are hashed on the pruned log's right edge.
      append(700);
      const entries = [
        ...before,
        ...rootOfStored(state)
          .entries.map((e) => new Uint8Array(e))
          .slice(first.size - pruned),
      ];
      const second = await log.publish(bucket);
      expect(log.prune()).toBeGreaterThan(0);
      const tree = new MerkleAccumulator();
      for (const e of entries) tree.appendSync(leafHashSync(e));
      expect(second).toMatchObject({ size: entries.length, rootHash: toHex(tree.rootSync()) });
      expect(log.history.prunedBelow()).toBeGreaterThan(pruned);
      // A fresh object's log (nothing in memory) finds the same tree in what stays.
      expect(openLog(state, repo, TILE_WIDTH).hashPending()).toEqual(second);

      // Proofs of pruned entries come from the tiles in R2, as the Worker's do; proofs of kept ones from SQLite.
      for (const index of [0, start, pruned - 1, second.size - 1]) {
        const proved = await log.proofs.prove({ index }, bucket);
        if (!proved.ok) throw new Error(proved.detail);
        expect(proved.proof.entry).toBe(new TextDecoder().decode(entries[index]));
        expect(
          await verifyInclusion(
            leafHashSync(defined(entries[index])),
            index,
            second.size,
            proved.proof.proof.map(fromHex),
            fromHex(second.rootHash),
          ),
          `entry ${index}`,
        ).toBe(true);
        expect((await getJson(`/${repo}/log/proof/inclusion?index=${index}`)).json).toEqual(proved.proof);
      }

      // By path: the latest entry about it below the size asked, pruned or kept.
      const about3 = Array.from({ length: second.size }, (_, j) => j).filter((j) => j >= start && j % 100 === 3);
      expect(log.history.latestIndexFor("p/3", second.size)).toBe(about3.at(-1));
      const old = defined(about3.filter((j) => j < start + 300).at(-1));
      expect(old).toBeLessThan(pruned);
      expect(log.history.latestIndexFor("p/3", start + 300)).toBe(old);
      const byPath = await log.proofs.prove({ path: "p/3", size: start + 300 }, bucket);
      expect(byPath.ok && byPath.proof.index).toBe(old);
      expect(log.history.latestIndexFor("p/none", second.size)).toBeNull();

      // A target's page lists every entry about it in order, from what stays of pruned ones and the kept ones alike.
      expect(log.history.entriesFor("p/3", second.size, 100)).toEqual(
        about3.map((index) => ({ index, type: "target.add" })),
      );
      expect(log.history.entriesFor("p/3", second.size, 3).map((e) => e.index)).toEqual(about3.slice(-3));
      expect(log.history.pathsIn(start, start + 5).sort()).toEqual(
        Array.from({ length: 5 }, (_, i) => `p/${(start + i) % 100}`).sort(),
      );
    });
  });

  it("prunes after a round's timestamp is out, once the log is longer than the entries it keeps whole", {
    timeout: 120_000,
  }, async () => {
    const repo = "log-prune-round";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const object = env.REPOSITORY.getByName(repo);
    // Two entries short of two tiles past what the object keeps whole (RETAINED_ENTRIES): the push's
    // entry makes one more, so its round's step, storing full tiles ahead, prunes one tile; the round's
    // own entries (a bin, snapshot, timestamp), appended with its commit, make the second prunable.
    await runInDurableObject(object, (_i: Repository, state) => {
      const log = openLog(state, repo);
      state.storage.transactionSync(() => {
        const from = log.size();
        const n = RETAINED_ENTRIES + 2 * TILE_WIDTH - 2 - from;
        log.appendMany(Array.from({ length: n }, (_, i) => targetEntry(repo, `r/${from + i}`)));
      });
    });
    const path = "r/last.tgz";
    await client.changeTargets({ add: [{ path, length: 1, hashes: { sha256: await sha256Hex(utf8(path)) } }] });
    await runInDurableObject(object, (_i: Repository, state) => {
      const log = openLog(state, repo);
      expect(log.history.prunedBelow()).toBe(2 * TILE_WIDTH);
      const left = state.storage.sql.exec<{ first: number }>("SELECT MIN(idx) AS first FROM log_entries").one();
      expect(left.first).toBe(2 * TILE_WIDTH);
      expect(log.size() - 2 * TILE_WIDTH).toBeGreaterThanOrEqual(RETAINED_ENTRIES);
    });
    // The pages and proofs by path still find a pruned entry.
    const { json } = await getJson(`/${repo}/log/proof/inclusion?path=${encodeURIComponent("r/300")}`);
    expect(JSON.parse(json.entry)).toMatchObject({ path: "r/300" });
  });

  it("each refresh (the cron's tick) prunes what rounds left, a bounded share at a time", {
    timeout: 120_000,
  }, async () => {
    const repo = "log-prune-tick";
    await bootstrapped(repo, { bins: 4 });
    const object = env.REPOSITORY.getByName(repo);
    const backlog = PRUNE_ENTRIES + 2 * TILE_WIDTH;
    await runInDurableObject(object, async (_i: Repository, state) => {
      const log = openLog(state, repo);
      state.storage.transactionSync(() => {
        const from = log.size();
        const n = RETAINED_ENTRIES + backlog - from;
        log.appendMany(Array.from({ length: n }, (_, i) => targetEntry(repo, `t/${from + i}`)));
      });
      // Their tiles stored (as an import batch stores them), which prunes one call's worth.
      await log.storeFullTiles(new RepositoryBucket(env.BUCKET, repo));
      expect(log.history.prunedBelow()).toBe(PRUNE_ENTRIES);
    });
    await runInDurableObject(object, async (instance: Repository, state) => {
      await instance.refresh();
      expect(openLog(state, repo).history.prunedBelow()).toBe(backlog);
    });
  });
});
