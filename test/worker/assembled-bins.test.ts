import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { TargetsIndex } from "../../durable-objects/targets-index.ts";
import { joinMembers, member } from "../../src/tuf/assembled.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { verifyThreshold } from "../../src/tuf/metadata.ts";
import type { Key } from "../../src/tuf/key.ts";
import { BASE, bootstrapped, getJson, workerFetch } from "./helpers.ts";

/** Every file the current snapshot lists: its served text must be JSON.stringify of itself, signed over its canonical form. */
async function checkServedFiles(repo: string): Promise<Record<string, { targets: Record<string, unknown> }>> {
  const { json: root } = await getJson(`/${repo}/metadata/1.root.json`);
  const keys = root.signed.keys as Record<string, Key>;
  const online = root.signed.roles.targets;
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const snapshotText = await (
    await workerFetch(`${BASE}/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`)
  ).text();
  const files: Record<string, { targets: Record<string, unknown> }> = {};
  const snapshot = JSON.parse(snapshotText);
  expect(JSON.stringify(snapshot)).toBe(snapshotText);
  await verifyThreshold(snapshot, root.signed.roles.snapshot, keys, "snapshot");
  for (const [file, meta] of Object.entries(snapshot.signed.meta as Record<string, { version: number }>)) {
    const text = await (await workerFetch(`${BASE}/${repo}/metadata/${meta.version}.${file}`)).text();
    const envelope = JSON.parse(text);
    // Served as serialize() writes an envelope, and signed over the canonical form of what is served.
    expect(JSON.stringify(envelope)).toBe(text);
    await verifyThreshold(envelope, online, keys, file);
    files[file] = envelope.signed;
  }
  return files;
}

