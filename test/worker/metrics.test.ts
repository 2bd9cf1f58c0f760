/**
 * The admin metrics endpoint (Prometheus text) and the structured logs: what
 * they say after real publishes, pushes and refusals; and that no secret ever
 * appears in a log line.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { R2Meter } from "../../durable-objects/invocation-budget.ts";
import { ROUND_PHASES } from "../../durable-objects/round-phases.ts";
import { onlineKeyContext } from "../../durable-objects/seal-contexts.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { logLine } from "../../src/structured-log.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { toBase64, toHex, utf8 } from "../../src/lib/bytes.ts";
import { BASE, getJson, recentRuns, registryClient, withHmacRegistry, workerFetch } from "./helpers.ts";

const lines: string[] = [];
const spies: Array<{ mockRestore(): void }> = [];

beforeAll(() => {
  for (const method of ["log", "warn", "error", "info"] as const) {
    const original = console[method].bind(console);
    spies.push(
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
        original(...args);
      }),
    );
  }
});
afterAll(() => {
  for (const spy of spies) spy.mockRestore();
});

const scrape = async (path: string) => {
  const response = await workerFetch(BASE + path, { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } });
  return { response, text: await response.text() };
};

/** The value of the sample `name{labels}` in an exposition (labels in the order they are rendered). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const rendered = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${rendered}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("metrics and structured logs", () => {
  const repo = "met-a";
  let secret = "";

  it("counts publish rounds, pushes by result, and reports expiries, queue, log and quarantine", async () => {
    const boot = await withHmacRegistry(repo, { bins: 4 });
    secret = boot.secret;
    const sha256 = await sha256Hex(utf8("one"));
    await boot.registry.push([{ type: "targets.add", path: "a.txt", length: 3, hashes: { sha256 } }]);
    // Refused: another digest for a published path; and a forged signature.
    await boot.registry
      .push([{ type: "targets.add", path: "a.txt", length: 3, hashes: { sha256: "0".repeat(64) } }])
      .catch(() => undefined);
    await registryClient(repo, {
      kind: "hmac",
      secret: `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`,
    })
      .push([{ type: "targets.add", path: "b.txt", length: 3, hashes: { sha256 } }])
      .catch(() => undefined);
    await boot.client.quarantine({ path: "a.txt", reason: "suspicious" });

    const unauthenticated = await workerFetch(`${BASE}/metrics`);
    expect(unauthenticated.status).toBe(401);

    const { response, text } = await scrape("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(text).toContain("# TYPE tuf_edge_publish_rounds_total counter");
    const r = { repository: repo };
    // Bootstrap, the push, and the quarantine: three rounds, none failed.
    expect(sample(text, "tuf_edge_publish_rounds_total", { ...r, outcome: "published" })).toBe(3);
    expect(sample(text, "tuf_edge_publish_rounds_total", { ...r, outcome: "failed" })).toBe(0);
    expect(sample(text, "tuf_edge_publish_round_duration_seconds_count", r)).toBe(3);
    expect(sample(text, "tuf_edge_pushes_total", { ...r, result: "accepted", reason: "" })).toBe(1);
    expect(sample(text, "tuf_edge_pushes_total", { ...r, result: "refused", reason: "immutable_target" })).toBe(1);
    expect(sample(text, "tuf_edge_pushes_total", { ...r, result: "refused", reason: "invalid_signature" })).toBe(1);
    expect(sample(text, "tuf_edge_targets_published", r)).toBe(0);
    expect(sample(text, "tuf_edge_quarantined_targets", r)).toBe(1);
    const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
    const timestampLeft = sample(text, "tuf_edge_role_expiry_seconds", { ...r, role: "timestamp" });
    const expected = (Date.parse(ts.signed.expires) - Date.now()) / 1000;
    expect(Math.abs((timestampLeft ?? 0) - expected)).toBeLessThan(120);
    expect(sample(text, "tuf_edge_role_expiry_seconds", { ...r, role: "root" })).toBeGreaterThan(300 * 86400);
    expect(sample(text, "tuf_edge_queue_depth", { ...r, kind: "tasks" })).toBe(0);
    expect(sample(text, "tuf_edge_queue_depth", { ...r, kind: "roles" })).toBe(0);
    // The log holds at least what the published timestamp commits to.
    expect(sample(text, "tuf_edge_log_entries", r)).toBeGreaterThanOrEqual(ts.signed["x-tuf-edge-log"].size);
    // A small log is kept whole (log-history.ts prunes only past RETAINED_ENTRIES).
    expect(sample(text, "tuf_edge_log_entries_kept", r)).toBe(sample(text, "tuf_edge_log_entries", r));
    // The largest publish run so far (the bootstrap: targets, snapshot, timestamp; its 4 bins' shared
    // version 1 was stored before the run) and what it spent.
    expect(sample(text, "tuf_edge_publish_invocation_largest", { ...r, what: "roles" })).toBe(1);
    expect(sample(text, "tuf_edge_publish_invocation_largest", { ...r, what: "rounds" })).toBe(1);
    expect(sample(text, "tuf_edge_publish_invocation_largest", { ...r, what: "log_writes" })).toBe(0);
    expect(sample(text, "tuf_edge_publish_invocation_largest", { ...r, what: "r2_operations" })).toBeGreaterThanOrEqual(
      1 + 2,
    );
    // The database holds at least its schema's pages; the platform's limit per object is 10 GB.
    const stored = sample(text, "tuf_edge_storage_bytes", r) ?? 0;
    expect(stored).toBeGreaterThan(4096);
    expect(stored).toBeLessThan(10e9);
    expect(sample(text, "tuf_edge_kek_reseal_remaining", r)).toBe(0);
    expect(sample(text, "tuf_edge_kek_unusable", r)).toBe(0);
    expect(sample(text, "tuf_edge_repositories", {})).toBeUndefined(); // rendered without labels:
    expect(text).toMatch(/^tuf_edge_repositories \d+$/m);

    // One repository's view, under its admin API.
    const one = await scrape(`/${repo}/admin/metrics`);
    expect(one.response.status).toBe(200);
    expect(sample(one.text, "tuf_edge_quarantined_targets", r)).toBe(1);
    expect(one.text).not.toContain("tuf_edge_repositories");
  });

  it("counts the object's R2 operations by operation and area, each once, publish runs' included", async () => {
    const samples = (text: string) =>
      [
        ...text.matchAll(
          /^tuf_edge_r2_operations_total\{repository="met-a",operation="([a-z]+)",area="([a-z0-9-]+)"\} (\d+)$/gm,
        ),
      ].map((m) => ({ operation: m[1], area: m[2], n: Number(m[3]) }));
    const count = (text: string) => {
      const all = samples(text);
      const sum = (keep: (s: (typeof all)[number]) => boolean) => all.filter(keep).reduce((total, s) => total + s.n, 0);
      return {
        put: sum((s) => s.operation === "put"),
        packs: sum((s) => s.operation === "put" && s.area === "packs"),
        metadata: sum((s) => s.operation === "put" && s.area === "metadata"),
        all: sum(() => true),
      };
    };
    // Every sample has both labels: the pattern above reads them all.
    const text0 = (await scrape(`/${repo}/admin/metrics`)).text;
    expect(samples(text0).length).toBe(text0.match(/^tuf_edge_r2_operations_total\{/gm)?.length);
    const before = count((await scrape(`/${repo}/admin/metrics`)).text);
    expect(before.metadata).toBeGreaterThan(0);
    // The bootstrap and the rounds above stored files: their puts are counted.
    expect(before.put).toBeGreaterThan(0);
    expect(before.all).toBeGreaterThanOrEqual(before.put);
    // A scrape counts what was made since the last one, not again.
    expect(count((await scrape(`/${repo}/admin/metrics`)).text)).toEqual(before);

    const runsBefore = await recentRuns(repo);
    const registry = registryClient(repo, { kind: "hmac", secret });
    const sha256 = await sha256Hex(utf8("two"));
    await registry.push([{ type: "targets.add", path: "c.txt", length: 3, hashes: { sha256 } }]);
    const runs = (await recentRuns(repo)).slice(runsBefore.length);
    const after = count((await scrape(`/${repo}/admin/metrics`)).text);
    // Its round stored at least the bin's pack, the snapshot and the timestamp, each counted once, in its area.
    expect(after.put - before.put).toBeGreaterThanOrEqual(3);
    expect(after.packs - before.packs).toBe(1);
    expect(after.metadata - before.metadata).toBeGreaterThanOrEqual(2);
    const inRuns = runs.reduce((sum, run) => sum + run.r2Operations, 0);
    expect(inRuns).toBeGreaterThanOrEqual(3);
    expect(after.all - before.all).toBeGreaterThanOrEqual(inRuns);
  });

  it("meters a bucket binding's operations by method and by the area of the key until they are taken", async () => {
    const meter = new R2Meter();
    const bucket = meter.wrap(env.BUCKET);
    await bucket.put("metered/site/a", "a");
    await bucket.put("metered/site/b", "b");
    await bucket.put("metered/packs/7/0", "c");
    expect(await (await bucket.get("metered/site/a"))?.text()).toBe("a");
    expect(await bucket.head("metered/site/b")).not.toBeNull();
    expect((await bucket.list({ prefix: "metered/site/" })).objects).toHaveLength(2);
    await bucket.delete(["metered/site/a", "metered/site/b"]);
    await bucket.delete("metered");
    expect(meter.take()).toEqual([
      { operation: "put", area: "site", count: 2 },
      { operation: "put", area: "packs", count: 1 },
      { operation: "get", area: "site", count: 1 },
      { operation: "head", area: "site", count: 1 },
      { operation: "list", area: "site", count: 1 },
      { operation: "delete", area: "site", count: 1 },
      { operation: "delete", area: "other", count: 1 },
    ]);
    expect(meter.operations).toBe(8);
    expect(meter.take()).toEqual([]);
    expect(meter.operations).toBe(8);
  });

  it("writes one JSON line per significant event, with the repository and versions", () => {
    const events = lines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.repository === repo);
    const kinds = new Set(events.map((e) => e.event));
    for (const kind of ["publish.round.start", "publish.round", "push.accepted", "push.refused", "audit"]) {
      expect(kinds, kind).toContain(kind);
    }
    const round = events.find((e) => e.event === "publish.round");
    expect(round).toMatchObject({ level: "info", targets: expect.any(Number), timestamp: expect.any(Number) });
    // Where each round's time went (round-phases.ts): every phase, whole ms, within the round's duration
    // (the turns' waits are counted inside the phases that waited).
    for (const r of events.filter((e) => e.event === "publish.round")) {
      const phases = [...ROUND_PHASES].map((p) => r[`${p}Ms`]);
      expect(
        phases.every((ms) => Number.isInteger(ms) && (ms as number) >= 0),
        JSON.stringify(r),
      ).toBe(true);
      expect(Number.isInteger(r.turnWaitsMs)).toBe(true);
      const sum = phases.reduce<number>((a, ms) => a + (ms as number), 0);
      expect(sum, JSON.stringify(r)).toBeLessThanOrEqual((r.durationMs as number) + ROUND_PHASES.length);
      expect(r.turnWaitsMs as number).toBeLessThanOrEqual(sum + 1);
    }
    expect(events.filter((e) => e.event === "push.refused").map((e) => e.code)).toEqual(
      expect.arrayContaining(["immutable_target", "invalid_signature"]),
    );
    expect(events.find((e) => e.event === "audit" && e.kind === "target-quarantined")).toBeDefined();
    const refused = lines.filter((l) => l.includes('"event":"request.refused"'));
    expect(refused.some((l) => l.includes('"code":"unauthenticated"'))).toBe(true);
  });

  it("never logs a secret: not the admin token, the KEKs, a webhook secret or an online key", async () => {
    const ring = JSON.parse(env.KEY_ENCRYPTION_KEY) as { keys: Record<string, string> };
    const keyid = String(
      (await getJson(`/${repo}/admin/status`, { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } })).json
        .onlineKeyId,
    );
    const seed = await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const row = state.storage.sql
        .exec<{ sealed: ArrayBuffer; iv: ArrayBuffer; kek_id: string }>(
          "SELECT sealed, iv, kek_id FROM online_keys WHERE keyid = ?",
          keyid,
        )
        .one();
      return new Sealer(env.KEY_ENCRYPTION_KEY).unseal(
        { sealed: row.sealed, iv: row.iv, kekId: row.kek_id },
        onlineKeyContext(repo, keyid),
      );
    });
    expect(secret).toMatch(/^whsec_/);
    const secrets = [
      env.ADMIN_TOKEN,
      ...Object.values(ring.keys),
      secret,
      secret.slice("whsec_".length),
      toHex(seed),
      toBase64(seed),
    ];
    expect(lines.length).toBeGreaterThan(10);
    const all = lines.join("\n");
    for (const s of secrets) expect(all.includes(s), "a secret in the logs").toBe(false);
  });

  it("drops fields whose names say secret", () => {
    const line = JSON.parse(logLine("info", "x", { secret: "s", adminToken: "t", sealedKey: "k", ok: "yes" }));
    expect(line).toMatchObject({ level: "info", event: "x", ok: "yes" });
    expect(Object.keys(line).sort()).toEqual(["at", "event", "level", "ok"]);
  });
});
