/**
 * Group accept (durable-objects/accept-group.ts): pushes ready at about the
 * same time are written in one transaction, each in a savepoint of its own.
 * A push refused by its checks changes nothing and a push that throws is
 * rolled back alone: its neighbours in the group are written, answered and
 * published all the same.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AcceptGroup, GROUP_PUSHES, type GroupTimer, STALE_TIMER_MS } from "../../durable-objects/accept-group.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { AdminApiError } from "../../scripts/lib/admin-client.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { allPublishedTargets, bootstrapped, withHmacRegistry } from "./helpers.ts";

async function add(path: string, content = path) {
  return {
    type: "targets.add" as const,
    path,
    length: path.length,
    hashes: { sha256: await sha256Hex(utf8(content)) },
  };
}

describe("AcceptGroup", () => {
  it("writes a group in one transaction: a member that throws is rolled back alone, its neighbours are written", async () => {
    const repo = "accept-group-unit";
    await bootstrapped(repo);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE group_rows (name TEXT PRIMARY KEY)");
      const groups: string[][] = [];
      let hooks = 0;
      const group = new AcceptGroup<string>({
        transaction: (fn) => state.storage.transactionSync(fn),
        written: (values) => groups.push(values),
        afterGroup: async () => {
          hooks++;
        },
      });
      const write = (name: string, fail = false) =>
        group.accept(() => {
          sql.exec("INSERT INTO group_rows (name) VALUES (?)", name);
          if (fail) throw new Error(`${name} failed after writing`);
          // A later member sees the earlier members' rows, as if accepted one at a time.
          return `${name} after ${sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM group_rows").one().n - 1}`;
        });
      const outcomes = await Promise.allSettled([write("a"), write("b", true), write("c"), write("a")]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
      expect(outcomes[0]).toEqual({ status: "fulfilled", value: "a after 0" });
      expect(outcomes[2]).toEqual({ status: "fulfilled", value: "c after 1" });
      expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain("b failed after writing");
      // The second "a" broke the primary key: only its own savepoint is rolled back.
      expect(String((outcomes[3] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
      expect(
        sql
          .exec<{ name: string }>("SELECT name FROM group_rows ORDER BY name")
          .toArray()
          .map((r) => r.name),
      ).toEqual(["a", "c"]);
      // One group: one transaction, one hook.
      expect(groups).toEqual([["a after 0", "c after 1"]]);
      expect(hooks).toBe(1);

      // A later push starts a new group.
      expect(await write("d")).toBe("d after 2");
      expect(groups).toHaveLength(2);
      expect(hooks).toBe(2);
    });
  });
});

describe("AcceptGroup's first try, the outermost transaction", () => {
  it("writes a group with no savepoint; a member that throws rolls the try back whole, and the careful way undoes it alone", async () => {
    const repo = "accept-group-outermost";
    await bootstrapped(repo);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE group_rows (name TEXT PRIMARY KEY)");
      const tries: string[] = [];
      const groups: string[][] = [];
      let rolledBack = 0;
      const group = new AcceptGroup<string>({
        transaction: (fn) => {
          tries.push("savepoint");
          return state.storage.transactionSync(fn);
        },
        outermost: (fn) => {
          tries.push("outermost");
          return state.storage.transaction(async () => fn());
        },
        rolledBack: () => {
          rolledBack++;
        },
        written: (values) => groups.push(values),
        afterGroup: async () => undefined,
      });
      const runs = new Map<string, number>();
      const write = (name: string, fail = false) =>
        group.accept(() => {
          runs.set(name, (runs.get(name) ?? 0) + 1);
          sql.exec("INSERT INTO group_rows (name) VALUES (?)", name);
          if (fail) throw new Error(`${name} failed after writing`);
          return `${name} after ${sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM group_rows").one().n - 1}`;
        });
      const names = () =>
        sql
          .exec<{ name: string }>("SELECT name FROM group_rows ORDER BY name")
          .toArray()
          .map((r) => r.name);

      // No member throws: one try, as the outermost transaction, each member run once.
      expect(await Promise.all([write("a"), write("b")])).toEqual(["a after 0", "b after 1"]);
      expect(tries).toEqual(["outermost"]);
      expect([...runs.values()]).toEqual([1, 1]);
      expect(rolledBack).toBe(0);
      expect(names()).toEqual(["a", "b"]);

      // One throws after writing: the first try is undone whole, then each member runs in a savepoint of its own.
      tries.length = 0;
      runs.clear();
      const outcomes = await Promise.allSettled([write("c"), write("d", true), write("e")]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(outcomes[2]).toEqual({ status: "fulfilled", value: "e after 3" });
      expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain("d failed after writing");
      expect(tries).toEqual(["outermost", "savepoint", "savepoint", "savepoint", "savepoint"]);
      // The first try stops at the member that throws: the ones after it run once, the careful way.
      expect(Object.fromEntries(runs)).toEqual({ c: 2, d: 2, e: 1 });
      expect(rolledBack).toBe(1);
      expect(names()).toEqual(["a", "b", "c", "e"]);
      // What the group wrote is what the careful way returned: the rolled-back try wrote nothing.
      expect(groups).toEqual([
        ["a after 0", "b after 1"],
        ["c after 2", "e after 3"],
      ]);
    });
  });
});

describe("pushes accepted in one group", () => {
  const accepted: Array<{ pushes: number }> = [];
  beforeEach(() => {
    const original = console.log.bind(console);
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      const line = args.map(String).join(" ");
      if (line.includes('"event":"push.accepted"')) accepted.push(JSON.parse(line));
      original(...args);
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    accepted.length = 0;
  });

  it("a refused push in a group changes nothing; the others are acknowledged and published", async () => {
    const repo = "accept-group-pushes";
    const { client, registry } = await withHmacRegistry(repo);
    const taken = await add("group/taken-1.0.tgz");
    await registry.push([taken]);
    const before = await allPublishedTargets(repo);

    // Sent at once: they are checked while the object is busy and written in one group.
    const pushes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i === 3 ? null : add(`group/p${i}-1.0.tgz`))),
    );
    const clash = await add("group/taken-1.0.tgz", "other bytes");
    const mark = accepted.length;
    const outcomes = await Promise.all(
      pushes.map((event, i) =>
        registry
          .push(event ? [event] : [clash, { ...taken, path: "group/never-1.0.tgz" }], {
            async: true,
            id: `msg_group_${i}`,
          })
          .then(
            (response) => ({ ok: true as const, response }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
      ),
    );
    const refused = defined(outcomes[3]);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toMatchObject({ status: 409, problem: { code: "immutable_target" } });
    expect(refused.ok ? null : refused.error).toBeInstanceOf(AdminApiError);
    for (const [i, outcome] of outcomes.entries()) {
      if (i === 3) continue;
      expect(outcome).toMatchObject({ ok: true, response: { status: 202, duplicate: false } });
    }
    // They were written together: fewer accept groups than pushes accepted.
    const groups = accepted.slice(mark);
    expect(groups.reduce((n, a) => n + a.pushes, 0)).toBe(5);
    expect(groups.length).toBeLessThan(5);

    // Published: exactly the five accepted pushes' targets besides what was there; the refused push's
    // paths are as they were (the taken one keeps its digest, the other is not listed).
    await registry.push([await add("group/last-1.0.tgz")]);
    const after = await allPublishedTargets(repo);
    for (const [path, listed] of before.listings) expect(after.listings.get(path)).toEqual(listed);
    expect(after.listings.has("group/never-1.0.tgz")).toBe(false);
    for (const event of pushes) {
      if (!event) continue;
      expect(defined(after.listings.get(event.path))[0]?.target).toEqual({
        length: event.length,
        hashes: event.hashes,
      });
    }
    expect(after.listings.size).toBe(before.listings.size + 5 + 1);
    expect((await client.status()).targetsCount).toBe(1 + 5 + 1);
    for (const outcome of outcomes) {
      if (!outcome.ok) continue;
      expect((await registry.task(outcome.response.task.id)).state).toBe("published");
    }
  });
  it("answers a respond-async push from what its group knows, as a poll of its task at that moment says", async () => {
    const repo = "accept-group-answers";
    const { registry } = await withHmacRegistry(repo);
    const listed = await add("answers/a-1.0.tgz");
    const first = await registry.push([listed]);
    expect(first.task.state).toBe("published");

    // The same target again changes nothing: published at once (200), with the versions that carry it.
    const again = await registry.push([listed], { async: true, id: "msg_answers_again" });
    expect(again.status).toBe(200);
    expect(again.task).toMatchObject({ state: "published", versions: first.task.versions });
    expect(again.task).toEqual(await registry.task(again.task.id));

    // A new target is queued (no round carries it yet), with neither versions nor an error.
    const fresh = await registry.push([await add("answers/b-1.0.tgz")], { async: true, id: "msg_answers_fresh" });
    expect(fresh.status).toBe(202);
    expect(fresh.task).toMatchObject({ state: "queued", registry: again.task.registry, events: 1 });
    expect(fresh.task.versions).toBeUndefined();
    expect(fresh.task.lastError).toBeUndefined();
    // Its redelivery is answered with the same task, read back.
    const redelivered = await registry.push([await add("answers/b-1.0.tgz")], { async: true, id: "msg_answers_fresh" });
    expect(redelivered).toMatchObject({
      duplicate: true,
      task: { id: fresh.task.id, createdAt: fresh.task.createdAt },
    });
  });
  it("a delivery id that a push earlier in the same group used is its redelivery (same body) or a conflict (another body)", async () => {
    const repo = "accept-group-ids";
    const { registry } = await withHmacRegistry(repo);
    const a = await add("ids/a-1.0.tgz");
    const b = await add("ids/b-1.0.tgz");
    const c = await add("ids/c-1.0.tgz");
    const bodies = [[a], [a], [b], [a], [b], [c]];
    const ids = ["msg_ids", "msg_ids", "msg_ids", "msg_ids", "msg_ids", "msg_ids_other"];
    // Sent at once: checked while the object is busy, written in one group in the order their checks ended.
    const outcomes = await Promise.allSettled(
      bodies.map((events, i) => registry.push(events as never, { async: true, id: ids[i] })),
    );
    const answered = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [{ i, response: o.value }] : []));
    const fresh = answered.filter((o) => !o.response.duplicate);
    // One new task for each id; every other push with the winner's body is its redelivery.
    expect(fresh.map((o) => ids[o.i]).sort()).toEqual(["msg_ids", "msg_ids_other"]);
    const winner = defined(fresh.find((o) => ids[o.i] === "msg_ids"));
    const winnerPath = defined(bodies[winner.i]?.[0]).path;
    for (const [i, outcome] of outcomes.entries()) {
      if (ids[i] !== "msg_ids" || i === winner.i) continue;
      if (defined(bodies[i]?.[0]).path === winnerPath) {
        expect(outcome).toMatchObject({
          status: "fulfilled",
          value: { duplicate: true, task: { id: winner.response.task.id } },
        });
      } else {
        expect(outcome.status).toBe("rejected");
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({
          status: 409,
          problem: { code: "delivery_conflict", detail: expect.stringContaining(winner.response.task.id) },
        });
      }
    }
    // Published: the winner's and the other id's targets, not the conflicting body's.
    await registry.push([await add("ids/last-1.0.tgz")]);
    const listings = (await allPublishedTargets(repo)).listings;
    expect(listings.has(winnerPath)).toBe(true);
    expect(listings.has(winnerPath === a.path ? b.path : a.path)).toBe(false);
    expect(listings.has(c.path)).toBe(true);
    for (const o of fresh) expect((await registry.task(o.response.task.id)).state).toBe("published");
  });
});

/** A timer that fires only when told to (each set timer once, oldest first), and counts what was set. */
function heldTimer() {
  const pending: Array<() => void> = [];
  let set = 0;
  const timer: GroupTimer = (fire) => {
    set++;
    pending.push(fire);
  };
  return { timer, set: () => set, fire: () => pending.shift()?.(), fireLast: () => pending.pop()?.() };
}