describe("bins assembled from stored entries", () => {
  it("serve exactly what is signed, whatever the paths and custom fields", async () => {
    const { client } = await bootstrapped("assembled-bytes", { bins: 2 });
    const paths = [
      "123",
      "0",
      "pkg/a-1.0.tgz",
      "Ünïcödé/ß.tgz",
      "emoji/\u{1F600}.tgz",
      'q"uote/x',
      "4294967295",
      // Not replacement patterns: each once broke its bin's JSON.
      "dollar/a$&b.tgz",
      "dollar/$'.tgz",
    ];
    const add = await Promise.all(
      paths.map(async (path, i) => ({
        path,
        length: i + 1,
        hashes: { sha256: await sha256Hex(utf8(path)) },
        custom: { "10": "ten", "2": ["line\nbreak", "tab\t", null, true, -3], nested: { z: 1, a: { "1": "one" } } },
      })),
    );
    await client.changeTargets({ add });
    const files = await checkServedFiles("assembled-bytes");
    const listed = Object.values(files).flatMap((f) => Object.keys(f.targets ?? {}));
    for (const path of paths) expect(listed).toContain(path);
    const entry = Object.values(files).find((f) => f.targets?.["123"])?.targets["123"];
    expect(entry).toEqual({ length: 1, hashes: add[0]?.hashes, custom: add[0]?.custom });
  });

  it("fills in the entries of rows written before entries were kept, and lists them unchanged", async () => {
    const { client } = await bootstrapped("assembled-legacy", { bins: 2 });
    const target = async (path: string) => ({
      path,
      length: 7,
      hashes: { sha256: await sha256Hex(utf8(path)) },
      custom: { yanked: false },
    });
    const old = await Promise.all(["old/a", "old/b", "old/c", "old/d"].map(target));
    await client.changeTargets({ add: old });
    const before = await checkServedFiles("assembled-legacy");
    const stub = env.REPOSITORY.getByName("assembled-legacy");
    // As a repository written before migration 12 holds its rows.
    await runInDurableObject(stub, (_i: Repository, state) => {
      state.storage.sql.exec("UPDATE targets SET entry_canonical = NULL, entry_json = NULL");
    });
    // Re-adding one unchanged changes nothing; a new target re-signs its bin with the old rows in it.
    const again = await client.changeTargets({ add: [old[0] as (typeof old)[number]] });
    expect(again.versions.timestamp).toBe(
      (await getJson("/assembled-legacy/metadata/timestamp.json")).json.signed.version,
    );
    await client.changeTargets({ add: await Promise.all(["new/1", "new/2", "new/3"].map(target)) });
    const after = await checkServedFiles("assembled-legacy");
    for (const [file, signed] of Object.entries(before)) {
      if (file === "targets.json") continue;
      for (const [path, entry] of Object.entries(signed.targets)) expect(after[file]?.targets[path]).toEqual(entry);
    }
    const filled = await runInDurableObject(
      stub,
      (_i: Repository, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM targets WHERE entry_canonical IS NULL").one()
          .n,
    );
    // Every bin was re-signed (2 bins, 3 new targets): no row is left unserialised.
    expect(filled).toBe(0);
  });

  it("joined by SQLite, a bin is the same text as joined from its members; bins with other paths are joined from members", async () => {
    const repo = "assembled-joined";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const plain = Array.from({ length: 40 }, (_, i) => `plain/pkg-${(i * 7919) % 97}-${i}.tgz`);
    // An array index or a non-ASCII path sends its bin down the members' path; a quote is printable ASCII.
    const other = ["123", "Ünïcödé/ß.tgz", 'q"uote/x', "emoji/\u{1F600}.tgz"];
    const add = await Promise.all(
      [...plain, ...other].map(async (path, i) => ({
        path,
        length: i + 1,
        hashes: { sha256: await sha256Hex(utf8(path)) },
        ...(i % 3 === 0 ? { custom: { "10": "ten", "2": [i], note: `n$&${i}` } } : {}),
      })),
    );
    await client.changeTargets({ add });
    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      const index = new TargetsIndex(state.storage.sql);
      const bins = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM roles WHERE name GLOB 'bins-*' ORDER BY name")
        .toArray()
        .map((r) => r.name);
      // One more bin with no targets at all.
      const names = [...bins, "bins-none"];
      const joined = index.binsJoined(names);
      const members = index.binEntriesOf(names);
      for (const name of names) expect(joined.get(name), name).toEqual(joinMembers(members.get(name) ?? []));
      expect(joined.get("bins-none")).toEqual({ canonical: "", json: "" });
      // Both paths were taken: some bin holds only plain paths, some another one.
      const kinds = names.map((name) =>
        (members.get(name) ?? []).some((m) => !/^[ -~]*$/.test(m.key) || /^\d+$/.test(m.key)),
      );
      expect(kinds).toContain(true);
      expect(kinds).toContain(false);
    });
    await checkServedFiles(repo);
  });

  it("keeps a plain target's entry once, and joins bins of such rows, of older two-form rows or of both alike", async () => {
    const repo = "assembled-once";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const target = async (path: string, i: number) => ({
      path,
      length: i + 1,
      hashes: { sha256: await sha256Hex(utf8(path)) },
    });
    await client.changeTargets({ add: await Promise.all(plainPaths(24).map(target)) });
    const stub = env.REPOSITORY.getByName(repo);
    const bins = await runInDurableObject(stub, (_i: Repository, state) => {
      const sql = state.storage.sql;
      // Every row is kept once: its served form is its canonical form.
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM targets WHERE entry_json <> ''").one().n).toBe(0);
      const names = sql
        .exec<{ bin: string }>("SELECT DISTINCT bin FROM targets ORDER BY bin")
        .toArray()
        .map((r) => r.bin);
      expect(names.length).toBeGreaterThanOrEqual(3);
      // As rows were kept before: both forms, the served one length first. One bin all so, one bin partly.
      const legacy = (bin: string, limit: number) => {
        const rows = sql
          .exec<{ path: string; length: number; hashes: string }>(
            "SELECT path, length, hashes FROM targets WHERE bin = ? ORDER BY path LIMIT ?",
            bin,
            limit,
          )
          .toArray();
        for (const row of rows) {
          const json = member(row.path, { length: row.length, hashes: JSON.parse(row.hashes) }).json;
          sql.exec("UPDATE targets SET entry_json = ? WHERE path = ?", json, row.path);
        }
      };
      legacy(names[0] as string, 1000);
      legacy(names[1] as string, 1);
      const index = new TargetsIndex(sql);
      const joined = index.binsJoined(names);
      const members = index.binEntriesOf(names);
      for (const name of names) expect(joined.get(name), name).toEqual(joinMembers(members.get(name) ?? []));
      // The served text of an older row is its own, length first; of a row kept once, its canonical form.
      expect(joined.get(names[0] as string)?.json).toContain('{"length":');
      expect(joined.get(names[2] as string)?.json).toBe(joined.get(names[2] as string)?.canonical);
      return names;
    });
    // A change re-signs each bin from these rows: served as signed, every target listed.
    await client.changeTargets({ add: await Promise.all(plainPaths(24, "more").map(target)) });
    const files = await checkServedFiles(repo);
    const listed = Object.values(files).flatMap((f) => Object.keys(f.targets ?? {}));
    for (const path of [...plainPaths(24), ...plainPaths(24, "more")]) expect(listed).toContain(path);
    expect(bins.length).toBeGreaterThanOrEqual(3);
  });
});

function plainPaths(n: number, prefix = "plain"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}/pkg-${(i * 7919) % 97}-${i}.tgz`);
}
