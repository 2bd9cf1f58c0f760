/**
 * A change of the delegation tree moves the targets it can move
 * (delegation-reach.ts) to the role that now claims them, reading them a
 * page at a time in path order (DelegationMoves.move, REASSIGN_PAGE: delegation-moves.ts), never
 * all at once: at 1,000,000 targets the whole table as objects in the heap
 * outgrows the isolate's 128 MB, and reading every target for a namespace
 * of a few took 12 s. Here the page is three rows and each change is made
 * on the object's real SQLite with every statement recorded: each read of
 * `targets` is a page of an index (no sort of the table), it reads the rows
 * the change can move and no others, and every target, moved or not, ends
 * where assign() says.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Delegations } from "../../durable-objects/delegations.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import type { DelegationSpec } from "../../src/repository-api.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { bootstrapped, recording, refusal, type Statement, targetEntry } from "./helpers.ts";

const PAGE = 3;

const PATHS = [
  "@acme/a-1.0.tgz",
  "@acme/b-1.0.tgz",
  "@acme/c-1.0.tgz",
  "@acme/d-1.0.tgz",
  "@acme/zz-9.tgz",
  "@acmf/near.tgz",
  "@acm/near.tgz",
  "hello/a.txt",
  "hello/b.txt",
  "zeta/z.tgz",
  "alpha/1.tgz",
  "omega/2.tgz",
  "é/ü.tgz",
  "\u{1F600}/grin.tgz",
];

type Row = { path: string; bin: string };

/** Makes `change` on a Delegations that records its statements; returns them with each read's rows. */
async function recorded(repo: string, change: (delegations: Delegations) => unknown, reassignMax?: number) {
  return runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
    const { sql } = state.storage;
    const statements: Statement[] = [];
    const delegations = new Delegations({
      sql: recording(sql, statements),
      transaction: (fn) => state.storage.transactionSync(fn),
      topBins: () => new HashBins(HashBins.bitLengthFor(16)),
      reassignPage: PAGE,
      ...(reassignMax ? { reassignMax } : {}),
    });
    const rowsBefore = sql.exec<Row>("SELECT path, bin FROM targets ORDER BY path").toArray();
    const reads = statements.length;
    const result = change(delegations);
    const targetReads = statements.slice(reads).filter((s) => /^\s*SELECT\b[\s\S]*\bFROM targets\b/.test(s.query));
    // How many rows the change would read, counted before it reads them (DelegationMoves.count).
    const counts = targetReads.filter((read) => read.query.includes("COUNT(*)"));
    const pages = targetReads.filter((read) => !read.query.includes("COUNT(*)"));
    // What each read returned: run again on the rows as they were (a move changes a row's bin, never its path).
    const before = new Map(rowsBefore.map((row) => [row.path, row.bin]));
    const plans = pages.map((read) =>
      sql
        .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${read.query}`, ...read.bindings)
        .toArray()
        .map((row) => row.detail)
        .join("; "),
    );
    const rows = sql.exec<Row>("SELECT path, bin FROM targets ORDER BY path").toArray();
    const misplaced = rows.filter((row) => delegations.assign(row.path).bin !== row.bin);
    return { result, targetReads: pages, counts, plans, before, rows, misplaced };
  });
}

const online = (spec: Omit<DelegationSpec, "signing" | "terminating" | "parent"> & Partial<DelegationSpec>) =>
  ({ parent: "targets", signing: "online", terminating: false, ...spec }) as DelegationSpec;

describe("a delegation change moves the targets it can move, a page at a time", () => {
  it("adding a path pattern reads the paths under its literal prefix, in pages of the path index", async () => {
    const repo = "dlg-reach-add";
    const { client } = await bootstrapped(repo, { bins: 16 });
    await client.changeTargets({ add: await Promise.all(PATHS.map(targetEntry)) });

    const { result, targetReads, plans, rows, misplaced } = await recorded(repo, (d) =>
      d.add(online({ name: "acme", paths: ["@acme/*"] }), 1_000, Date.now()),
    );
    expect(result).toMatchObject({ touched: expect.arrayContaining(["acme"]) });
    expect(misplaced).toEqual([]);
    for (const { path, bin } of rows.filter((row) => PATHS.includes(row.path)))
      expect(bin, path).toMatch(path.startsWith("@acme/") ? /^acme$/ : /^bins-[0-9a-f]$/);

    // The range [@acme/, @acme0) in pages of three (5 rows: two pages), then the paths with a segment
    // starting with "." (the pattern's second segment starts with a wildcard: one page, empty).
    const ranges = targetReads.filter((read) => read.query.includes("path >= ? AND path < ?"));
    expect(ranges.map((read) => read.bindings.slice(0, 2))).toEqual([
      ["@acme/", "@acme0"],
      ["@acme/", "@acme0"],
    ]);
    expect(targetReads.filter((read) => read.query.includes("GLOB"))).toHaveLength(1);
    expect(targetReads).toHaveLength(3);
    for (const [i, read] of targetReads.entries()) {
      expect(read.query).toMatch(new RegExp(`ORDER BY path LIMIT ${PAGE}$`));
      expect(plans[i]).not.toMatch(/TEMP B-TREE|SCAN targets\b(?! USING COVERING INDEX sqlite_autoindex)/);
    }
    expect(plans[0]).toMatch(
      /SEARCH targets USING (COVERING )?INDEX sqlite_autoindex_targets_1 \(path>\? AND path<\?\)/,
    );
  });

  it("removing a delegation reads the rows its roles hold, from the bin index", async () => {
    const repo = "dlg-reach-remove";
    const { client } = await bootstrapped(repo, { bins: 16 });
    await client.changeTargets({ add: await Promise.all(PATHS.map(targetEntry)) });
    await client.addDelegation({ name: "acme", paths: ["@acme/*"], bins: 4 });

    const { result, targetReads, plans, before, rows, misplaced } = await recorded(repo, (d) =>
      d.remove("acme", 1_000),
    );
    expect(result).toMatchObject({ touched: expect.arrayContaining(["acme"]) });
    expect(misplaced).toEqual([]);
    for (const { path, bin } of rows.filter((row) => PATHS.includes(row.path))) expect(bin, path).toMatch(/^bins-/);

    const roles = ["acme", ...["0", "1", "2", "3"].map((i) => `acme.bins-${i}`)];
    expect(targetReads.map((read) => read.bindings[0])).toEqual(
      expect.arrayContaining(roles.filter((role) => [...before.values()].includes(role))),
    );
    for (const [i, read] of targetReads.entries()) {
      expect(read.query).toContain("bin = ?");
      expect(roles).toContain(read.bindings[0]);
      expect(plans[i]).toMatch(/SEARCH targets USING COVERING INDEX targets_by_bin \(bin=\? AND path>\?\)/);
      expect(plans[i]).not.toMatch(/TEMP B-TREE/);
    }
  });

  it("a delegation by hash prefixes reads the top-level bins its prefixes fall in and the roles after it", async () => {
    const repo = "dlg-reach-hash";
    const { client } = await bootstrapped(repo, { bins: 16 });
    await client.changeTargets({ add: await Promise.all(PATHS.map(targetEntry)) });
    await client.addDelegation({ name: "acme", paths: ["@acme/*"] });
    const binsRead = (reads: Statement[]) => [...new Set(reads.map((read) => read.bindings[0]))].sort();

    // Last among the top-level delegations: only what the catch-all holds in bins-0 … bins-7 can move.
    const half = await recorded(repo, (d) =>
      d.add(online({ name: "half", path_hash_prefixes: ["0", "1", "2", "3", "4", "5", "6", "7"] }), 1_000, Date.now()),
    );
    expect(half.misplaced).toEqual([]);
    expect(half.rows.filter((row) => row.bin === "half").length).toBeGreaterThan(0);
    expect(binsRead(half.targetReads)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"].map((i) => `bins-${i}`));
    for (const [i, read] of half.targetReads.entries()) {
      expect(read.query).toContain("bin = ?");
      expect(half.plans[i]).toMatch(/SEARCH targets USING COVERING INDEX targets_by_bin \(bin=\? AND path>\?\)/);
    }

    // First: also what acme and half (after it now) hold, which it may take.
    const first = await recorded(repo, (d) =>
      d.add(online({ name: "first", path_hash_prefixes: ["8", "0"], position: 0 }), 1_001, Date.now()),
    );
    expect(first.misplaced).toEqual([]);
    expect(binsRead(first.targetReads)).toEqual(["acme", "bins-0", "bins-8", "half"]);
  });

  it("a pattern starting with a wildcard reads, under a delegation, only the rows it could take", async () => {
    const repo = "dlg-reach-wild";
    const { client } = await bootstrapped(repo, { bins: 16 });
    await client.changeTargets({ add: await Promise.all(PATHS.map(targetEntry)) });
    await client.addDelegation({ name: "acme", paths: ["@acme/*"] });
    await client.addDelegation({ name: "acme-z", parent: "acme", paths: ["@acme/zz-*"] });

    const wild = await recorded(repo, (d) =>
      d.add(online({ name: "acme-any", parent: "acme", paths: ["*/[a-c]*"], position: 0 }), 1_000, Date.now()),
    );
    expect(wild.result).toMatchObject({ touched: expect.arrayContaining(["acme-any"]) });
    expect(wild.misplaced).toEqual([]);
    // The rows of the roles it could take from that its GLOB covers (and the paths with a dotted segment).
    const roleReads = wild.targetReads.filter((read) => read.query.includes("bin = ?"));
    expect([...new Set(roleReads.map((read) => read.bindings[0]))].sort()).toEqual(["acme", "acme-z"]);
    for (const read of roleReads) expect(read.bindings.slice(1, 2)).toEqual(["*/?*"]);
    expect(wild.targetReads.filter((read) => !roleReads.includes(read)).map((read) => read.query)).toEqual([
      expect.stringContaining("path GLOB '*/.*'"),
    ]);
    expect(wild.rows.filter((row) => row.bin === "acme-any").map((row) => row.path)).toEqual([
      "@acme/a-1.0.tgz",
      "@acme/b-1.0.tgz",
      "@acme/c-1.0.tgz",
    ]);
  });

  it("a pattern starting with a wildcard under targets reads the paths its GLOB covers, in pages of the path index", async () => {
    const repo = "dlg-reach-top-wild";
    const { client } = await bootstrapped(repo, { bins: 16 });
    await client.changeTargets({ add: await Promise.all([...PATHS, "docs/.a.txt"].map(targetEntry)) });

    // "*/[ab].txt" covers "*/?.txt": hello/a.txt and hello/b.txt (and docs/.a.txt, which only python-tuf matches).
    const refused = await recorded(repo, (d) =>
      d.add(online({ name: "text", paths: ["*/[ab].txt"] }), 1_000, Date.now()),
    );
    expect(refused.result).toMatchObject({ ok: false, status: 409, code: "ambiguous_delegation" });
    expect(refused.rows).toEqual([...refused.before].map(([path, bin]) => ({ path, bin })));

    await client.changeTargets({ remove: ["docs/.a.txt"] });
    const text = await recorded(repo, (d) => d.add(online({ name: "text", paths: ["*/[ab].txt"] }), 1_001, Date.now()));
    expect(text.result).toMatchObject({ touched: expect.arrayContaining(["text"]) });
    expect(text.misplaced).toEqual([]);
    expect(text.rows.filter((row) => row.bin === "text").map((row) => row.path)).toEqual([
      "hello/a.txt",
      "hello/b.txt",
    ]);
    // Counted, then read a page at a time along the path index, SQLite testing each path: one page of two rows
    // (the GLOB, and the paths whose first segment starts with "."), and one of the dotted paths (none).
    expect(text.counts.map((read) => read.query)).toEqual([
      expect.stringContaining("path GLOB ? OR path GLOB '.*'"),
      expect.stringContaining("path GLOB '*/.*'"),
    ]);
    expect(text.targetReads.map((read) => read.bindings)).toEqual([["*/?.txt", ""], [""]]);
    for (const plan of text.plans) {
      expect(plan).toMatch(/SEARCH targets USING (COVERING )?INDEX sqlite_autoindex_targets_1 \(path>\?\)/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
  });

  it("a change that would read more targets than one may is refused before anything is written", async () => {
    const repo = "dlg-reach-max";
    const { client } = await bootstrapped(repo, { bins: 16 });
    await client.changeTargets({ add: await Promise.all(PATHS.map(targetEntry)) });
    const delegationsRows = () =>
      runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) =>
        state.storage.sql.exec("SELECT name FROM delegations").toArray(),
      );

    // Every target its GLOB covers (the 14, all in two segments) against at most 5: refused, counted by SQLite
    // (its GLOB, then the dotted paths), and no row read.
    const wide = await recorded(repo, (d) => d.add(online({ name: "wide", paths: ["*/*"] }), 1_000, Date.now()), 5);
    expect(wide.result).toMatchObject({ ok: false, status: 409, code: "delegation_change_too_large" });
    expect((wide.result as { detail: string }).detail).toContain("would read 14 targets");
    expect((wide.result as { detail: string }).detail).toContain("at most 5");
    expect(wide.targetReads).toEqual([]);
    expect(wide.counts).toHaveLength(2);
    expect(wide.rows).toEqual([...wide.before].map(([path, bin]) => ({ path, bin })));
    expect(await delegationsRows()).toEqual([]);

    // The five paths under @acme/ (and no dotted path): within the limit.
    const acme = await recorded(repo, (d) => d.add(online({ name: "acme", paths: ["@acme/*"] }), 1_001, Date.now()), 5);
    expect(acme.result).toMatchObject({ touched: expect.arrayContaining(["acme"]) });
    expect(acme.rows.filter((row) => row.bin === "acme")).toHaveLength(5);

    // Removing it reads its five rows; with at most four, refused, and it stays.
    const kept = await recorded(repo, (d) => d.remove("acme", 1_002), 4);
    expect(kept.result).toMatchObject({ ok: false, code: "delegation_change_too_large" });
    expect((kept.result as { detail: string }).detail).toContain('remove some of the targets "acme" holds first');
    expect(await delegationsRows()).toEqual([{ name: "acme" }]);
  });

  it("a path far from the prefix that clients may disagree on still refuses the change, and nothing is written", async () => {
    const repo = "dlg-reach-dots";
    const { client } = await bootstrapped(repo, { bins: 16 });
    await client.changeTargets({ add: await Promise.all([...PATHS, "zz/.hidden"].map(targetEntry)) });
    const before = (await client.delegations()).delegations;

    // python-tuf's fnmatch lets "@acme/*"'s "*" match ".hidden" in any two-segment path's second place; tuf-js does not.
    expect(await refusal(client.addDelegation({ name: "acme", paths: ["@acme/*"] }))).toEqual({
      status: 409,
      code: "ambiguous_delegation",
    });
    expect((await client.delegations()).delegations).toEqual(before);
    // Patterns no client can read differently for it (no segment there starting with a wildcard): it goes through.
    await client.addDelegation({ name: "acme", paths: ["@acme/a*", "@acme/x/*"] });
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["acme"]);
  });

  it("nested and ordered delegations: after each change every target is where assign() says", async () => {
    const repo = "dlg-reach-tree";
    const { client } = await bootstrapped(repo, { bins: 16 });
    const paths = [
      ...PATHS,
      "org/team-a/x.tgz",
      "org/team-b/y.tgz",
      "org/tools/z.tgz",
      "org/t",
      "org/\u{10FFFF}",
      "org\u{10FFFF}/q",
      "orh/next.tgz",
    ];
    await client.changeTargets({ add: await Promise.all(paths.map(targetEntry)) });

    const changes: Array<(d: Delegations) => unknown> = [
      (d) => d.add(online({ name: "org", paths: ["org/*"] }), 1_000, Date.now()),
      (d) => d.add(online({ name: "team", parent: "org", paths: ["org/t*"], bins: 2 }), 1_001, Date.now()),
      (d) => d.add(online({ name: "first", paths: ["org/tools/*", "org/?"], position: 0 }), 1_002, Date.now()),
      (d) => d.add(online({ name: "wide", paths: ["org*/*"] }), 1_003, Date.now()),
      (d) => d.remove("team", 1_004),
      (d) => d.remove("first", 1_005),
      (d) => d.add(online({ name: "hashed", path_hash_prefixes: ["a", "b", "c"], position: 0 }), 1_006, Date.now()),
      (d) =>
        d.add(online({ name: "sub", parent: "wide", path_hash_prefixes: ["0", "1", "2", "3"] }), 1_007, Date.now()),
      (d) => d.add(online({ name: "tail", path_hash_prefixes: ["d", "e", "f", "9", "4"] }), 1_008, Date.now()),
      (d) => d.remove("org", 1_009),
      (d) => d.add(online({ name: "mid", path_hash_prefixes: ["5", "6", "7", "8"], position: 1 }), 1_010, Date.now()),
      (d) => d.add(online({ name: "wild", parent: "wide", paths: ["*/*"], position: 0 }), 1_011, Date.now()),
      (d) => d.add(online({ name: "wilder", parent: "wide", paths: ["?rg*/[a-z]*"] }), 1_012, Date.now()),
    ];
    for (const [i, change] of changes.entries()) {
      const { result, misplaced, rows } = await recorded(repo, change);
      expect(result, `change ${i}`).toMatchObject({ touched: expect.any(Array) });
      expect(misplaced, `change ${i}`).toEqual([]);
      expect(
        rows.filter((row) => paths.includes(row.path)),
        `change ${i}`,
      ).toHaveLength(paths.length);
    }
  });
});
