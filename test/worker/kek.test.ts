/**
 * Key-encryption key rotation. The test environment's KEY_ENCRYPTION_KEY is a
 * ring (vitest.config.ts): "default" (the old KEK) and "k2" (current). Values
 * are first moved under "default" with the production re-sealer driven by a
 * sealer whose current key is "default"; the service then re-seals them under
 * "k2", a bounded number per request, over several invocations.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { KekReseal } from "../../durable-objects/kek-reseal.ts";
import { onlineKeyContext } from "../../durable-objects/seal-contexts.ts";
import { KekError, parseKeyRing, Sealer } from "../../durable-objects/sealer.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { AdminApiError } from "../../scripts/lib/admin-client.ts";
import { BASE, getJson, publishedTarget, withHmacRegistry, workerFetch } from "./helpers.ts";

const ring = JSON.parse(env.KEY_ENCRYPTION_KEY) as { current: string; keys: Record<string, string> };
/** The same ring with "default" current: what the service looked like before the rotation. */
const OLD_RING = JSON.stringify({ current: "default", keys: ring.keys });

/** Moves every sealed value of `repo` under the old KEK "default", as if sealed before the rotation. */
async function sealUnderOldKek(repo: string): Promise<void> {
  await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
    const reseal = new KekReseal({
      sql: state.storage.sql,
      kv: state.storage.kv,
      sealer: new Sealer(OLD_RING),
      repo,
      logOrigin: `${env.LOG_ORIGIN}/${repo}`,
    });
    await reseal.step(1000);
  });
}

const admin = (path: string, init: RequestInit = {}) =>
  workerFetch(BASE + path, {
    ...init,
    headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json", ...init.headers },
  });

describe("key ring", () => {
  it("parses a bare key as id default and a JSON ring; refuses malformed ones without echoing key bytes", () => {
    expect(parseKeyRing(ring.keys.default).current).toBe("default");
    expect([...parseKeyRing(env.KEY_ENCRYPTION_KEY).keys.keys()].sort()).toEqual(["default", "k2"]);
    for (const bad of [
      undefined,
      "",
      "c2hvcnQ=",
      '{"current":"x","keys":{"k2":"c2hvcnQ="}}',
      '{"current":"nope","keys":{}}',
      "{",
    ]) {
      const error = (() => {
        try {
          parseKeyRing(bad);
        } catch (e) {
          return e as KekError;
        }
        throw new Error(`accepted ${bad}`);
      })();
      expect(error).toBeInstanceOf(KekError);
      expect(error.code).toBe("kek_not_configured");
      expect(error.message).not.toContain("c2hvcnQ=");
    }
  });

  it("unseals with the KEK a value records, and names the id when it is not configured", async () => {
    const old = new Sealer(OLD_RING);
    const sealed = await old.seal(utf8("secret"), "ctx");
    expect(sealed.kekId).toBe("default");
    const current = new Sealer(env.KEY_ENCRYPTION_KEY);
    expect(new TextDecoder().decode(await current.unseal(sealed, "ctx"))).toBe("secret");
    const resealed = await current.reseal(sealed, "ctx");
    expect(resealed.kekId).toBe("k2");
    const onlyK2 = new Sealer(JSON.stringify({ current: "k2", keys: { k2: ring.keys.k2 } }));
    await expect(onlyK2.unseal(sealed, "ctx")).rejects.toMatchObject({ code: "kek_unknown" });
    expect(new TextDecoder().decode(await onlyK2.unseal(resealed, "ctx"))).toBe("secret");
    // The right id with another key under it: a typed failure, not a crash.
    const wrong = new Sealer(JSON.stringify({ current: "k2", keys: { k2: ring.keys.default } }));
    await expect(wrong.unseal(resealed, "ctx")).rejects.toMatchObject({ code: "kek_unseal_failed" });
  });
});

