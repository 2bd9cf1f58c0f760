import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { BASE, bootstrapped, getJson, recentRuns, workerFetch } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const hashOf = async (text: string) => sha256Hex(utf8(text));
const entry = async (path: string) => ({ path, length: path.length, hashes: { sha256: await hashOf(path) } });

/** The published entry for `path`, read as a client would: timestamp → snapshot → bin. */
async function published(repo: string, path: string, bins = new HashBins(4)) {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const snapshotVersion = ts.signed.meta["snapshot.json"].version;
  const { json: snapshot } = await getJson(`/${repo}/metadata/${snapshotVersion}.snapshot.json`);
  const bin = await bins.binFor(path);
  const binVersion = snapshot.signed.meta[`${bin}.json`].version;
  const { json: binFile } = await getJson(`/${repo}/metadata/${binVersion}.${bin}.json`);
  return {
    timestamp: ts.signed.version,
    snapshot: snapshotVersion,
    bin: binVersion,
    target: binFile.signed.targets[path],
  };
}

describe("target changes", () => {
  it("re-signs only the bins a change touches, then snapshot and timestamp", async () => {
    const { client } = await bootstrapped("tgt-basic");
    const path = "pkg/a-1.0.tgz";
    const { versions } = await client.changeTargets({ add: [{ ...(await entry(path)), custom: { yanked: false } }] });
    expect(versions).toEqual({ targets: 1, snapshot: 2, timestamp: 2 });
    const after = await published("tgt-basic", path);
    expect(after).toMatchObject({ timestamp: 2, snapshot: 2, bin: 2 });
    expect(after.target).toEqual({
      length: path.length,
      hashes: { sha256: await hashOf(path) },
      custom: { yanked: false },
    });
    const { json: snapshot } = await getJson("/tgt-basic/metadata/2.snapshot.json");
    const changed = Object.entries(snapshot.signed.meta).filter(([, m]) => (m as { version: number }).version > 1);
    expect(changed.map(([name]) => name)).toEqual([`${await new HashBins(4).binFor(path)}.json`]);

    const removed = await client.changeTargets({ remove: [path] });
    expect(removed.removed).toBe(1);
    expect(removed.versions.timestamp).toBe(3);
    expect((await published("tgt-basic", path)).target).toBeUndefined();
  });

  it("re-adding a target with the same entry re-signs nothing and logs nothing; a changed custom is a change", async () => {
    const { client } = await bootstrapped("tgt-same");
    const target = { ...(await entry("pkg/same-1.0.tgz")), custom: { channel: "stable", tier: 1 } };
    const first = await client.changeTargets({ add: [target] });
    const logSize = async () => (await (await workerFetch(`${BASE}/tgt-same/log/checkpoint`)).text()).split("\n")[1];
    const sizeBefore = await logSize();
    // Same entry, custom keys in another order: the same canonical JSON.
    const again = await client.changeTargets({ add: [{ ...target, custom: { tier: 1, channel: "stable" } }] });
    expect(again.versions).toEqual(first.versions);
    expect(await logSize()).toBe(sizeBefore);
    const changed = await client.changeTargets({ add: [{ ...target, custom: { channel: "beta", tier: 1 } }] });
    expect(changed.versions.timestamp).toBeGreaterThan(first.versions.timestamp);
  });

  it("applies concurrent batches with no lost update, coalescing publishes", async () => {
    const { client } = await bootstrapped("tgt-concurrent");
    const batches = await Promise.all(
      Array.from({ length: 20 }, async (_, b) =>
        Promise.all(Array.from({ length: 5 }, (_, i) => entry(`b${b}/t${i}.tgz`))),
      ),
    );
    const results = await Promise.all(batches.map((add) => client.changeTargets({ add })));
    const final = await client.status();
    expect(final.targetsCount).toBe(100);
    // Every acknowledged target is in the published metadata.
    for (const add of batches)
      for (const t of add) expect((await published("tgt-concurrent", t.path)).target?.hashes).toEqual(t.hashes);
    // Versions never go backwards; concurrent changes shared publishes.
    const timestamps = results.map((r) => r.versions.timestamp);
    expect(Math.max(...timestamps)).toBe(defined(final.roles.timestamp).version);
    expect(defined(final.roles.timestamp).version).toBeLessThan(1 + batches.length);
    expect(final.pendingChanges).toBe(false);
  });

  it("rejects invalid batches naming the offending field, changing nothing", async () => {
    const { client } = await bootstrapped("tgt-invalid");
    const good = await entry("ok/file.tgz");
    const cases: Array<[unknown, RegExp]> = [
      [{ add: [good, { ...good, path: "../etc/passwd" }] }, /add\.1\.path/],
      [{ add: [{ ...good, path: "/abs" }] }, /does not start with \//],
      [{ add: [{ ...good, path: "a//b" }] }, /empty segments/],
      [{ add: [{ ...good, path: "a/\u0000b" }] }, /control/],
      [{ add: [{ ...good, hashes: { sha256: "XYZ" } }] }, /add\.0\.hashes\.sha256/],
      [{ add: [{ ...good, hashes: {} }] }, /at least one of sha256 and sha512/],
      [{ add: [{ ...good, length: -1 }] }, /add\.0\.length/],
      [{ add: [{ ...good, custom: { score: 1.5 } }] }, /integer numbers only/],
      [{ add: [good, good] }, /each target path once/],
      [{ add: [], remove: [] }, /at least one target/],
      [{ add: [good], extra: 1 }, /extra/],
    ];
    for (const [body, message] of cases) {
      const response = await workerFetch(`${BASE}/tgt-invalid/admin/targets`, {
        method: "POST",
        headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
      expect((await response.json<{ detail: string }>()).detail).toMatch(message);
    }
    const status = await client.status();
    expect(status.targetsCount).toBe(0);
    expect(defined(status.roles.timestamp).version).toBe(1);
  });

  it("refuses target changes before bootstrap", async () => {
    const response = await workerFetch(`${BASE}/tgt-unbooted/admin/targets`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ add: [await entry("a/b")] }),
    });
    expect(response.status).toBe(409);
  });
});

