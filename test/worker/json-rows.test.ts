/**
 * Rows written as JSON through `json_each` (durable-objects/json-rows.ts)
 * are the rows bound parameters write: SQLite reads back exactly the text
 * of every value JSON carries exactly, and a row holding anything else
 * (a control character, a lone surrogate, a float) is written with bound
 * parameters. A batch of targets with hostile strings stores, logs and
 * publishes each one as the serialisers in JavaScript make it, in order.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { jsonArray, jsonExact, jsonRuns } from "../../durable-objects/json-rows.ts";
import { ENTRY_CANONICAL } from "../../durable-objects/derived-entry.ts";
import { encodeEntry } from "../../src/log/entry.ts";
import { member, servedAsSigned } from "../../src/tuf/assembled.ts";
import { targetFile } from "../../src/tuf/targets.ts";
import { adminClient, bootstrapped } from "./helpers.ts";
import { PUBLISHED_DIGESTS, publishedMaps, target } from "./stored-state.ts";

const HOSTILE = [
  "plain/a-1.0.tgz",
  'quote"d/a.tgz',
  "ünïcödé/ß-1.0.tgz",
  "astral/😀/𝄞.tgz",
  "__proto__",
  "constructor",
  "'; DROP TABLE targets; --",
  'json/[1,2]/{"a":1}',
  "0",
  "4294967294",
];

describe("rows as JSON", () => {
  it("carry exactly what bound parameters carry: every exact value reads back the same; the rest is left to parameters", async () => {
    const exact = [
      ...HOSTILE,
      "back\\slash",
      "del\u007f",
      "",
      " ",
      "tab\u00a0nbsp",
      "\u2028line",
      0,
      1,
      Number.MAX_SAFE_INTEGER,
      null,
    ];
    const inexact = ["nul\u0000", "new\nline", "tab\t", "\u001f", "lone \ud800", "lone \udc00 low", 1.5, 2 ** 60];
    for (const cell of exact) expect(jsonExact(cell), String(cell)).toBe(true);
    for (const cell of inexact) expect(jsonExact(cell), String(cell)).toBe(false);

    await runInDurableObject(env.REPOSITORY.getByName("json-rows-values"), (_i: Repository, state) => {
      const sql = state.storage.sql;
      const rows = exact.map((cell, i) => [i, cell, `${String(cell)}|${i}`] as const);
      const runs = jsonRuns(rows, (row) => row);
      expect(runs).toHaveLength(1);
      const back = sql
        .exec<{ i: number; v: string | number | null; w: string }>(
          "SELECT value ->> 0 AS i, value ->> 1 AS v, value ->> 2 AS w FROM json_each(?) ORDER BY key",
          jsonArray(runs[0]?.rows ?? []),
        )
        .toArray();
      expect(back).toEqual(rows.map(([i, v, w]) => ({ i, v, w })));
      // A row with an inexact value is a run of its own, in its place, without JSON.
      const mixed = jsonRuns(["a", "b\u0000", "c", "d"], (s) => [s]);
      expect(mixed.map((r) => [r.items, r.rows])).toEqual([
        [["a"], ['["a"]']],
        [["b\u0000"], null],
        [
          ["c", "d"],
          ['["c"]', '["d"]'],
        ],
      ]);
    });
    // Long runs are split so that no statement's JSON passes the limit, in order.
    const long = Array.from({ length: 3000 }, (_, i) => [`${"x".repeat(200)}${i}`]);
    const split = jsonRuns(long, (row) => row);
    expect(split.length).toBeGreaterThan(1);
    expect(split.flatMap((r) => r.items)).toEqual(long);
  });

  it("a batch of hostile paths and custom fields is stored, logged and published as JavaScript serialises it, in order", {
    timeout: 120_000,
  }, async () => {
    const repo = "json-rows-batch";
    await bootstrapped(repo, { bins: 16 });
    const customs: Array<Record<string, unknown> | undefined> = [
      undefined,
      { note: "nul \u0000 and newline \n and tab \t" },
      { quote: 'say "hi"', slash: "a\\b", text: "ünï 😀" },
      { nested: { list: [1, "two", null, true] } },
      { control: "\u001f" },
    ];
    // Enough targets for more than one run of JSON, with rows JSON does not carry exactly among them.
    const targets = await Promise.all([
      ...HOSTILE.map((path, i) => target(path, customs[i % customs.length])),
      ...Array.from({ length: 1500 }, (_, i) =>
        target(`many/${i}/${"p".repeat(120)}.tgz`, customs[i % customs.length]),
      ),
    ]);
    await adminClient(repo).changeTargets({ add: targets });
    // Again, some as they are (nothing to write), one with another custom field (updated), two new: counted once each.
    const again = [
      ...(targets.slice(0, 3) as typeof targets),
      await target(HOSTILE[4] as string, { changed: "yes\u0000" }),
      await target("new/one.tgz"),
      await target("new/two\u00e9.tgz", { n: 1 }),
    ];
    await adminClient(repo).changeTargets({ add: again });
    const logged = [...targets, ...again.slice(3)];
    targets.splice(4, 1, again[3] as (typeof targets)[number]);
    targets.push(...(again.slice(4) as typeof targets));

    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      const sql = state.storage.sql;
      const rows = sql
        .exec<{
          path: string;
          length: number;
          hashes: string;
          custom: string | null;
          entry_canonical: string;
          entry_json: string;
          derived: number;
        }>(
          `SELECT path, length, hashes, custom, ${ENTRY_CANONICAL} AS entry_canonical, entry_json,
             entry_canonical = '' AS derived FROM targets`,
        )
        .toArray();
      expect(rows).toHaveLength(targets.length);
      const count = sql.exec<{ value: number }>("SELECT value FROM state WHERE key = 'targets_count'").one().value;
      expect(count).toBe(targets.length);
      const byPath = new Map(rows.map((r) => [r.path, r]));
      // A row keeps no entry when SQLite writes it from the row (derived-entry.ts): here, every target
      // without custom (none of their paths needs escaping); a custom field's entry is kept.
      expect(rows.filter((r) => r.derived).map((r) => r.path)).toEqual(
        expect.arrayContaining(["plain/a-1.0.tgz", "constructor", "new/one.tgz"]),
      );
      expect(rows.map((r) => [r.path, r.derived === 1])).toEqual(rows.map((r) => [r.path, r.custom === null]));
      for (const t of targets) {
        const row = byPath.get(t.path);
        const entry = member(t.path, targetFile(t.length, t.hashes, t.custom));
        expect(row, t.path).toEqual({
          path: t.path,
          length: t.length,
          hashes: JSON.stringify(t.hashes),
          custom: t.custom ? JSON.stringify(t.custom) : null,
          // Written back by SQLite to the byte when not kept.
          entry_canonical: entry.canonical,
          derived: row?.derived,
          // Kept once when served as signed (a plain path and fields), in both forms otherwise.
          entry_json: servedAsSigned(entry) ? "" : entry.json,
        });
      }
      expect(rows.filter((r) => r.entry_json === "").length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.entry_json !== "").length).toBeGreaterThan(0);
      const digests = sql
        .exec<{ path: string; length: number; sha256: string; sha512: string | null }>(PUBLISHED_DIGESTS)
        .toArray();
      expect(new Map(digests.map((d) => [d.path, d]))).toEqual(
        new Map(
          targets.map((t) => [t.path, { path: t.path, length: t.length, sha256: t.hashes.sha256, sha512: null }]),
        ),
      );
      const entries = sql
        .exec<{ entry: ArrayBuffer; path: string; type: string }>(
          "SELECT e.entry, h.path, h.type FROM log_entries e JOIN log_history h USING (idx) ORDER BY idx",
        )
        .toArray();
      // Each entry's path kept exactly in the log's history (durable-objects/log-history.ts).
      expect(entries.map((e) => e.path)).toEqual(logged.map((t) => t.path));
      expect(new Set(entries.map((e) => e.type))).toEqual(new Set(["target.add"]));
      for (const [i, t] of logged.entries()) {
        const expected = encodeEntry({ type: "target.add", repository: repo, path: t.path, hashes: t.hashes });
        expect(new Uint8Array(entries[i]?.entry ?? new ArrayBuffer(0)), t.path).toEqual(expected);
      }
    });
    const maps = await publishedMaps(repo);
    const served = [...maps.values()].join(",");
    for (const t of targets) expect(served, t.path).toContain(JSON.stringify(t.path));
    expect([...maps.values()].filter((m) => m !== "{}")).toHaveLength(16);
  });
});
