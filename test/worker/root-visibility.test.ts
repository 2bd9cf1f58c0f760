/**
 * Root visibility follows the served timestamp (src/routes/metadata.ts): a
 * location serves root N only if the timestamp.json it serves was published
 * with root N or later. The case it exists for: an online-key rotation, seen
 * from a location whose edge cache still holds the timestamp signed by the
 * old key (only the writer's location is purged at once). Such a location is
 * made here by putting the pre-rotation cache entry back after the rotation
 * published. tuf-edge's own client walks the chain as tuf-js does (§5.3).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import { defined } from "../../scripts/lib/defined.ts";
import worker from "../../src/index.ts";
import { cacheKey, hotCopies } from "../../src/storage/edge-cache.ts";
import { type FetchFile, updateMetadata } from "../../src/tuf/client/updater.ts";
import { BASE, bootstrapped, watched } from "./helpers.ts";

async function get(path: string, withEnv: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`), withEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A client's metadata requests, answered by the Worker. */
function fetchFrom(repo: string): FetchFile {
  return async (_kind, name) => {
    const response = await get(`/${repo}/metadata/${name}`);
    if (response.status === 404) return null;
    expect(response.status, name).toBe(200);
    return new Uint8Array(await response.arrayBuffer());
  };
}

/** A client that trusts root 1 only, refreshing now: the root, timestamp and signer it ends with, or its error. */
async function refresh(repo: string, root1: Uint8Array<ArrayBuffer>) {
  try {
    const { state, report } = await updateMetadata({ root: root1 }, new Date(), fetchFrom(repo), () => {});
    const timestampSigner = JSON.parse(new TextDecoder().decode(defined(state.files().timestamp))).signatures[0].keyid;
    return { root: report.rootVersion, timestamp: report.timestampVersion, timestampSigner };
  } catch (error) {
    return { error: String(error) };
  }
}

/** Bootstraps `repo` and completes an online-key rotation (root 2); returns the old timestamp's cache entry. */
async function rotatedWithStaleEntry(repo: string) {
  const { client, signers, rootBytes, onlineKeyId } = await bootstrapped(repo);
  const timestampKey = `${repo}/metadata/timestamp.json`;
  expect((await get(`/${repo}/metadata/timestamp.json`)).status).toBe(200); // now in this location's cache
  const stale = defined(await caches.default.match(cacheKey(timestampKey)));

  const opened = await client.openCeremony({ kind: "online-key-rotation", reason: "quarterly" });
  for (const signer of signers.slice(0, 2)) await client.submitSignature(opened.id, await signDraft(opened, signer));
  expect((await client.status()).onlineKeyId).not.toBe(onlineKeyId);
  return { rootBytes, onlineKeyId, timestampKey, stale };
}

/** This location's cache and copies hold `entry` for timestamp.json, as a location not yet refreshed would. */
async function holdInCache(timestampKey: string, entry: Response) {
  hotCopies.drop(timestampKey);
  await caches.default.put(cacheKey(timestampKey), entry);
}

describe("root visibility", () => {
  it("keeps serving the old root chain where the cached timestamp predates an online-key rotation", async () => {
    const repo = "visible-rotation";
    const { rootBytes, onlineKeyId, timestampKey, stale } = await rotatedWithStaleEntry(repo);
    const fresh = await refresh(repo, rootBytes);
    expect(fresh).toMatchObject({ root: 2 });
    expect(fresh.timestampSigner).not.toBe(onlineKeyId);

    // A location whose cached timestamp is still the one signed by the old key.
    await holdInCache(timestampKey, stale.clone());
    expect((await get(`/${repo}/metadata/2.root.json`)).status).toBe(404);
    expect(await refresh(repo, rootBytes)).toEqual({ root: 1, timestamp: 1, timestampSigner: onlineKeyId });

    // Once its entry expires there, the new timestamp and root 2 are served together.
    await caches.default.delete(cacheKey(timestampKey));
    hotCopies.drop(timestampKey);
    expect((await get(`/${repo}/metadata/2.root.json`)).status).toBe(200);
    expect(await refresh(repo, rootBytes)).toEqual(fresh);
  });

  it("answers the next-root probe of a client refresh without reading R2", async () => {
    const repo = "visible-probe";
    await bootstrapped(repo);
    expect((await get(`/${repo}/metadata/timestamp.json`)).status).toBe(200);
    const calls: string[] = [];
    const bucket = watched(env.BUCKET, calls);
    const probe = await get(`/${repo}/metadata/2.root.json`, { ...env, BUCKET: bucket });
    expect(probe.status).toBe(404);
    expect(probe.headers.get("Cache-Control")).toBe("public, max-age=10");
    expect(calls).toEqual([]);
    // Root 1 is served as before.
    expect((await get(`/${repo}/metadata/1.root.json`, { ...env, BUCKET: bucket })).status).toBe(200);
  });

  it("serves every stored root while the timestamp does not say which is newest (published before this was recorded)", async () => {
    const repo = "visible-legacy";
    const { rootBytes, timestampKey } = await rotatedWithStaleEntry(repo);
    const stored = defined(await env.BUCKET.get(timestampKey));
    const { "root-version": recorded, ...without } = stored.customMetadata ?? {};
    expect(recorded).toBe("2");
    await env.BUCKET.put(timestampKey, await stored.arrayBuffer(), { customMetadata: without });
    await caches.default.delete(cacheKey(timestampKey));
    hotCopies.drop(timestampKey);
    expect((await get(`/${repo}/metadata/2.root.json`)).status).toBe(200);
    expect((await get(`/${repo}/metadata/3.root.json`)).status).toBe(404);
    expect(await refresh(repo, rootBytes)).toMatchObject({ root: 2 });
  });
});
