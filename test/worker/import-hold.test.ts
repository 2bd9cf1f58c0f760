/**
 * An import's batches are stored as they arrive and published together
 * (durable-objects/import-hold.ts): a batch sent with `"publish": "deferred"`
 * (and respond-async) starts no round; the import's end (POST /admin/publish),
 * a pause of IMPORT_IDLE_MS in its batches, or any change that is not
 * deferred (a role coming due for re-signing among them) starts the one
 * round that publishes them all, so each bin is re-signed once per import.
 * What is published is what one batch of all the targets publishes, and the
 * log's full tiles stored ahead of the checkpoint are the tiles it proves with.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IMPORT_IDLE_MS } from "../../durable-objects/import-hold.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { decodeEntryBundle } from "../../src/log/tiles.ts";
import type { TargetEntry } from "../../src/repository-api.ts";
import { drain, withAlarms } from "./alarms.ts";
import { adminClient, allPublishedTargets, BASE, bootstrapped, getJson, workerFetch } from "./helpers.ts";
import { publishedMaps, publishedVersions, stored, target } from "./stored-state.ts";

const targets = (prefix: string, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => target(`${prefix}/${i}.tgz`, i % 5 ? undefined : { i })));

/** A target as a bin lists it (under its path). */
const listed = ({ path: _, ...entry }: TargetEntry) => entry;

/** Each of `all` is listed once, as added, by the metadata the served timestamp leads to. */
async function expectPublished(repo: string, all: TargetEntry[]) {
  const { listings } = await allPublishedTargets(repo);
  for (const t of all)
    expect(
      listings.get(t.path)?.map((l) => l.target),
      t.path,
    ).toEqual([listed(t)]);
}

/** Sends `batch` as one deferred batch of an import; checks the answer names the hold's deadline. */
async function sendDeferred(repo: string, batch: TargetEntry[]) {
  const answer = await adminClient(repo).changeTargets({ add: batch, publish: "deferred" }, { wait: false });
  expect(answer.pending).toBe(true);
  expect(answer.publishBy).toBe(new Date(Date.now() + IMPORT_IDLE_MS).toISOString());
  return answer;
}

/** The time the object's alarm is set for. */
const alarmOf = (repo: string) =>
  runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => state.storage.getAlarm());

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.parse("2031-06-01T00:00:00Z"));
});

afterEach(() => {
  vi.useRealTimers();
});

