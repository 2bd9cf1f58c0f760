/**
 * Refused bytes are never served (issue 10, class 4): uploads are staged under
 * <repo>/staging/ (never served) and reach their content address only once the
 * repository accepted them; a refused or abandoned upload leaves nothing.
 * Also the concurrency test: racing uploads and pushes of the same paths end
 * with each path published with exactly one digest and nothing unpublished
 * downloadable.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AdminApiError } from "../../scripts/lib/admin-client.ts";
import { type RegistryClient, signPush } from "../../scripts/lib/registry-client.ts";
import { STAGED_UPLOAD_TTL_MS } from "../../durable-objects/staged-uploads.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { allPublishedTargets, BASE, registryClient, withHmacRegistry, workerFetch } from "./helpers.ts";

afterEach(() => {
  vi.useRealTimers();
});

/** Every stored object under a prefix of the repository (the log's own target aside). */
async function keys(repo: string, prefix: "targets" | "staging") {
  const listed = await env.BUCKET.list({ prefix: `${repo}/${prefix}/` });
  return listed.objects.map((o) => o.key).filter((k) => !k.startsWith(`${repo}/targets/tuf-edge/`));
}

/** What a client gets for the consistent-snapshot name of `path` with `sha256`. */
async function download(repo: string, path: string, sha256: string) {
  const slash = path.lastIndexOf("/");
  const response = await workerFetch(
    `${BASE}/${repo}/targets/${path.slice(0, slash + 1)}${sha256}.${path.slice(slash + 1)}`,
  );
  await response.arrayBuffer();
  return response.status;
}

/** Asserts that every stored target object is published under its digest, and nothing is staged. */
async function expectOnlyPublishedStored(repo: string) {
  const { listings } = await allPublishedTargets(repo);
  const published = new Set(
    [...listings].flatMap(([path, entries]) => {
      const slash = path.lastIndexOf("/");
      return entries.map(
        (e) => `${repo}/targets/${path.slice(0, slash + 1)}${e.target.hashes.sha256}.${path.slice(slash + 1)}`,
      );
    }),
  );
  for (const key of await keys(repo, "targets"))
    expect(published.has(key), `${key} is stored but not published`).toBe(true);
  expect(await keys(repo, "staging")).toEqual([]);
  return listings;
}

async function settle<T>(
  work: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; status: number; code: string }> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    if (!(error instanceof AdminApiError)) throw error;
    return { ok: false, status: error.status, code: error.problem.code ?? "" };
  }
}

describe("class 4: refused bytes are never served", () => {
  it("the loser of two racing registry uploads of one path leaves nothing stored or servable", async () => {
    const repo = "staged-race";
    const { registry } = await withHmacRegistry(repo);
    const a = utf8("the first artifact's bytes");
    const b = utf8("the other artifact's bytes");
    const [ra, rb] = await Promise.all([
      settle(registry.upload("dist/app.bin", a)),
      settle(registry.upload("dist/app.bin", b)),
    ]);
    expect([ra.ok, rb.ok].sort()).toEqual([false, true]);
    const loser = ra.ok ? rb : ra;
    expect(loser).toMatchObject({ ok: false, status: 409 });
    const [winnerBytes, loserBytes] = ra.ok ? [a, b] : [b, a];
    expect(await download(repo, "dist/app.bin", await sha256Hex(winnerBytes))).toBe(200);
    expect(await download(repo, "dist/app.bin", await sha256Hex(loserBytes))).toBe(404);
    await expectOnlyPublishedStored(repo);
  });

  it("the loser of two racing admin uploads of one path leaves nothing stored or servable", async () => {
    const repo = "staged-admin-race";
    const { client } = await withHmacRegistry(repo);
    const a = utf8("admin bytes, first");
    const b = utf8("admin bytes, other");
    const results = await Promise.all([settle(client.upload("docs/x.txt", a)), settle(client.upload("docs/x.txt", b))]);
    expect(results.map((r) => r.ok).sort()).toEqual([false, true]);
    expect(results.find((r) => !r.ok)).toMatchObject({ status: 409 });
    const listings = await expectOnlyPublishedStored(repo);
    expect(listings.get("docs/x.txt")).toHaveLength(1);
  });

  it("an abandoned upload holds its path, is never servable, and is swept after its age", async () => {
    const repo = "staged-abandoned";
    const { client, secret } = await withHmacRegistry(repo);
    const bytes = utf8("bytes the registry never finished sending");
    const sha256 = await sha256Hex(bytes);
    // Authorized and staged, then the Worker went away before completing it.
    const stub = env.REPOSITORY.getByName(repo);
    const manifest = JSON.stringify({ repository: repo, path: "lost/file.bin", length: bytes.length, sha256 });
    const headers = await signPush({ kind: "hmac", secret }, manifest, "msg_abandoned", Math.floor(Date.now() / 1000));
    const authorized = await stub.authorizeUpload(
      {
        id: "msg_abandoned",
        timestamp: headers["webhook-timestamp"],
        signature: headers["webhook-signature"],
        body: manifest,
        respondAsync: false,
      },
      { path: "lost/file.bin", contentLength: String(bytes.length) },
    );
    if (!authorized.ok || authorized.duplicate) throw new Error(`not authorized: ${JSON.stringify(authorized)}`);
    await env.BUCKET.put(`${repo}/staging/${authorized.upload.id}`, bytes);
    expect(await download(repo, "lost/file.bin", sha256)).toBe(404);
    // While it is in progress, other bytes cannot take the path.
    const other = registryClient(repo, { kind: "hmac", secret }, undefined, "registry");
    expect(await settle(other.upload("lost/file.bin", utf8("other bytes")))).toMatchObject({
      ok: false,
      status: 409,
      code: "upload_in_progress",
    });
    expect(await keys(repo, "staging")).toHaveLength(1);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + STAGED_UPLOAD_TTL_MS + 60_000);
    const refreshed = await workerFetch(`${BASE}/${repo}/admin/refresh`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(refreshed.status).toBe(200);
    expect(await keys(repo, "staging")).toEqual([]);
    vi.useRealTimers();
    // The path is free again.
    expect(await settle(other.upload("lost/file.bin", utf8("other bytes")))).toMatchObject({ ok: true });
    await expectOnlyPublishedStored(repo);
    expect((await client.status()).targetsCount).toBeGreaterThan(0);
  });

  it("bytes that do not match the manifest are refused and leave no staged object", async () => {
    const repo = "staged-mismatch";
    const { client } = await withHmacRegistry(repo);
    const sha256 = await sha256Hex(utf8("what was announced"));
    const response = await workerFetch(`${BASE}/${repo}/admin/targets/m/file.txt?sha256=${sha256}&path=m/file.txt`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
      body: utf8("what was sent instead"),
    });
    expect(response.status).toBe(422);
    expect(await keys(repo, "staging")).toEqual([]);
    expect(await keys(repo, "targets")).toEqual([]);
    // The path is not held by the refused upload.
    await client.upload("m/file.txt", utf8("what was sent instead"));
  });
});

