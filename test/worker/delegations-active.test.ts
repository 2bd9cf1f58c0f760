/**
 * Delegations.active(), whether `targets` delegates through named roles, is
 * asked by every push (assigner) and kept in memory until forget(), like the
 * tree. Kept, it must still follow every change: a delegation added (and
 * one refused), the catch-all activated (protect), and an activation rolled
 * back.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Delegations } from "../../durable-objects/delegations.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { bootstrapped, recording, type Statement } from "./helpers.ts";

const ACTIVE_READ = /FROM roles WHERE name = \?/;
const ONLINE = { parent: "targets", signing: "online", terminating: false } as const;

function inObject<T>(repo: string, fn: (d: Delegations, reads: () => number, storage: DurableObjectStorage) => T) {
  return runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
    const statements: Statement[] = [];
    const delegations = new Delegations({
      sql: recording(state.storage.sql, statements),
      transaction: (f) => state.storage.transactionSync(f),
      topBins: () => new HashBins(HashBins.bitLengthFor(16)),
    });
    const reads = () => statements.filter((s) => ACTIVE_READ.test(s.query)).length;
    return fn(delegations, reads, state.storage);
  });
}

describe("Delegations.active() kept in memory", () => {
  it("reads the roles table once, then again only after forget()", async () => {
    const repo = "dlg-active-once";
    await bootstrapped(repo);
    await inObject(repo, (d, reads) => {
      expect(d.active()).toBe(false);
      const assign = d.assigner();
      assign("a/b.tgz");
      d.assigner()("c/d.tgz");
      expect(d.active()).toBe(false);
      expect(reads()).toBe(1);
      d.forget();
      expect(d.active()).toBe(false);
      expect(reads()).toBe(2);
    });
  });

  it("follows activate(), and a rolled-back activate() once forgotten, as every caller that rolls back does", async () => {
    const repo = "dlg-active-protect";
    await bootstrapped(repo);
    await inObject(repo, (d, _reads, storage) => {
      expect(d.active()).toBe(false);
      expect(() =>
        storage.transactionSync(() => {
          d.activate(1);
          expect(d.active()).toBe(true); // seen at once inside the transaction
          throw new Error("roll back");
        }),
      ).toThrow("roll back");
      d.forget();
      expect(d.active()).toBe(false);
      storage.transactionSync(() => d.activate(2));
      expect(d.active()).toBe(true);
    });
  });

  it("follows a delegation added; a refused one leaves it as it was", async () => {
    const repo = "dlg-active-add";
    await bootstrapped(repo);
    await inObject(repo, (d) => {
      expect(d.active()).toBe(false);
      const refused = d.add({ ...ONLINE, name: "orphan", parent: "nope", paths: ["x/*"] }, 1, Date.now());
      expect(refused).toMatchObject({ ok: false });
      expect(d.active()).toBe(false);
      expect(d.add({ ...ONLINE, name: "acme", paths: ["@acme/*"] }, 2, Date.now())).toMatchObject({
        touched: expect.arrayContaining(["acme"]),
      });
      expect(d.active()).toBe(true);
      expect(d.assign("@acme/x.tgz").bin).toBe("acme");
      expect(d.assign("other/x.tgz").bin).toMatch(/^bins-[0-9a-f]$/);
    });
  });
});