describe("re-sealing under a new key-encryption key", () => {
  it("re-seals online keys, webhook secrets and the log key, resumably across invocations", async () => {
    const repo = "kek-reseal";
    const { client, registry } = await withHmacRegistry(repo, { bins: 4 });
    await sealUnderOldKek(repo);
    const before = await client.kekStatus();
    // The online key, the registry's HMAC secret and the log key.
    expect(before).toEqual({ current: "k2", sealedUnder: { default: 3 }, remaining: 3, unconfigured: [] });

    // One value per request: each request is its own invocation of the object.
    const steps: number[] = [];
    for (let i = 0; i < 10; i++) {
      const step = await client.resealSecrets(1);
      steps.push(step.remaining);
      if (step.done) break;
    }
    expect(steps).toEqual([2, 1, 0]);
    expect(await client.kekStatus()).toEqual({ current: "k2", sealedUnder: { k2: 3 }, remaining: 0, unconfigured: [] });
    // Running it again once done changes nothing.
    expect(await client.resealSecrets()).toMatchObject({ resealed: 0, remaining: 0, done: true });

    // The re-sealed online key is the same key: it opens under k2 alone and derives the published keyid.
    const onlineKeyid = String((await client.status()).onlineKeyId);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const row = state.storage.sql
        .exec<{ sealed: ArrayBuffer; iv: ArrayBuffer; kek_id: string }>(
          "SELECT sealed, iv, kek_id FROM online_keys WHERE keyid = ?",
          onlineKeyid,
        )
        .one();
      expect(row.kek_id).toBe("k2");
      const onlyK2 = new Sealer(JSON.stringify({ current: "k2", keys: { k2: ring.keys.k2 } }));
      const seed = await onlyK2.unseal(
        { sealed: row.sealed, iv: row.iv, kekId: row.kek_id },
        onlineKeyContext(repo, onlineKeyid),
      );
      expect((await Ed25519Signer.fromSeed(seed)).keyid).toBe(onlineKeyid);
    });

    // Everything still works: the registry's secret verifies, the repository publishes.
    const sha256 = await sha256Hex(utf8("after"));
    await registry.push([{ type: "targets.add", path: "after.txt", length: 5, hashes: { sha256 } }]);
    expect((await publishedTarget(repo, "after.txt", 4)).target).toEqual({ length: 5, hashes: { sha256 } });
    const { events } = await client.events();
    expect(events.filter((e) => e.kind === "kek-resealed")).toHaveLength(3);
  });

  it("the service-wide endpoint re-seals every repository within a budget per request", async () => {
    await withHmacRegistry("kek-all-a", { bins: 2 });
    await withHmacRegistry("kek-all-b", { bins: 2 });
    await sealUnderOldKek("kek-all-a");
    await sealUnderOldKek("kek-all-b");
    const { json: status } = await getJson("/admin/kek", { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    const mine = (s: { repositories: Array<{ repository: string; remaining: number }> }) =>
      s.repositories.filter((r) => r.repository.startsWith("kek-all-")).map((r) => [r.repository, r.remaining]);
    expect(mine(status)).toEqual([
      ["kek-all-a", 3],
      ["kek-all-b", 3],
    ]);
    let rounds = 0;
    let last: { done: boolean; resealed: number; repositories: Array<{ repository: string; remaining: number }> };
    do {
      const response = await admin("/admin/kek/reseal", { method: "POST", body: JSON.stringify({ budget: 2 }) });
      expect(response.status).toBe(200);
      last = await response.json();
      expect(last.resealed).toBeLessThanOrEqual(2);
      rounds++;
    } while (!last.done && rounds < 20);
    expect(last.done).toBe(true);
    expect(mine(last)).toEqual([
      ["kek-all-a", 0],
      ["kek-all-b", 0],
    ]);
    expect(rounds).toBeGreaterThanOrEqual(3);
    // Unauthenticated: refused.
    expect((await workerFetch(`${BASE}/admin/kek/reseal`, { method: "POST" })).status).toBe(401);
  });

  it("refuses to start, naming the key, when a sealed value names a KEK that is not configured", async () => {
    const repo = "kek-unknown";
    const { client } = await withHmacRegistry(repo, { bins: 2 });
    await sealUnderOldKek(repo);
    // A credential sealed under a KEK that was removed from the ring too early.
    await runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      state.storage.sql.exec("UPDATE registry_credentials SET kek_id = '2025-retired'");
    });
    expect((await client.kekStatus()).unconfigured).toEqual(["2025-retired"]);
    const refused = await client.resealSecrets().catch((e: AdminApiError) => e);
    expect(refused).toBeInstanceOf(AdminApiError);
    expect((refused as AdminApiError).status).toBe(409);
    expect((refused as AdminApiError).problem.code).toBe("kek_unknown");
    expect((refused as AdminApiError).problem.detail).toContain('"2025-retired"');
    // Nothing was re-sealed.
    expect((await client.kekStatus()).sealedUnder).toEqual({ default: 2, "2025-retired": 1 });
    const service = await admin("/admin/kek/reseal", { method: "POST" });
    expect(service.status).toBe(409);
    expect(((await service.json()) as { detail: string }).detail).toContain(`${repo} ("2025-retired")`);
  });

  it("validates the budget", async () => {
    const response = await admin("/admin/kek/reseal", { method: "POST", body: JSON.stringify({ budget: 0 }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("invalid_request");
  });
});
