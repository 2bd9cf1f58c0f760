/**
 * A round's versions made current in parts (durable-objects/round-commit.ts),
 * on an object's real SQLite and transparency log: a commit that stops
 * between two parts (its invocation died) leaves the parts before it whole,
 * and the commit that resumes it ends with the state one uninterrupted commit
 * leaves: the same roles, log entries, pack counts and superseded files.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { COMMIT_PART, commitRound, type RoundCommitDeps } from "../../durable-objects/round-commit.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { SupersededFiles } from "../../durable-objects/superseded-files.ts";
import { TransparencyLog } from "../../durable-objects/transparency-log.ts";
import { Turns } from "../../durable-objects/turns.ts";
import { decodeEntry } from "../../src/log/entry.ts";
import { fromHex } from "../../src/lib/bytes.ts";
import type { PublishedVersions } from "../../src/repository-api.ts";
import { bootstrapped, freshRoles, getJson } from "./helpers.ts";

/** Two parts and a few roles more. */
const ROLES = 2 * COMMIT_PART + 5;
const binName = (i: number) => `bins-${i.toString(16).padStart(4, "0")}`;
const NAMES = Array.from({ length: ROLES }, (_, i) => binName(i));
const AT = new Date("2031-05-01T00:00:00Z");

/**
 * A repository whose bins are all published at version 1 in pack 0 of
 * version 1, and a round that staged version 2 of each (packs by slice of
 * 128) and stored its timestamp: what is left is to make them current.
 */
function committingRound(sql: SqlStorage): RoleTable {
  const roles = freshRoles(sql, NAMES);
  sql.exec("UPDATE roles SET version = 1, expires = '2031-06-01T00:00:00Z', length = 9, sha256 = 'aa', pack_slice = 0");
  sql.exec("INSERT INTO bin_packs (version, slice, live) VALUES (1, 0, ?)", ROLES);
  roles.markDirty(NAMES, roles.nextSeq());
  roles.startRound(AT);
  roles.recordStagedMany(
    NAMES.map((name, i) => ({
      name,
      version: 2,
      expires: "2031-06-02T00:00:00Z",
      length: 10,
      sha256: i.toString(16).padStart(64, "0"),
      seenSeq: roles.seq(name),
      packSlice: Math.floor(i / 128),
    })),
  );
  roles.startCommit();
  return roles;
}

/** What a commit leaves behind, to compare two of them. */
function committedState(sql: SqlStorage) {
  const rows = (query: string) => sql.exec(query).toArray();
  return {
    roles: rows("SELECT * FROM roles ORDER BY name"),
    packs: rows("SELECT * FROM bin_packs ORDER BY version, slice"),
    superseded: rows("SELECT key FROM superseded_files ORDER BY key"),
    entries: rows("SELECT idx, hex(entry) AS entry FROM log_entries ORDER BY idx"),
    state: rows(
      "SELECT key, value FROM state WHERE key IN ('published_seq', 'round_active', 'round_committing') ORDER BY key",
    ),
  };
}

function deps(state: DurableObjectState, repo: string, roles: RoleTable, turns: Turns) {
  const committed: Array<{ versions: PublishedVersions; seq: number }> = [];
  const log = new TransparencyLog({
    sql: state.storage.sql,
    kv: state.storage.kv,
    sealer: new Sealer(env.KEY_ENCRYPTION_KEY),
    origin: `tuf-edge.local/${repo}`,
  });
  const commit: RoundCommitDeps = {
    roles,
    log,
    superseded: new SupersededFiles(state.storage.sql),
    turns,
    repo,
    now: () => AT,
    versions: () => ({ targets: 0, snapshot: 0, timestamp: 0 }),
    committed: (versions, seq) => committed.push({ versions, seq }),
  };
  return { commit, committed, log };
}

/** Turns whose next turn never comes: the invocation ends (dies) at the first wait. */
const dying = () => new Turns(() => undefined);

