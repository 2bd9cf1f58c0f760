/**
 * GET /{repo}/admin/events: the audit log, newest first. `limit` and `kind`
 * are validated (a 400 problem names the field), and `kind` is filtered by
 * the repository, so `limit` counts the events of that kind.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AuditLog } from "../../durable-objects/audit-log.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { BASE, bootstrapped, recording, type Statement, workerFetch } from "./helpers.ts";

const admin = (path: string, init: RequestInit = {}) =>
  workerFetch(BASE + path, {
    ...init,
    headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json", ...init.headers },
  });

interface Events {
  events: Array<{ kind: string; detail: string }>;
}

describe("GET /{repo}/admin/events", () => {
  it("refuses a limit or kind it cannot honour with a 400 problem naming the field", async () => {
    const repo = "admin-events-invalid";
    await bootstrapped(repo);
    for (const [query, field] of [
      ["limit=abc", "limit"],
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["limit=2.5", "limit"],
      ["limit=", "limit"],
      ["kind=Publish%20Failed", "kind"],
      [`kind=${"a".repeat(65)}`, "kind"],
    ] as const) {
      const response = await admin(`/${repo}/admin/events?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers.get("Content-Type"), query).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as { code: string; errors: Array<{ path: string; message: string }> };
      expect(problem.code, query).toBe("invalid_request");
      expect(
        problem.errors.map((e) => e.path),
        query,
      ).toEqual([field]);
    }
  });

  it("returns the newest events of a kind, however many newer events of other kinds there are", async () => {
    const repo = "admin-events-kind";
    await bootstrapped(repo);
    for (let i = 0; i < 3; i++) {
      const set = await admin(`/${repo}/admin/log/witnesses`, {
        method: "PUT",
        body: JSON.stringify({ witnesses: [] }),
      });
      expect(set.status).toBe(200);
    }
    const newest = (await (await admin(`/${repo}/admin/events?limit=1`)).json()) as Events;
    expect(newest.events.map((e) => e.kind)).toEqual(["log-witnesses-set"]);

    const bootstrap = (await (await admin(`/${repo}/admin/events?limit=1&kind=bootstrapped`)).json()) as Events;
    expect(bootstrap.events.map((e) => e.kind)).toEqual(["bootstrapped"]);

    const witnesses = (await (await admin(`/${repo}/admin/events?kind=log-witnesses-set`)).json()) as Events;
    expect(witnesses.events).toHaveLength(3);

    const none = (await (await admin(`/${repo}/admin/events?kind=no-such-kind`)).json()) as Events;
    expect(none.events).toEqual([]);

    const all = (await (await admin(`/${repo}/admin/events`)).json()) as Events;
    expect(all.events.length).toBeGreaterThan(3);
  });

  it("finds the events of one kind through their index, newest first, without reading the others", async () => {
    const repo = "admin-events-plan";
    await bootstrapped(repo);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const queries: Statement[] = [];
      const events = new AuditLog(recording(state.storage.sql, queries)).recent(5, "bootstrapped");
      expect(events.map((e) => e.kind)).toEqual(["bootstrapped"]);
      const [{ query, bindings }] = queries as [(typeof queries)[number]];
      const plan = state.storage.sql
        .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...bindings)
        .toArray()
        .map((row) => row.detail);
      // A search of the kind's own entries, already in id order: no scan of every event, no sort.
      expect(plan.join("\n")).toMatch(/^SEARCH events USING (COVERING )?INDEX events_by_kind \(kind=\?\)$/);
    });
  });
});
