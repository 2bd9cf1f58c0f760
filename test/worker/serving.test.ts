import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminClient, BASE, bootstrapped, getJson, workerFetch } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

describe("serving metadata", () => {
  it("serves the stored bytes with per-file caching and a strong ETag", async () => {
    await bootstrapped("serve-cache");
    const timestamp = await workerFetch(`${BASE}/serve-cache/metadata/timestamp.json`);
    expect(timestamp.status).toBe(200);
    expect(timestamp.headers.get("Content-Type")).toBe("application/json");
    expect(timestamp.headers.get("Cache-Control")).toBe("public, max-age=10");
    const bytes = new Uint8Array(await timestamp.arrayBuffer());
    const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(timestamp.headers.get("ETag")).toBe(`"${sha}"`);
    expect(timestamp.headers.get("Content-Length")).toBe(String(bytes.length));

    for (const file of ["1.root.json", "1.targets.json", "1.snapshot.json", "1.bins-a.json"]) {
      const response = await workerFetch(`${BASE}/serve-cache/metadata/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get("Cache-Control"), file).toBe(IMMUTABLE);
      await response.body?.cancel();
    }
  });

  it("serves a bin's version 1 from its own key in a repository bootstrapped before bins shared one", async () => {
    const repo = "serve-own-bin";
    await bootstrapped(repo, { bins: 16 });
    // As such a repository's R2 holds it: each bin's version 1 under its own name, no shared empty bin.
    const shared = defined(await env.BUCKET.get(`${repo}/shared/empty-bin.json`));
    const bytes = new Uint8Array(await shared.arrayBuffer());
    await env.BUCKET.put(`${repo}/metadata/1.bins-3.json`, bytes);
    await env.BUCKET.delete(`${repo}/shared/empty-bin.json`);
    const own = await workerFetch(`${BASE}/${repo}/metadata/1.bins-3.json`);
    expect(own.status).toBe(200);
    expect(new Uint8Array(await own.arrayBuffer())).toEqual(bytes);
    const missing = await workerFetch(`${BASE}/${repo}/metadata/1.bins-4.json`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
  });

  it("answers If-None-Match with 304 and HEAD without a body", async () => {
    await bootstrapped("serve-304");
    const first = await workerFetch(`${BASE}/serve-304/metadata/1.snapshot.json`);
    const etag = defined(first.headers.get("ETag"));
    await first.body?.cancel();
    const again = await workerFetch(`${BASE}/serve-304/metadata/1.snapshot.json`, {
      headers: { "If-None-Match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(etag);
    expect(again.headers.get("Cache-Control")).toBe(IMMUTABLE);
    const other = await workerFetch(`${BASE}/serve-304/metadata/1.snapshot.json`, {
      headers: { "If-None-Match": '"abc"' },
    });
    expect(other.status).toBe(200);
    await other.body?.cancel();

    const head = await workerFetch(`${BASE}/serve-304/metadata/timestamp.json`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("ETag")).toMatch(/^"[0-9a-f]{64}"$/);
    expect(await head.text()).toBe("");
  });

  it("answers 404 for the next root, briefly cacheable, as clients expect", async () => {
    await bootstrapped("serve-404");
    const next = await workerFetch(`${BASE}/serve-404/metadata/2.root.json`);
    expect(next.status).toBe(404);
    expect(next.headers.get("Cache-Control")).toBe("public, max-age=10");
    expect(next.headers.get("Content-Type")).toBe("application/problem+json");
    const unknown = await workerFetch(`${BASE}/serve-404/metadata/9.bins-00.json`);
    expect(unknown.status).toBe(404);
    for (const bad of ["0.root.json", "01.root.json", "x.json", "..%2Fsecrets.json", "1.Root.json"]) {
      expect((await workerFetch(`${BASE}/serve-404/metadata/${bad}`)).status, bad).toBe(404);
    }
    expect((await workerFetch(`${BASE}/Bad_Name/metadata/timestamp.json`)).status).toBe(404);
  });

  it("reports each repository's health", async () => {
    await bootstrapped("serve-health");
    const { response, json } = await getJson("/serve-health/health");
    expect(response.status).toBe(200);
    expect(json.repositories[0]).toMatchObject({ repository: "serve-health", status: "ok" });
    expect(json.repositories[0].timestamp.secondsLeft).toBeGreaterThan(86_000);
    const all = await getJson("/health");
    expect(all.json.repositories.map((r: { repository: string }) => r.repository)).toContain("serve-health");
    const missing = await getJson("/serve-nothing/health");
    expect(missing.response.status).toBe(404);
    expect(missing.json.code).toBe("unknown_repository");
    await adminClient("serve-nothing").onlineKey(); // created, not yet bootstrapped
    const unpublished = await getJson("/serve-nothing/health");
    expect(unpublished.response.status).toBe(503);
    expect(unpublished.json.repositories[0].status).toBe("not_published");
  });
});
