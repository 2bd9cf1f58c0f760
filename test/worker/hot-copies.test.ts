/**
 * Each isolate's copies of small hot files (src/storage/edge-cache.ts): a
 * request for one costs no Cache API lookup, with the same bytes, ETag and
 * 304 as from the edge cache; a copy lives at most as long as the edge-cache
 * entry it stands for (the time its bytes were read from R2 plus the file's
 * max-age), and a publish drops it in the isolate its object runs in. An
 * isolate also remembers which repositories exist (they are never deleted).
 * Behind the Worker's back, the tests change R2 and the Cache API directly, so
 * that what is served shows where it came from. Time is moved with a fake
 * Date (never a timed assertion).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { defined } from "../../scripts/lib/defined.ts";
import { MUTABLE_HOT_COPY_MS } from "../../src/http/edge-cache.ts";
import worker from "../../src/index.ts";
import { cacheKey, hotCopies } from "../../src/storage/edge-cache.ts";
import { BASE, bootstrapped } from "./helpers.ts";

async function get(path: string, init?: RequestInit, withEnv: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, init), withEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Removes a file from R2 and from the edge cache, as if both had changed elsewhere; the isolate's copy is left. */
async function removeBehindTheBack(key: string): Promise<void> {
  await env.BUCKET.delete(key);
  await caches.default.delete(cacheKey(key));
}

/** Stores other bytes for a file in R2 and drops its edge-cache entry, leaving the isolate's copy. */
async function replaceBehindTheBack(key: string, text: string): Promise<void> {
  await env.BUCKET.put(key, text, { customMetadata: { sha256: "0".repeat(64) } });
  await caches.default.delete(cacheKey(key));
}

/**
 * Bootstraps `repo`, then, on a fake clock, puts "first" as its timestamp.json
 * in R2 and reads it through the Worker at t0 (now in the isolate's copies).
 */
async function firstTimestampRead(repo: string): Promise<{ key: string; t0: number }> {
  await bootstrapped(repo);
  const key = `${repo}/metadata/timestamp.json`;
  vi.useFakeTimers({ toFake: ["Date"] });
  const t0 = Date.now();
  await removeBehindTheBack(key);
  await env.BUCKET.put(key, "first", { customMetadata: { sha256: "1".repeat(64) } });
  expect(await (await get(`/${repo}/metadata/timestamp.json`)).text()).toBe("first");
  return { key, t0 };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("hot copies", () => {
  it("serve a hot file with no edge-cache lookup: same bytes, ETag, Cache-Control, 304 and HEAD", async () => {
    await bootstrapped("hot-serve");
    const key = "hot-serve/metadata/timestamp.json";
    const first = await get("/hot-serve/metadata/timestamp.json");
    const bytes = await first.text();
    const headers = Object.fromEntries(first.headers);
    expect(headers).not.toHaveProperty("x-tuf-edge-stored-at");

    await removeBehindTheBack(key);
    for (let i = 0; i < 3; i++) {
      const again = await get("/hot-serve/metadata/timestamp.json");
      expect(again.status).toBe(200);
      expect(Object.fromEntries(again.headers)).toEqual(headers);
      expect(await again.text()).toBe(bytes);
    }
    const etag = defined(first.headers.get("ETag"));
    const unchanged = await get("/hot-serve/metadata/timestamp.json", { headers: { "If-None-Match": etag } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get("ETag")).toBe(etag);
    expect(unchanged.headers.get("Cache-Control")).toBe("public, max-age=10");
    const head = await get("/hot-serve/metadata/timestamp.json", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");

    // With the copies turned off, the same request looks up the edge cache and R2, and finds nothing.
    expect(
      (await get("/hot-serve/metadata/timestamp.json", {}, { ...env, HOT_COPY_BYTES: "0" } as unknown as Env)).status,
    ).toBe(404);
  });

  it("keep a mutable file no longer than its max-age after it was read from R2, wherever the copy came from", async () => {
    const { key, t0 } = await firstTimestampRead("hot-expiry");

    // Taken again from the edge cache 9.5 s later: the copy still ends at t0 + 10 s, not 9.5 s + 10 s (nor + 1 s).
    hotCopies.drop(key);
    vi.setSystemTime(t0 + 9_500);
    expect(await (await get("/hot-expiry/metadata/timestamp.json")).text()).toBe("first");
    await replaceBehindTheBack(key, "second");
    vi.setSystemTime(t0 + 9_999);
    expect(await (await get("/hot-expiry/metadata/timestamp.json")).text()).toBe("first");
    vi.setSystemTime(t0 + 10_000);
    expect(await (await get("/hot-expiry/metadata/timestamp.json")).text()).toBe("second");
  });

  it("keep a mutable file's copy at most a second, so that isolates of the writer's location soon agree again", async () => {
    const { key, t0 } = await firstTimestampRead("hot-second");

    // Another isolate's publish: R2 and this location's cache entry change, this isolate's copy does not.
    await replaceBehindTheBack(key, "second");
    vi.setSystemTime(t0 + MUTABLE_HOT_COPY_MS - 1);
    expect(await (await get("/hot-second/metadata/timestamp.json")).text()).toBe("first");
    vi.setSystemTime(t0 + MUTABLE_HOT_COPY_MS);
    expect(await (await get("/hot-second/metadata/timestamp.json")).text()).toBe("second");
  });

  it("keep immutable files, and drop a repository's timestamp copy when its object publishes", async () => {
    const { client } = await bootstrapped("hot-publish");
    const root = await get("/hot-publish/metadata/1.root.json");
    const rootBytes = await root.text();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 400 * 86_400_000);
    await removeBehindTheBack("hot-publish/metadata/1.root.json");
    expect(await (await get("/hot-publish/metadata/1.root.json")).text()).toBe(rootBytes);
    vi.useRealTimers();

    const before = await (await get("/hot-publish/metadata/timestamp.json")).json<{ signed: { version: number } }>();
    await client.changeTargets({ add: [{ path: "a.txt", length: 1, hashes: { sha256: "a".repeat(64) } }] });
    const after = await (await get("/hot-publish/metadata/timestamp.json")).json<{ signed: { version: number } }>();
    expect(after.signed.version).toBe(before.signed.version + 1);
  });

  it("remember a repository seen to exist, so a public read does not look the directory up again", async () => {
    await bootstrapped("hot-known");
    const list = "/hot-known/attestations/a.txt";
    expect((await get(list)).status).toBe(200);
    await removeBehindTheBack("hot-known/repository.json");
    expect((await get(list)).status).toBe(200);
    // A name never seen is still looked up (and unknown).
    expect((await get("/hot-never/attestations/a.txt")).status).toBe(404);
  });
});