describe("a round made current in parts", () => {
  it("stops between two parts with each part whole, and resumed, ends as one uninterrupted commit does", async () => {
    const whole = await runInDurableObject(
      env.REPOSITORY.getByName("round-commit-whole"),
      async (_i: Repository, state) => {
        const roles = committingRound(state.storage.sql);
        const { commit, committed } = deps(state, "round-commit", roles, new Turns());
        expect(await commitRound(commit)).toBe(ROLES);
        expect(committed).toHaveLength(1);
        return committedState(state.storage.sql);
      },
    );

    await runInDurableObject(env.REPOSITORY.getByName("round-commit-parts"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      const roles = committingRound(sql);
      const seq = roles.roundSeq();
      const first = deps(state, "round-commit", roles, dying());
      // The first part is made current in the caller's block; the commit then waits for a turn that never comes.
      void commitRound(first.commit);
      expect(roles.stagedFiles().map((f) => f.role)).toEqual(NAMES.slice(COMMIT_PART));
      expect(roles.published(binName(0))?.version).toBe(2);
      expect(roles.published(binName(COMMIT_PART))?.version).toBe(1);
      expect(first.log.size()).toBe(COMMIT_PART);
      expect(roles.committing()).toBe(true);
      expect(roles.progress()).toMatchObject({ roundActive: true, publishedSeq: 0 });
      expect(first.committed).toEqual([]);
      // The old pack still serves the bins not yet current: not superseded.
      expect(sql.exec("SELECT live FROM bin_packs WHERE version = 1").one().live).toBe(ROLES - COMMIT_PART);
      expect(sql.exec("SELECT COUNT(*) AS n FROM superseded_files").one().n).toBe(0);

      // The next invocation's step finds the round committing and continues it.
      const second = deps(state, "round-commit", roles, new Turns());
      expect(await commitRound(second.commit)).toBe(ROLES - COMMIT_PART);
      expect(second.committed).toEqual([{ versions: { targets: 0, snapshot: 0, timestamp: 0 }, seq }]);
      expect(roles.committing()).toBe(false);
      expect(roles.progress()).toMatchObject({ roundActive: false, publishedSeq: seq });

      const resumed = committedState(sql);
      expect(resumed).toEqual(whole);
      // Every file logged once, in name order; the old pack superseded once no bin reads it.
      expect(
        resumed.entries.map((row) => (decodeEntry(fromHex(row.entry as string)) as { role: string }).role),
      ).toEqual(NAMES);
      expect(resumed.superseded).toEqual([{ key: "packs/1/0" }]);
      expect(resumed.packs.reduce((n, row) => n + (row.live as number), 0)).toBe(ROLES);
    });
  });
});

describe("a step that finds a round committing", () => {
  it("continues the commit and signs no other snapshot or timestamp for it", async () => {
    const repo = "round-commit-step";
    await bootstrapped(repo, { bins: 4 });
    const stub = env.REPOSITORY.getByName(repo);
    const { json: before } = await getJson(`/${repo}/metadata/timestamp.json`);
    // As an invocation leaves it that died between two parts: the timestamp is out, `targets` is still staged
    // (here at its current version: the served files stay the repository's).
    const logged = await runInDurableObject(stub, (_i: Repository, state) => {
      const { sql } = state.storage;
      sql.exec(
        `INSERT INTO reserved_versions (name, allocated, staged_version, staged_expires, staged_length, staged_sha256,
           staged_pack_slice) SELECT name, version, version, expires, length, sha256, pack_slice FROM roles
         WHERE name = 'targets'`,
      );
      for (const key of ["round_active", "round_committing"])
        sql.exec("INSERT INTO state (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = 1", key);
      return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM log_entries").one().n;
    });
    expect((await stub.status()).pendingChanges).toBe(true);

    await runDurableObjectAlarm(stub);
    await runInDurableObject(stub, (_i: Repository, state) => {
      const { sql } = state.storage;
      const roles = new RoleTable(sql);
      expect(roles.committing()).toBe(false);
      expect(roles.roundActive()).toBe(false);
      expect(roles.stagedFiles()).toEqual([]);
      const entries = sql
        .exec<{ entry: ArrayBuffer }>("SELECT entry FROM log_entries WHERE idx >= ? ORDER BY idx", logged)
        .toArray()
        .map((row) => decodeEntry(new Uint8Array(row.entry)));
      expect(entries).toEqual([expect.objectContaining({ type: "metadata.publish", role: "targets" })]);
    });
    const { json: after } = await getJson(`/${repo}/metadata/timestamp.json`);
    expect(after.signed.version).toBe(before.signed.version);
    expect((await stub.status()).pendingChanges).toBe(false);
  });
});