/** A group in the object's own storage whose timer is held (heldTimer), with the groups it wrote. */
function heldGroup(state: DurableObjectState, now?: () => number) {
  const held = heldTimer();
  const groups: string[][] = [];
  const group = new AcceptGroup<string>({
    transaction: (fn) => state.storage.transactionSync(fn),
    written: (values) => groups.push(values),
    afterGroup: async () => undefined,
    timer: held.timer,
    now,
  });
  return { group, groups, held };
}

describe("one timer per group", () => {
  // workerd fires an object's timers one at a time, in order: a timer per push queued up ahead of a
  // round's next slice under a stream of pushes (accept-group.ts, turns.ts).
  it("the push that opens a group sets its timer, the pushes that join it set none, the next group sets its own", async () => {
    const repo = "accept-group-timer";
    await bootstrapped(repo);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const { group, groups, held } = heldGroup(state);
      const first = Promise.all(["a", "b", "c"].map((name) => group.accept(() => name)));
      expect(held.set()).toBe(1);
      held.fire();
      expect(await first).toEqual(["a", "b", "c"]);
      expect(groups).toEqual([["a", "b", "c"]]);

      const second = group.accept(() => "d");
      expect(held.set()).toBe(2);
      held.fire();
      expect(await second).toBe("d");
      expect(groups).toEqual([["a", "b", "c"], ["d"]]);
    });
  });

  it("writes at most GROUP_PUSHES pushes a group; the rest is the next group, with a timer of its own", async () => {
    const repo = "accept-group-capped";
    await bootstrapped(repo);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const { group, groups, held } = heldGroup(state);
      const names = Array.from({ length: GROUP_PUSHES + 4 }, (_, i) => `p${i}`);
      const first = Promise.all(names.slice(0, GROUP_PUSHES).map((name) => group.accept(() => name)));
      const rest = Promise.all(names.slice(GROUP_PUSHES).map((name) => group.accept(() => name)));
      expect(held.set()).toBe(1);
      held.fire();
      // The first group is answered after its own transaction; the rest wait for the next timer.
      expect(await first).toEqual(names.slice(0, GROUP_PUSHES));
      expect(groups).toEqual([names.slice(0, GROUP_PUSHES)]);
      expect(held.set()).toBe(2);
      // A push that arrives meanwhile joins the waiting group and sets no timer.
      const late = group.accept(() => "late");
      expect(held.set()).toBe(2);
      held.fire();
      expect(await rest).toEqual(names.slice(GROUP_PUSHES));
      expect(await late).toBe("late");
      expect(groups).toEqual([names.slice(0, GROUP_PUSHES), [...names.slice(GROUP_PUSHES), "late"]]);
      expect(held.set()).toBe(2);
    });
  });

  it("a timer not fired after STALE_TIMER_MS is not trusted: the next push sets another, and the group is written once", async () => {
    const repo = "accept-group-stale-timer";
    await bootstrapped(repo);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      let now = 1_000;
      const { group, groups, held } = heldGroup(state, () => now);
      const a = group.accept(() => "a");
      now += STALE_TIMER_MS - 1;
      const b = group.accept(() => "b");
      expect(held.set()).toBe(1);
      now += 1;
      const c = group.accept(() => "c");
      expect(held.set()).toBe(2);
      // The newer timer writes the group; the lost one, firing late, finds nothing to write.
      held.fireLast();
      expect(await Promise.all([a, b, c])).toEqual(["a", "b", "c"]);
      held.fire();
      expect(groups).toEqual([["a", "b", "c"]]);
    });
  });
});