describe("uploads", () => {
  it("stores the bytes under their hash and serves them immutable", async () => {
    const { client } = await bootstrapped("upl-ok");
    const bytes = utf8("hello, tuf-edge\n");
    const { versions } = await client.upload("greetings/hello.txt", bytes);
    expect(versions.timestamp).toBe(2);
    const sha = await sha256Hex(bytes);
    const response = await workerFetch(`${BASE}/upl-ok/targets/greetings/${sha}.hello.txt`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    expect((await published("upl-ok", "greetings/hello.txt")).target).toEqual({
      length: bytes.length,
      hashes: { sha256: sha },
    });
    expect((await workerFetch(`${BASE}/upl-ok/targets/greetings/${"0".repeat(64)}.hello.txt`)).status).toBe(404);
    expect((await workerFetch(`${BASE}/upl-ok/targets/greetings/hello.txt`)).status).toBe(404);
  });

  it("rejects bytes that do not match the declared sha256, leaving no object", async () => {
    await bootstrapped("upl-bad");
    const claimed = await sha256Hex(utf8("the real bytes"));
    const response = await workerFetch(`${BASE}/upl-bad/admin/targets/x/file.bin?sha256=${claimed}&path=x/file.bin`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
      body: utf8("forged bytes!!"),
    });
    expect(response.status).toBe(422);
    expect((await response.json<{ code: string }>()).code).toBe("digest_mismatch");
    // Only the log's verifier key (a target tuf-edge stores itself) is there.
    const listing = await env.BUCKET.list({ prefix: "upl-bad/targets/" });
    expect(listing.objects.map((o) => o.key).filter((k) => !k.startsWith("upl-bad/targets/tuf-edge/"))).toEqual([]);
    const { json } = await getJson("/upl-bad/metadata/timestamp.json");
    expect(json.signed.version).toBe(1);
  });
});

describe("chunked publishing", () => {
  it("signs a change to many bins across alarm invocations, timestamp last", { timeout: 120_000 }, async () => {
    const { client } = await bootstrapped("chunked", { bins: 1024, binsPerInvocation: 1 });
    const add = await Promise.all(Array.from({ length: 300 }, (_, i) => entry(`chunked/${i}.tgz`)));
    const { versions } = await client.changeTargets({ add });
    // One round, whose 200-odd bins took as many invocations: one snapshot and one timestamp.
    expect(versions).toEqual({ targets: 1, snapshot: 2, timestamp: 2 });
    const runs = (await recentRuns("chunked")).filter((r) => r.roles > 0);
    expect(runs.length).toBeGreaterThanOrEqual(64); // the recent runs kept: the last 64
    // A step signs whole step packs, of at most binsPerInvocation bins (src/storage/bin-pack.ts): here one bin.
    for (const run of runs) expect(run.roles).toBe(1);
    const { json: snapshot } = await getJson("/chunked/metadata/2.snapshot.json");
    const meta = snapshot.signed.meta as Record<string, { version: number }>;
    expect(Object.keys(meta)).toHaveLength(1025);
    const changed = Object.values(meta).filter((m) => m.version > 1);
    expect(changed.length).toBeGreaterThan(200);
    // Each in a pack of its own, at a version of its own.
    expect(new Set(changed.map((m) => m.version)).size).toBe(changed.length);
    // Every file the round stored is served (the bins still at version 1 are the one shared empty bin).
    for (const [name, { version }] of Object.entries(meta).filter(([, m]) => m.version > 1)) {
      const response = await workerFetch(`${BASE}/chunked/metadata/${version}.${name}`);
      expect(response.status, name).toBe(200);
      await response.body?.cancel();
    }
  });
});

describe("bulk changes", () => {
  it("answers 202 once stored with Prefer: respond-async, and publishes shortly after", async () => {
    const { client } = await bootstrapped("tgt-async");
    const add = await Promise.all(Array.from({ length: 50 }, (_, i) => entry(`bulk/${i}.tgz`)));
    const response = await client.changeTargets({ add }, { wait: false });
    expect(response.pending).toBe(true);
    expect(response.versions.timestamp).toBe(1);
    // Stored at once; published by the publish that runs on.
    let status = await client.status();
    expect(status.targetsCount).toBe(50);
    for (let i = 0; i < 50 && status.pendingChanges; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = await client.status();
    }
    expect(status.pendingChanges).toBe(false);
    expect((await published("tgt-async", "bulk/7.tgz")).target).toBeDefined();
  });
});

describe("operator uploads and immutability", () => {
  it("refuses to upload other bytes for a published path before storing anything", async () => {
    const { client } = await bootstrapped("upl-immutable");
    await client.upload("rel/v1.bin", utf8("version one"));
    const error = await client.upload("rel/v1.bin", utf8("version two")).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409, problem: { code: "immutable_target" } });
    const keys = (await env.BUCKET.list({ prefix: "upl-immutable/targets/rel/" })).objects.map((o) => o.key);
    expect(keys).toEqual([`upl-immutable/targets/rel/${await sha256Hex(utf8("version one"))}.v1.bin`]);
  });
});