describe("racing uploads and pushes of the same paths", () => {
  it("end with each path published with exactly one digest, and nothing unpublished downloadable", async () => {
    const repo = "staged-concurrency";
    const { client, secret } = await withHmacRegistry(repo);
    const registries: RegistryClient[] = Array.from({ length: 4 }, () =>
      registryClient(repo, { kind: "hmac", secret }, undefined, "registry"),
    );
    const paths = Array.from({ length: 6 }, (_, i) => `race/p${i}.bin`);
    const attempts: Array<{ path: string; sha256: string; kind: string; work: Promise<unknown> }> = [];
    for (const path of paths) {
      for (let v = 0; v < 4; v++) {
        const bytes = utf8(`${path} version ${v}`);
        const sha256 = await sha256Hex(bytes);
        const registry = defined(registries[v], "registry client");
        if (v % 2 === 0)
          attempts.push({ path, sha256, kind: "upload", work: registry.upload(path, bytes, { async: v === 2 }) });
        else if (v === 1) attempts.push({ path, sha256, kind: "admin", work: client.upload(path, bytes) });
        else
          attempts.push({
            path,
            sha256,
            kind: "push",
            work: registry.push([{ type: "targets.add", path, length: bytes.length, hashes: { sha256 } }]),
          });
      }
    }
    const outcomes = await Promise.all(attempts.map((a) => settle(a.work)));
    for (const outcome of outcomes) if (!outcome.ok) expect([409]).toContain(outcome.status);
    // Wait for async acceptances to be published.
    for (const outcome of outcomes) {
      const value = outcome.ok ? (outcome.value as { task?: { id: string; state: string } }) : null;
      if (value?.task && value.task.state !== "published") {
        const taskId = value.task.id;
        await vi.waitFor(async () => expect((await defined(registries[0]).task(taskId)).state).toBe("published"), {
          timeout: 20_000,
          interval: 100,
        });
      }
    }
    const listings = await expectOnlyPublishedStored(repo);
    for (const path of paths) {
      const entries = listings.get(path) ?? [];
      expect(entries, path).toHaveLength(1);
      const digest = defined(entries[0], `${path}'s entry`).target.hashes.sha256;
      const accepted = attempts.filter((a, i) => a.path === path && outcomes[i]?.ok);
      expect(accepted.length, path).toBeGreaterThan(0);
      for (const a of accepted) expect(a.sha256, `${path} (${a.kind})`).toBe(digest);
      for (const a of attempts.filter((a) => a.path === path && a.sha256 !== digest))
        expect(await download(repo, path, a.sha256), `${path} ${a.kind}`).toBe(404);
    }
  });
});
