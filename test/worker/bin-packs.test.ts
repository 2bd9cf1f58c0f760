/**
 * Top-level hash bins are stored as step packs (src/storage/bin-pack.ts): a
 * round cuts its bins, in index order, into groups of at most STEP_PACK_BINS
 * (and STEP_PACK_BYTES), signs each group at a version of its own and writes
 * it as one R2 object; the Worker cuts each bin's file out of its pack, and
 * still reads the slice packs of versions earlier releases published.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { PackVersions } from "../../durable-objects/pack-versions.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import {
  encodePack,
  PACK_SLOTS,
  STEP_PACK_BINS,
  STEP_PACK_BYTES,
  STEP_PACK_SLICE,
} from "../../src/storage/bin-pack.ts";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { BASE, bootstrapped, getJson, recentRuns, resolve, targetEntry, workerFetch } from "./helpers.ts";

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const listed = await env.BUCKET.list({ prefix, ...(cursor ? { cursor } : {}) });
    out.push(...listed.objects.map((o) => o.key));
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
  return out;
}

/**
 * Bootstraps `repo` with `bins` bins and adds `count` targets under `prefix` in
 * one change; returns the bins its round changed (from snapshot 2) in index
 * order, and their versions in that order (one per step pack).
 */
async function oneRound(repo: string, bins: number, count: number, prefix: string) {
  const { client, root } = await bootstrapped(repo, { bins });
  const add = await Promise.all(Array.from({ length: count }, (_, i) => targetEntry(`${prefix}/${i}.tgz`)));
  await client.changeTargets({ add });
  const { json: snapshot } = await getJson(`/${repo}/metadata/2.snapshot.json`);
  const meta = snapshot.signed.meta as Record<string, { version: number }>;
  const changed = Object.entries(meta)
    .filter(([name, m]) => name.startsWith("bins-") && m.version > 1)
    .sort(([a], [b]) => indexOf(a) - indexOf(b));
  return { root, add, changed, versions: [...new Set(changed.map(([, m]) => m.version))] };
}

/**
 * Bootstraps `repo` with `bins` bins and adds one target at `path`; returns
 * the bin that changed: its file name, version and served bytes.
 */
async function oneChangedBin(repo: string, bins: number, path: string) {
  const { client } = await bootstrapped(repo, { bins });
  await client.changeTargets({ add: [await targetEntry(path)] });
  const { json: snapshot } = await getJson(`/${repo}/metadata/2.snapshot.json`);
  const [file, m] =
    Object.entries(snapshot.signed.meta as Record<string, { version: number }>).find(
      ([name, v]) => name.startsWith("bins-") && v.version > 1,
    ) ?? [];
  if (!file || !m) throw new Error("no bin changed");
  const response = await workerFetch(`${BASE}/${repo}/metadata/${m.version}.${file}`);
  return { file, version: m.version, bytes: new Uint8Array(await response.arrayBuffer()) };
}

/** The index of a bin's file name (`bins-3ff.json`). */
const indexOf = (file: string) => Number.parseInt(file.slice("bins-".length, -".json".length), 16);

