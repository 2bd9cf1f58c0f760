/**
 * Bulk writes store what single writes store: a batch of additions is
 * written in a few statements for many targets (targets-index.ts
 * upsertMany, target-events.ts), log entries are appended many to a
 * statement (transparency-log.ts appendMany), and a group's bins are read in
 * one query (binEntriesOf). The same changes applied one event per request
 * must leave the same rows and the same target log entries in the same
 * order, and publish bins whose signed `targets` maps are the same bytes
 * (the versions and the publications' own log entries differ: one event per
 * request publishes more rounds).
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TargetsChange } from "../../src/repository-api.ts";
import { drain, withAlarms } from "./alarms.ts";
import { adminClient, bootstrapped } from "./helpers.ts";
import { publishedMaps, stored, target } from "./stored-state.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("bulk writes", () => {
  it("a batch of additions stores and publishes what the same additions one at a time do", {
    timeout: 120_000,
  }, async () => {
    const [batched, single] = ["bulk-batched", "bulk-single"];
    await bootstrapped(batched, { bins: 16 });
    await bootstrapped(single, { bins: 16 });
    // More than one statement's worth (14 rows, 24 digests, 32 log entries); paths that a plain
    // object would mangle; custom fields; a removal beside additions; a target re-added as it is
    // (nothing to write) and one re-added with another custom field, among new ones.
    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => target(`first/${i}.tgz`)));
    const changes: TargetsChange[] = [
      { add: first },
      {
        add: [
          ...(await Promise.all(Array.from({ length: 30 }, (_, i) => target(`second/${i}.tgz`, { n: i })))),
          await target("__proto__"),
          await target("constructor", { yanked: false }),
        ],
        remove: ["first/7.tgz"],
      },
      {
        add: [
          await target("first/3.tgz"),
          await target("first/5.tgz", { changed: true }),
          ...(await Promise.all(Array.from({ length: 20 }, (_, i) => target(`third/${i}.tgz`)))),
        ],
      },
    ];
    for (const change of changes) await adminClient(batched).changeTargets(change);
    // One event per request: removals first, as the change applies them.
    for (const change of changes) {
      for (const path of change.remove ?? []) await adminClient(single).changeTargets({ remove: [path] });
      for (const t of change.add ?? []) await adminClient(single).changeTargets({ add: [t] });
    }

    const [a, b] = [await stored(batched), await stored(single)];
    expect(a.targets).toBe(b.targets);
    expect(a.digests).toBe(b.digests);
    expect(a.entries).toEqual(b.entries);
    expect(a.entries.length).toBe(40 + 1 + 30 + 2 + 1 + 20);
    expect(a.count).toBe(a.counted);
    expect(a.count).toBe(40 - 1 + 30 + 2 + 20);

    const [mapsA, mapsB] = [await publishedMaps(batched), await publishedMaps(single)];
    expect([...mapsA.keys()].sort()).toEqual([...mapsB.keys()].sort());
    for (const [file, map] of mapsA) expect(map, file).toBe(mapsB.get(file));
    expect([...mapsA.values()].some((m) => m.includes('"__proto__":'))).toBe(true);
    expect([...mapsA.values()].filter((m) => m !== "{}")).toHaveLength(16);
  });

  it("an import in batches, whose rounds stop and resume across invocations, publishes what one batch does", {
    timeout: 180_000,
  }, async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse("2031-06-01T00:00:00Z"));
    const [resumed, whole] = ["bulk-resumed", "bulk-whole"];
    // Two roles per invocation, rounded up to a slice of bins (one pack, src/storage/bin-pack.ts): every
    // round the batches start stops and resumes many times.
    await withAlarms(resumed, bootstrapped(resumed, { bins: 1024, binsPerInvocation: 2 }));
    await withAlarms(whole, bootstrapped(whole, { bins: 1024 }));
    const all = await Promise.all(
      Array.from({ length: 90 }, (_, i) => target(`import/${i}.tgz`, i % 3 ? undefined : { i })),
    );
    // The batches arrive as the CLI sends them (respond-async), each while the previous one's round is under way.
    for (let b = 0; b < 3; b++) {
      await adminClient(resumed).changeTargets({ add: all.slice(b * 30, b * 30 + 30) }, { wait: false });
      vi.setSystemTime(Date.now() + 60_000);
      await runDurableObjectAlarm(env.REPOSITORY.getByName(resumed));
    }
    expect(await drain(resumed, 60_000, 400)).toBeGreaterThan(3);
    await adminClient(whole).changeTargets({ add: all });

    const [a, b] = [await stored(resumed), await stored(whole)];
    expect(a.targets).toBe(b.targets);
    expect(a.digests).toBe(b.digests);
    expect(a.entries).toEqual(b.entries);
    expect(a.count).toBe(90);
    const [mapsA, mapsB] = [await publishedMaps(resumed), await publishedMaps(whole)];
    for (const [file, map] of mapsB) expect(mapsA.get(file), file).toBe(map);
    expect([...mapsB.values()].filter((m) => m !== "{}").length).toBeGreaterThan(60);
  });
});
