/**
 * The in-memory answers of the key vault (durable-objects/read-cache.ts): the
 * active online key is read once per object instance, not per push, and is
 * never stale after a write, even one rolled back with its transaction.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KeyVault } from "../../durable-objects/key-vault.ts";
import { ReadCache } from "../../durable-objects/read-cache.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { bootstrapped, registryClient, withHmacRegistry } from "./helpers.ts";

async function add(path: string) {
  return { type: "targets.add" as const, path, length: path.length, hashes: { sha256: await sha256Hex(utf8(path)) } };
}

describe("ReadCache", () => {
  it("keeps a value until invalidated, and keeps nothing read in the synchronous block of a write", async () => {
    const cache = new ReadCache<string, number>();
    let stored = 1;
    let reads = 0;
    const read = () =>
      cache.get("k", () => {
        reads++;
        return stored;
      });
    expect(read()).toBe(1);
    expect(read()).toBe(1);
    expect(reads).toBe(1);
    stored = 2;
    cache.invalidate();
    expect(read()).toBe(2);
    expect(read()).toBe(2);
    // Read in the same block as the write: not kept (a rollback could undo it).
    expect(reads).toBe(3);
    stored = 1; // the write is rolled back
    await Promise.resolve();
    expect(read()).toBe(1);
    expect(read()).toBe(1);
    expect(reads).toBe(4);
  });
});

describe("the key vault's cached active key", () => {
  it("follows a rotation, and a rotation rolled back with its transaction leaves the committed key", async () => {
    const repo = "read-cache-vault";
    await bootstrapped(repo);
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const vault = new KeyVault({ sql: state.storage.sql, repo, sealer: new Sealer(env.KEY_ENCRYPTION_KEY) });
      const first = vault.find("active");
      expect(first).not.toBeNull();
      const next = await vault.generate("pending");
      expect(vault.find("pending")?.keyid).toBe(next.keyid);
      expect(vault.find("active")?.keyid).toBe(first?.keyid);

      // Committed rotation: the cache follows.
      state.storage.transactionSync(() => {
        vault.setState(next.keyid, "active");
        vault.setState(String(first?.keyid), "retired");
      });
      expect(vault.find("active")?.keyid).toBe(next.keyid);
      expect(vault.find("pending")).toBeNull();

      // A rotation back, read inside its transaction, then rolled back.
      expect(() =>
        state.storage.transactionSync(() => {
          vault.setState(next.keyid, "retired");
          vault.setState(String(first?.keyid), "active");
          expect(vault.find("active")?.keyid).toBe(first?.keyid);
          throw new Error("ceremony refused");
        }),
      ).toThrow("ceremony refused");
      await Promise.resolve();
      expect(vault.find("active")?.keyid).toBe(next.keyid);
    });
  });
});

describe("the registries' cached credentials", () => {
  it("a credential added after pushes verifies at once, and one revoked is refused at once", async () => {
    const repo = "read-cache-credentials";
    const { client, secret, credentialId, registry } = await withHmacRegistry(repo);
    expect((await registry.push([await add("cached/1.tgz")], { async: true })).status).toBe(202);

    const added = await client.addRegistryCredential("registry", { kind: "hmac", overlapSeconds: 3600 });
    const fresh = registryClient(repo, { kind: "hmac", secret: defined(added.secret) }, undefined, "registry");
    expect((await fresh.push([await add("cached/2.tgz")], { async: true })).status).toBe(202);
    expect((await registry.push([await add("cached/3.tgz")], { async: true })).status).toBe(202);

    await client.revokeRegistryCredential("registry", credentialId);
    const old = registryClient(repo, { kind: "hmac", secret }, undefined, "registry");
    await expect(old.push([await add("cached/4.tgz")], { async: true })).rejects.toMatchObject({
      status: 401,
      problem: { code: "invalid_signature" },
    });
  });

  it("an unnamed push names the sole registry until a second one is added", async () => {
    const repo = "read-cache-sole";
    const { client, secret } = await withHmacRegistry(repo);
    const unnamed = registryClient(repo, { kind: "hmac", secret });
    expect((await unnamed.push([await add("sole/1.tgz")], { async: true })).status).toBe(202);
    await client.addRegistryCredential("other", { kind: "hmac" });
    await expect(unnamed.push([await add("sole/2.tgz")], { async: true })).rejects.toMatchObject({
      status: 400,
      problem: { code: "registry_required" },
    });
  });
});