describe("bin packs", () => {
  it("stores a round's bins as step packs of STEP_PACK_BINS in index order, each at its own version, and serves each bin from its pack", async () => {
    // 1,000 targets in 1,024 bins: most bins changed, more than one step pack holds, all in one publish step.
    const { root, add, changed, versions } = await oneRound("packs", 1024, 1000, "packs");
    expect(changed.length).toBeGreaterThan(STEP_PACK_BINS);

    // Two packs: the first STEP_PACK_BINS bins by index at one version, the rest at the next; no slice packs,
    // and no bin under a key of its own.
    expect(versions).toHaveLength(2);
    const [first, second] = versions as [number, number];
    expect(second).toBeGreaterThan(first);
    expect(changed.slice(0, STEP_PACK_BINS).every(([, m]) => m.version === first)).toBe(true);
    expect(changed.slice(STEP_PACK_BINS).every(([, m]) => m.version === second)).toBe(true);
    expect(await keys("packs/packs/")).toEqual(
      [first, second].map((v) => `packs/packs/${v}/${STEP_PACK_SLICE}`).sort(),
    );
    const directory = (await env.BUCKET.head(`packs/packs/${first}/${STEP_PACK_SLICE}`))?.customMetadata?.bins;
    expect(directory?.split(",").map((member) => Number(member.split(":")[0]))).toEqual(
      changed.slice(0, STEP_PACK_BINS).map(([file]) => indexOf(file)),
    );
    expect((await keys("packs/metadata/")).filter((k) => /\.bins-/.test(k))).toEqual([]);

    // Each bin is served whole, immutable, with its own SHA-256 as ETag; a client walk verifies them.
    for (const [file, m] of [...changed.slice(0, 20), ...changed.slice(-20)]) {
      const response = await workerFetch(`${BASE}/packs/metadata/${m.version}.${file}`);
      expect(response.status, file).toBe(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(response.headers.get("ETag")).toBe(`"${await sha256Hex(bytes)}"`);
      expect(response.headers.get("Content-Length")).toBe(String(bytes.length));
      expect(response.headers.get("Cache-Control")).toContain("immutable");
      const signed = JSON.parse(new TextDecoder().decode(bytes)).signed;
      expect(signed.version).toBe(m.version);
      expect(signed._type).toBe("targets");
    }
    for (const i of [0, 133, 999]) {
      const found = await resolve("packs", root, `packs/${i}.tgz`);
      const { path: _, ...entry } = defined(add[i]);
      expect(found.target, `packs/${i}.tgz`).toEqual(entry);
    }
  });

  it("stores a round of few bins, spread over many slices, as one step pack, and serves each bin from it", async () => {
    // A dozen targets in 1,024 bins: a dozen bins spread over the 8 slices, one publish step.
    const { root, add, changed, versions } = await oneRound("packs-sparse", 1024, 12, "sparse");
    expect(changed.length).toBeGreaterThan(1);
    expect(versions).toHaveLength(1);
    const version = defined(versions[0]);
    const slices = new Set(changed.map(([file]) => Math.floor(Number.parseInt(file.slice(5, -5), 16) / PACK_SLOTS)));
    expect(slices.size).toBeGreaterThan(1);
    // One R2 object for all of them, the version's step pack, none per slice.
    expect(await keys(`packs-sparse/packs/${version}/`)).toEqual([`packs-sparse/packs/${version}/${STEP_PACK_SLICE}`]);
    const head = await env.BUCKET.head(`packs-sparse/packs/${version}/${STEP_PACK_SLICE}`);
    expect(head?.customMetadata?.bins?.split(",")).toHaveLength(changed.length);
    // Every changed bin is served from it at the round's version, and lists its targets.
    for (const [file, m] of changed) {
      const response = await workerFetch(`${BASE}/packs-sparse/metadata/${m.version}.${file}`);
      expect(response.status, file).toBe(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(response.headers.get("ETag")).toBe(`"${await sha256Hex(bytes)}"`);
      const signed = JSON.parse(new TextDecoder().decode(bytes)).signed;
      expect(signed.version).toBe(version);
      expect(Object.keys(signed.targets).length, file).toBeGreaterThan(0);
    }
    for (const [i, target] of add.entries()) {
      const found = await resolve("packs-sparse", root, `sparse/${i}.tgz`);
      const { path: _, ...entry } = target;
      expect(found.target, `sparse/${i}.tgz`).toEqual(entry);
    }
  });

  it("stores bins whose files hold more than STEP_PACK_BYTES together one pack each", async () => {
    const { client } = await bootstrapped("packs-heavy", { bins: 1024 });
    // The bins' files as the step's memory bound sees them: 64 MiB each (their published lengths).
    await runInDurableObject(env.REPOSITORY.getByName("packs-heavy"), async (_: Repository, state) => {
      state.storage.sql.exec("UPDATE roles SET length = ? WHERE name GLOB 'bins-*'", 64 * 1024 * 1024);
    });
    await client.changeTargets({ add: await Promise.all([0, 1, 2, 3].map((i) => targetEntry(`heavy/${i}.tgz`))) });
    const { json: snapshot } = await getJson("/packs-heavy/metadata/2.snapshot.json");
    const meta = snapshot.signed.meta as Record<string, { version: number }>;
    const changed = Object.entries(meta).filter(([name, m]) => name.startsWith("bins-") && m.version > 1);
    expect(changed.length).toBeGreaterThan(1);
    // A version per bin, each its own step pack holding that bin alone.
    expect(new Set(changed.map(([, m]) => m.version)).size).toBe(changed.length);
    for (const [file, m] of changed) {
      expect(await keys(`packs-heavy/packs/${m.version}/`)).toEqual([
        `packs-heavy/packs/${m.version}/${STEP_PACK_SLICE}`,
      ]);
      const head = await env.BUCKET.head(`packs-heavy/packs/${m.version}/${STEP_PACK_SLICE}`);
      expect(head?.customMetadata?.bins?.split(",").map((b) => Number(b.split(":")[0]))).toEqual([indexOf(file)]);
      expect((await workerFetch(`${BASE}/packs-heavy/metadata/${m.version}.${file}`)).status, file).toBe(200);
    }
  });

  it("answers 404 for a bin a pack does not hold, or named with another width", async () => {
    const { client } = await bootstrapped("packs-404", { bins: 256 });
    await client.changeTargets({ add: [await targetEntry("one/file.tgz")] });
    const { json: snapshot } = await getJson("/packs-404/metadata/2.snapshot.json");
    const meta = snapshot.signed.meta as Record<string, { version: number }>;
    const [file, changed] = Object.entries(meta).find(([name, m]) => name.startsWith("bins-") && m.version > 1) ?? [];
    if (!file || !changed) throw new Error("no bin changed");
    const { version } = changed;
    const hex = file.slice("bins-".length, -".json".length);
    expect((await workerFetch(`${BASE}/packs-404/metadata/${version}.${file}`)).status).toBe(200);
    // The same slot read as a one-digit name (bins-3 for bins-03) is not that bin.
    const short = Number.parseInt(hex, 16).toString(16);
    if (short.length < hex.length) {
      expect((await workerFetch(`${BASE}/packs-404/metadata/${version}.bins-${short}.json`)).status).toBe(404);
    }
    const other = Object.keys(meta).find((name) => name.startsWith("bins-") && meta[name]?.version === 1);
    expect((await workerFetch(`${BASE}/packs-404/metadata/${version}.${other}`)).status).toBe(404);
  });

  it("signs each pack's bins at a version no bin had, and a retried step's at a new one", async () => {
    await bootstrapped("packs-epoch", { bins: 16 });
    await runInDurableObject(env.REPOSITORY.getByName("packs-epoch"), async (_: Repository, state) => {
      const roles = new RoleTable(state.storage.sql);
      const packs = new PackVersions(state.storage.sql, roles);
      state.storage.sql.exec("UPDATE roles SET allocated = 9 WHERE name = 'bins-1'");
      roles.startRound(new Date());
      const first = packs.version(["bins-0", "bins-1"]);
      expect(first).toBe(10);
      expect([...packs.reserve(["bins-0", "bins-1"], first).values()].map((r) => r.version)).toEqual([10, 10]);
      // The round's next pack signs at the next version.
      expect(packs.version(["bins-2", "bins-3"])).toBe(11);
      // A step retried after it reserved (its pack may be stored) takes a new version, never 10 again.
      expect(packs.version(["bins-0", "bins-4"])).toBe(12);
      expect(packs.reserve(["bins-0"], 10).size).toBe(0);
      // A new round goes on from there.
      roles.startRound(new Date());
      expect(packs.version(["bins-5"])).toBe(13);
    });
  });

  it("claims whole packs: a step's batch ends with the last group of bins it starts", async () => {
    await bootstrapped("packs-claims", { bins: 64 });
    await runInDurableObject(env.REPOSITORY.getByName("packs-claims"), async (_: Repository, state) => {
      const roles = new RoleTable(state.storage.sql);
      const packs = new PackVersions(state.storage.sql, roles);
      const names = Array.from({ length: 64 }, (_, i) => `bins-${i.toString(16).padStart(2, "0")}`);
      roles.markDirty(names, roles.nextSeq());
      roles.startRound(new Date());
      const bins = { indexOf: (name: string) => names.indexOf(name) };
      const pack = (from: number) => names.slice(from, from + 16);
      // Packs of 16: a step of 20 roles takes two whole packs, one of 16 takes one, one of 1 takes one.
      expect(packs.claimedBatch(20, bins, 16)).toEqual({ names: names.slice(0, 32), packs: [0, 16].map(pack) });
      expect(packs.claimedBatch(16, bins, 16)).toEqual({ names: names.slice(0, 16), packs: [pack(0)] });
      expect(packs.claimedBatch(1, bins, 16)).toEqual({ names: names.slice(0, 16), packs: [pack(0)] });
      // Other roles go with them, a role each; the packs are cut by the files' lengths too.
      roles.markDirty(["targets"], roles.nextSeq());
      roles.startRound(new Date());
      expect(packs.claimedBatch(64, bins, 16).names).toEqual(names);
      expect(packs.claimedBatch(65, bins, 16)).toEqual({
        names: [...names, "targets"],
        packs: [0, 16, 32, 48].map(pack),
      });
      state.storage.sql.exec("UPDATE roles SET length = ? WHERE name = ?", STEP_PACK_BYTES, names[2]);
      expect(packs.claimedBatch(3, bins, 16).packs).toEqual([names.slice(0, 2), names.slice(2, 3)]);
    });
  });

  it("serves a bin stored under its own key by a repository published before packs", async () => {
    const { file, version, bytes: packed } = await oneChangedBin("packs-legacy", 16, "legacy/a.tgz");
    // The layout before packs: the same bytes under the bin's own key, and no pack.
    for (const key of await keys("packs-legacy/packs/")) await env.BUCKET.delete(key);
    await env.BUCKET.put(`packs-legacy/metadata/${version + 100}.${file}`, packed, {
      customMetadata: { sha256: await sha256Hex(packed) },
    });
    const response = await workerFetch(`${BASE}/packs-legacy/metadata/${version + 100}.${file}`);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(packed);
  });

  it("serves a bin from the slice pack an earlier release stored it in", async () => {
    const { file, version: published, bytes } = await oneChangedBin("packs-sliced", 1024, "sliced/a.tgz");
    // The layout of earlier releases: the bins of one slice that one step signed, `packs/<version>/<slice>`.
    const index = indexOf(file);
    const neighbour = index % PACK_SLOTS === 0 ? index + 1 : index - 1;
    const version = published + 100;
    const { body, customMetadata } = encodePack(
      [
        { index: neighbour, bytes: utf8(`{"neighbour":${neighbour}}`) },
        { index, bytes },
      ].sort((a, b) => a.index - b.index),
      3,
    );
    await env.BUCKET.put(`packs-sliced/packs/${version}/${Math.floor(index / PACK_SLOTS)}`, body, { customMetadata });
    const response = await workerFetch(`${BASE}/packs-sliced/metadata/${version}.${file}`);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    expect(response.headers.get("ETag")).toBe(`"${await sha256Hex(bytes)}"`);
    const other = `bins-${neighbour.toString(16).padStart(3, "0")}.json`;
    expect(await (await workerFetch(`${BASE}/packs-sliced/metadata/${version}.${other}`)).text()).toBe(
      `{"neighbour":${neighbour}}`,
    );
  });

  it("writes one R2 object per step pack: a rotation of 1,024 bins is 2 pack writes, not 1,024", async () => {
    const { client, signers } = await bootstrapped("packs-rotate", { bins: 1024, binsPerInvocation: 1024 });
    await client.changeTargets({ add: [await targetEntry("rotate/a.tgz")] });
    const before = (await keys("packs-rotate/packs/")).length;
    const opened = await client.openCeremony({ kind: "online-key-rotation", reason: "packs test" });
    await client.submitSignature(opened.id, await signDraft(opened, defined(signers[0])));
    await client.submitSignature(opened.id, await signDraft(opened, defined(signers[1])));
    expect((await keys("packs-rotate/packs/")).length - before).toBe(1024 / STEP_PACK_BINS);
    const runs = (await recentRuns("packs-rotate")).filter((r) => r.roles >= 1024);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    // The run's R2 operations: its 2 packs and the round's own files, far below one per role.
    for (const run of runs) expect(run.r2Operations).toBeLessThan(64);
  });
});
