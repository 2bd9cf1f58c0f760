/**
 * Many registries' pushes at once: every acknowledged target is published
 * exactly once, in the version its response names; versions only move
 * forward; and group commit publishes far fewer versions than pushes.
 */
import { describe, expect, it } from "vitest";
import type { PushResponse } from "../../scripts/lib/registry-client.ts";
import type { TargetEvent } from "../../src/schemas/webhook.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { AdminApiError } from "../../scripts/lib/admin-client.ts";
import { allPublishedTargets, getJson, withHmacRegistry } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const PUSHERS = 200;
const BINS = 16;

describe("concurrent pushes", () => {
  it.each([
    { arrival: "all at once", waves: 1, repo: "wh-concurrent" },
    { arrival: "in 10 overlapping waves", waves: 10, repo: "wh-concurrent-waves" },
  ])(
    `${PUSHERS} concurrent pushers ($arrival): every acknowledged target published exactly once, versions forward, publishes coalesced`,
    async ({ arrival, waves, repo }) => {
      const { client, registry } = await withHmacRegistry(repo, { bins: BINS });
      const bins = new HashBins(HashBins.bitLengthFor(BINS));

      // Pusher i sends one push of 1-3 distinct targets.
      const batches: Array<Extract<TargetEvent, { type: "targets.add" }>[]> = await Promise.all(
        Array.from({ length: PUSHERS }, (_, i) =>
          Promise.all(
            Array.from({ length: 1 + (i % 3) }, async (_, j) => {
              const path = `pusher-${i}/artifact-${j}.tgz`;
              return {
                type: "targets.add" as const,
                path,
                length: 100 + i,
                hashes: { sha256: await sha256Hex(utf8(`${i}/${j}`)) },
              };
            }),
          ),
        ),
      );
      const total = batches.reduce((n, b) => n + b.length, 0);

      const completions: Array<{ pusher: number; response: PushResponse }> = [];
      const started = Date.now();
      // Wave k+1 starts when wave k's first push is acknowledged, so pushes keep arriving while rounds run.
      // (Timers do not spread arrivals in this test runtime: the test shares the object's isolate, and a
      // setTimeout-delayed send was observed to wait until the push before it had been answered.)
      const perWave = PUSHERS / waves;
      const inFlight: Array<Promise<void>> = [];
      const launch = (wave: number) => {
        let next = wave + 1 < waves;
        for (let pusher = wave * perWave; pusher < (wave + 1) * perWave; pusher++) {
          inFlight.push(
            registry.push(defined(batches[pusher]), { id: `msg_concurrent_${pusher}` }).then((response) => {
              completions.push({ pusher, response });
              if (next) {
                next = false;
                launch(wave + 1);
              }
            }),
          );
        }
      };
      launch(0);
      while (completions.length < PUSHERS) await Promise.all(inFlight);
      const elapsed = Date.now() - started;

      expect(completions).toHaveLength(PUSHERS);
      for (const { response } of completions) {
        expect(response).toMatchObject({ status: 200, duplicate: false, task: { state: "published" } });
      }
      expect(new Set(completions.map((c) => c.response.task.id)).size).toBe(PUSHERS);

      const status = await client.status();
      expect(status.targetsCount).toBe(total);
      expect(status.pendingChanges).toBe(false);
      const finalTimestamp = defined(status.roles.timestamp).version;

      // Versions only move forward in the order the responses came back; each names a publish not after the final one.
      const versions = completions.map((c) => defined(c.response.task.versions));
      for (let k = 1; k < versions.length; k++) {
        expect(defined(versions[k]).timestamp).toBeGreaterThanOrEqual(defined(versions[k - 1]).timestamp);
        expect(defined(versions[k]).snapshot).toBeGreaterThanOrEqual(defined(versions[k - 1]).snapshot);
      }
      for (const v of versions) expect(v.timestamp).toBeLessThanOrEqual(finalTimestamp);
      expect(Math.max(...versions.map((v) => v.timestamp))).toBe(finalTimestamp);
      // One timestamp version ↔ one snapshot version; distinct publishes are strictly increasing in both.
      const publishes = [...new Map(versions.map((v) => [v.timestamp, v.snapshot])).entries()].sort(
        (a, b) => a[0] - b[0],
      );
      for (let k = 1; k < publishes.length; k++) {
        expect(defined(publishes[k])[0]).toBeGreaterThan(defined(publishes[k - 1])[0]);
        expect(defined(publishes[k])[1]).toBeGreaterThan(defined(publishes[k - 1])[1]);
      }
      for (const v of versions) expect(v.snapshot).toBe(new Map(publishes).get(v.timestamp));

      // The final metadata, read through the snapshot: every acknowledged target exactly once, in its bin.
      const final = await allPublishedTargets(repo);
      expect(final.timestamp).toBe(finalTimestamp);
      expect(final.listings.size).toBe(total);
      for (const events of batches) {
        for (const event of events) {
          const listed = final.listings.get(event.path);
          expect(listed, event.path).toHaveLength(1);
          expect(defined(listed)[0]).toEqual({
            bin: await bins.binFor(event.path),
            target: { length: event.length, hashes: event.hashes },
          });
        }
      }

      // Each response's own snapshot version already lists its targets (acknowledged ⇒ published in the named version).
      const snapshots = new Map<number, Record<string, { version: number }>>();
      const binFiles = new Map<string, Record<string, unknown>>();
      for (const { pusher, response } of completions) {
        const snapshotVersion = defined(response.task.versions).snapshot;
        if (!snapshots.has(snapshotVersion)) {
          snapshots.set(
            snapshotVersion,
            (await getJson(`/${repo}/metadata/${snapshotVersion}.snapshot.json`)).json.signed.meta,
          );
        }
        for (const event of defined(batches[pusher])) {
          const bin = await bins.binFor(event.path);
          const binVersion = defined(defined(snapshots.get(snapshotVersion))[`${bin}.json`]).version;
          const key = `${binVersion}.${bin}`;
          if (!binFiles.has(key))
            binFiles.set(key, (await getJson(`/${repo}/metadata/${key}.json`)).json.signed.targets);
          expect(defined(binFiles.get(key))[event.path], `${event.path} in snapshot ${snapshotVersion}`).toBeDefined();
        }
      }

      console.log(
        `webhooks concurrency: ${PUSHERS} concurrent pushes of ${total} targets (${BINS} bins, ${arrival}) in ${elapsed} ms → ` +
          `final timestamp version ${finalTimestamp} (${finalTimestamp - 1} publishes after bootstrap; ${publishes.length} distinct versions in responses)`,
      );
      // Group commit: far fewer publishes than pushes.
      expect(finalTimestamp).toBeLessThan(PUSHERS / 4);
    },
    60_000,
  );

  it("racing pushes of one path with different digests: exactly one wins, the rest are refused", async () => {
    const repo = "wh-concurrent-clash";
    const { client, registry } = await withHmacRegistry(repo);
    const path = "contested/release-1.0.tgz";
    const contenders = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => ({ sha256: await sha256Hex(utf8(`candidate ${i}`)) })),
    );
    const outcomes = await Promise.all(
      contenders.map((hashes) =>
        registry.push([{ type: "targets.add", path, length: 10, hashes }]).then(
          (response) => ({ ok: true as const, hashes, response }),
          (error: unknown) => ({ ok: false as const, hashes, error }),
        ),
      ),
    );
    const winners = outcomes.filter((o) => o.ok);
    expect(winners).toHaveLength(1);
    for (const loser of outcomes.filter((o) => !o.ok)) {
      expect(loser.error).toBeInstanceOf(AdminApiError);
      expect(loser.error).toMatchObject({ status: 409, problem: { code: "immutable_target" } });
    }
    const final = await allPublishedTargets(repo);
    expect(final.listings.get(path)).toEqual([
      { bin: expect.any(String), target: { length: 10, hashes: defined(winners[0]).hashes } },
    ]);
    expect((await client.status()).targetsCount).toBe(1);
  });
});
