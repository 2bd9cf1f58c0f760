/**
 * A turn of large bins is read, reserved and assembled a part at a time
 * (durable-objects/role-staging.ts, TURN_ENTRIES and binsPerTurn): the
 * synchronous block a round holds the object for is bounded by the entries
 * it assembles, not by the number of bins, and the bins' pack is still
 * written whole, once.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PackVersions } from "../../durable-objects/pack-versions.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { binsPerTurn, RoleStaging, TURN_ENTRIES } from "../../durable-objects/role-staging.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { hashBins, loadSettings } from "../../durable-objects/settings.ts";
import { TargetsIndex } from "../../durable-objects/targets-index.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { bootstrapped, targetEntry } from "./helpers.ts";

describe("binsPerTurn", () => {
  it("takes 128 bins up to a million targets in 16,384 bins, fewer as bins grow, and at least one", () => {
    expect(binsPerTurn(0)).toBe(128);
    expect(binsPerTurn(1_000_000 / 16_384)).toBe(128);
    expect(binsPerTurn(10_000_000 / 16_384)).toBe(13);
    expect(binsPerTurn(TURN_ENTRIES)).toBe(1);
    expect(binsPerTurn(10 * TURN_ENTRIES)).toBe(1);
  });
});

describe("staging large bins", () => {
  it("assembles a pack of two large bins in two blocks, a turn of the object between them, and stores the pack once", async () => {
    const repo = "staging-blocks";
    const { client } = await bootstrapped(repo, { bins: 2 });
    // More than TURN_ENTRIES targets in two bins: a bin per block.
    const count = TURN_ENTRIES + 200;
    const add = await Promise.all(Array.from({ length: count }, (_, i) => targetEntry(`big/${i}.tgz`)));
    await client.changeTargets({ add });

    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const { sql } = state.storage;
      const settings = defined(loadSettings(sql));
      const bins = hashBins(settings);
      const names = [bins.name(0), bins.name(1)];
      const roles = new RoleTable(sql);
      const packs = new PackVersions(sql, roles);
      const targets = new TargetsIndex(sql);
      const bucket = new RepositoryBucket(env.BUCKET, repo);
      const { signer } = await Ed25519Signer.generate();
      const reserved = () =>
        sql
          .exec<{ name: string }>("SELECT name FROM reserved_versions WHERE name IN (?, ?) ORDER BY name", ...names)
          .toArray()
          .map((r) => r.name);
      // What was reserved each time staging waited for the object's next turn.
      const atTurns: string[][] = [];
      const puts: string[] = [];
      const staging = new RoleStaging({
        roles,
        packs,
        bucket: new Proxy(bucket, {
          get(target, key) {
            const value = Reflect.get(target, key, target);
            if (typeof value !== "function") return value;
            return (...args: unknown[]) => {
              if (typeof key === "string" && key.startsWith("put")) puts.push(key);
              return value.apply(target, args);
            };
          },
        }),
        targets,
        settings: () => settings,
        signer: async () => signer,
        turns: {
          next: async () => {
            atTurns.push(reserved());
          },
        },
        roundTime: () => new Date(),
        logTarget: async () => ({}),
      });

      // A bin outside the step's packs is refused before anything is reserved or stored.
      await expect(staging.stage(names, [[defined(names[0])]])).rejects.toThrow(/not in exactly one/);
      expect(reserved()).toEqual([]);
      await staging.stage(names, [names]);

      expect(atTurns).toEqual([[], [names[0]]]);
      expect(puts).toEqual(["putStepPack"]);
      const staged = sql
        .exec<{ v: number | null }>(
          "SELECT staged_version AS v FROM reserved_versions WHERE name IN (?, ?) ORDER BY name",
          ...names,
        )
        .toArray()
        .map((r) => r.v);
      const version = defined(staged[0] ?? undefined);
      expect(staged).toEqual([version, version]);
      let listed = 0;
      for (const name of names) {
        const file = defined(await bucket.getMetadata(`${version}.${name}.json`));
        const bin = JSON.parse(await file.text()) as { signed: { version: number; targets: Record<string, unknown> } };
        expect(bin.signed.version).toBe(version);
        listed += Object.keys(bin.signed.targets).length;
      }
      expect(listed).toBe(count);
    });
  });
});