describe("an import's deferred batches", () => {
  it("publish nothing until the import ends, then in one round that re-signs each bin once: the bytes one batch publishes; the log's full tiles are stored ahead", {
    timeout: 180_000,
  }, async () => {
    const [deferred, whole] = ["import-deferred", "import-whole"];
    await withAlarms(deferred, bootstrapped(deferred, { bins: 16 }));
    await withAlarms(whole, bootstrapped(whole, { bins: 16 }));
    const all = await targets("import", 600);
    const before = await publishedVersions(deferred);
    const stub = env.REPOSITORY.getByName(deferred);

    for (let b = 0; b < 3; b++) {
      const answer = await sendDeferred(deferred, all.slice(b * 200, b * 200 + 200));
      expect(await alarmOf(deferred)).toBe(Date.parse(answer.publishBy ?? ""));
      // An early wake (the cron, an alarm for something else) inside the hold starts no round.
      vi.setSystemTime(Date.now() + 10_000);
      await runDurableObjectAlarm(stub);
      expect((await publishedVersions(deferred)).timestamp).toBe(before.timestamp);
      expect((await stub.status()).pendingChanges).toBe(true);
    }
    // More than 256 log entries are stored: the first full tile and its entry bundle are in R2 before any checkpoint covers them.
    const tileAhead = await workerFetch(`${BASE}/${deferred}/log/tile/0/000`);
    expect(tileAhead.status).toBe(200);
    const bundleAhead = new Uint8Array(
      await (await workerFetch(`${BASE}/${deferred}/log/tile/entries/000`)).arrayBuffer(),
    );

    const ended = await adminClient(deferred).publishNow();
    expect(ended.pending).toBe(true);
    await drain(deferred, 1000);
    await adminClient(whole).changeTargets({ add: all });

    const after = await publishedVersions(deferred);
    expect(after.timestamp).toBe(before.timestamp + 1);
    const bins = [...after.roles.keys()].filter((file) => file.startsWith("bins-"));
    expect(bins).toHaveLength(16);
    for (const file of bins) expect(after.roles.get(file), file).toBe((before.roles.get(file) ?? 0) + 1);

    const [a, b] = [await stored(deferred), await stored(whole)];
    expect(a.targets).toBe(b.targets);
    expect(a.digests).toBe(b.digests);
    expect(a.entries).toEqual(b.entries);
    expect(a.count).toBe(600);
    const [mapsA, mapsB] = [await publishedMaps(deferred), await publishedMaps(whole)];
    for (const [file, map] of mapsB) expect(mapsA.get(file), file).toBe(map);

    // The tiles stored ahead are the ones the published checkpoint proves with: the Worker's proofs
    // (computed from tiles) are the object's (computed from its own nodes), up to the timestamp's root.
    const { json: timestamp } = await getJson(`/${deferred}/metadata/timestamp.json`);
    const { size, root_hash: rootHash } = timestamp.signed["x-tuf-edge-log"];
    expect(size).toBeGreaterThan(600);
    for (const index of [0, 255, 256, 511, size - 1]) {
      const { json: proof } = await getJson(`/${deferred}/log/proof/inclusion?index=${index}`);
      const expected = await stub.logInclusion({ index, size });
      expect(expected.ok && proof).toEqual(expected.ok && expected.proof);
      expect(proof.rootHash).toBe(rootHash);
    }
    const bundle = decodeEntryBundle(bundleAhead);
    expect(bundle).toHaveLength(256);
    const first = await stub.logInclusion({ index: 255, size });
    expect(first.ok && new TextDecoder().decode(bundle[255])).toBe(first.ok && first.proof.entry);
  });

  it("stored by an import that never ends are published by the alarm once the hold runs out", {
    timeout: 120_000,
  }, async () => {
    const repo = "import-abandoned";
    await withAlarms(repo, bootstrapped(repo, { bins: 16 }));
    const before = await publishedVersions(repo);
    const all = await targets("abandoned", 90);
    await sendDeferred(repo, all.slice(0, 45));
    vi.setSystemTime(Date.now() + 20_000);
    const last = await sendDeferred(repo, all.slice(45));
    // The hold counts from the latest batch, and status says until when.
    expect(await alarmOf(repo)).toBe(Date.parse(last.publishBy ?? ""));
    expect((await env.REPOSITORY.getByName(repo).status()).importHoldUntil).toBe(last.publishBy);
    vi.setSystemTime(Date.parse(last.publishBy ?? "") + 1);
    await runDurableObjectAlarm(env.REPOSITORY.getByName(repo));
    await drain(repo, 1000);
    expect((await env.REPOSITORY.getByName(repo).status()).importHoldUntil).toBeNull();

    expect((await publishedVersions(repo)).timestamp).toBe(before.timestamp + 1);
    await expectPublished(repo, all);
  });

  it("are published by the round of a change that is not deferred", { timeout: 120_000 }, async () => {
    const repo = "import-overtaken";
    await withAlarms(repo, bootstrapped(repo, { bins: 16 }));
    const all = await targets("overtaken", 40);
    await sendDeferred(repo, all.slice(0, 39));
    const other = all[39];
    if (!other) throw new Error("no target");
    const answer = await withAlarms(repo, adminClient(repo).changeTargets({ add: [other] }));
    expect(answer.pending).toBe(false);
    expect((await env.REPOSITORY.getByName(repo).status()).pendingChanges).toBe(false);
    await expectPublished(repo, all);
  });

  it("do not hold back a role that comes due for re-signing: its round publishes them too", {
    timeout: 120_000,
  }, async () => {
    const repo = "import-due";
    await withAlarms(repo, bootstrapped(repo, { bins: 16 }));
    const stub = env.REPOSITORY.getByName(repo);
    const due = Date.parse((await stub.status()).roles.timestamp?.nextResign ?? "");
    expect(Number.isFinite(due)).toBe(true);
    const before = await publishedVersions(repo);
    // A batch just before the timestamp's re-signing is due; the alarm fires for that while the hold still runs.
    vi.setSystemTime(due - 10_000);
    const all = await targets("due", 30);
    const answer = await sendDeferred(repo, all);
    vi.setSystemTime(due + 1_000);
    expect(Date.now()).toBeLessThan(Date.parse(answer.publishBy ?? ""));
    await runDurableObjectAlarm(stub);
    await drain(repo, 1000);
    expect(Date.now()).toBeLessThan(Date.parse(answer.publishBy ?? ""));
    expect((await publishedVersions(repo)).timestamp).toBe(before.timestamp + 1);
    await expectPublished(repo, all);
  });

  it("are refused without respond-async, or with another publish mode, and nothing is stored", async () => {
    const repo = "import-refused";
    await withAlarms(repo, bootstrapped(repo, { bins: 16 }));
    const headers = { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" };
    const add = await targets("refused", 2);
    for (const [body, prefer] of [
      [{ add, publish: "deferred" }, undefined],
      [{ add, publish: "later" }, "respond-async"],
    ] as const) {
      const response = await workerFetch(`${BASE}/${repo}/admin/targets`, {
        method: "POST",
        headers: prefer ? { ...headers, Prefer: prefer } : headers,
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.headers.get("Content-Type")).toContain("application/problem+json");
      expect(await response.json()).toMatchObject({ code: "invalid_request" });
    }
    const status = await env.REPOSITORY.getByName(repo).status();
    expect(status.targetsCount).toBe(0);
    expect(status.pendingChanges).toBe(false);
  });
});
