import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AdminApiError, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { formatExpires, sign } from "../../src/tuf/metadata.ts";
import { draftRoot } from "../../src/tuf/root.ts";
import { adminClient, BASE, bootstrapped, getJson, rootSigners, workerFetch } from "./helpers.ts";

describe("bootstrap", () => {
  it("publishes root v1, targets, every bin, snapshot and timestamp", async () => {
    const { versions, rootBytes } = await bootstrapped("boot-ok", { bins: 16 });
    expect(versions).toEqual({ targets: 1, snapshot: 1, timestamp: 1 });

    const root = await workerFetch(`${BASE}/boot-ok/metadata/1.root.json`);
    expect(root.status).toBe(200);
    expect(new Uint8Array(await root.arrayBuffer())).toEqual(rootBytes);

    const { json: timestamp } = await getJson("/boot-ok/metadata/timestamp.json");
    expect(timestamp.signed.meta["snapshot.json"].version).toBe(1);
    const { json: snapshot } = await getJson("/boot-ok/metadata/1.snapshot.json");
    expect(Object.keys(snapshot.signed.meta)).toHaveLength(17);
    expect(snapshot.signed.meta["bins-f.json"]).toEqual({ version: 1 });
    const { json: targets } = await getJson("/boot-ok/metadata/1.targets.json");
    expect(targets.signed.delegations.succinct_roles).toMatchObject({
      bit_length: 4,
      name_prefix: "bins",
      threshold: 1,
    });
    const bin = await workerFetch(`${BASE}/boot-ok/metadata/1.bins-0.json`);
    expect(bin.status).toBe(200);
  });

  it("is refused a second time and changes nothing", async () => {
    const { client, signers } = await bootstrapped("boot-twice");
    const again = bootstrapRepository(client, { rootSigners: signers, threshold: 1 });
    await expect(again).rejects.toMatchObject({ status: 409, problem: { code: "already_bootstrapped" } });
    const { json } = await getJson("/boot-twice/metadata/timestamp.json");
    expect(json.signed.version).toBe(1);
  });

  it("requires the admin token", async () => {
    const response = await workerFetch(`${BASE}/boot-auth/admin/online-key`, {
      headers: { Authorization: "Bearer wrong-token-wrong-token" },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    const body = await response.text();
    expect(body).not.toContain(env.ADMIN_TOKEN);
    expect((await workerFetch(`${BASE}/boot-auth/admin/online-key`)).status).toBe(401);
  });

  async function rejected(repo: string, mutate: (args: { onlineKey: any; signers: any[] }) => Promise<unknown>) {
    const client = adminClient(repo);
    const online = await client.onlineKey();
    const signers = await rootSigners(2);
    const root = await mutate({ onlineKey: online.key, signers });
    const error = await client.bootstrap(root as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminApiError);
    // Nothing changed: not bootstrapped, nothing published, same online key.
    const status = await client.status();
    expect(status.bootstrapped).toBe(false);
    expect((await workerFetch(`${BASE}/${repo}/metadata/1.root.json`)).status).toBe(404);
    expect((await workerFetch(`${BASE}/${repo}/metadata/timestamp.json`)).status).toBe(404);
    expect((await client.onlineKey()).keyid).toBe(online.keyid);
    return error as AdminApiError;
  }

  const expires = () => formatExpires(new Date(Date.now() + 86_400_000 * 30));

  it("rejects a root below its signature threshold", async () => {
    const error = await rejected("bad-threshold", async ({ onlineKey, signers }) => {
      const signed = await draftRoot({
        version: 1,
        expires: expires(),
        rootKeys: signers.map((s) => s.key),
        rootThreshold: 2,
        onlineKey,
      });
      return (await sign(signed, [signers[0]])).envelope;
    });
    expect(error.problem.code).toBe("invalid_root");
    expect(error.problem.detail).toMatch(/threshold is 2/);
  });

  it("rejects a root whose signed part was changed after signing", async () => {
    const error = await rejected("bad-tampered", async ({ onlineKey, signers }) => {
      const signed = await draftRoot({
        version: 1,
        expires: expires(),
        rootKeys: [signers[0].key],
        rootThreshold: 1,
        onlineKey,
      });
      const { envelope } = await sign(signed, [signers[0]]);
      return {
        ...envelope,
        signed: { ...envelope.signed, expires: formatExpires(new Date(Date.now() + 86_400_000 * 999)) },
      };
    });
    expect(error.problem.code).toBe("invalid_root");
  });

  it("rejects a root that does not name the repository's online key", async () => {
    const error = await rejected("bad-online", async ({ signers }) => {
      const signed = await draftRoot({
        version: 1,
        expires: expires(),
        rootKeys: [signers[0].key],
        rootThreshold: 1,
        onlineKey: signers[1].key,
      });
      return (await sign(signed, [signers[0]])).envelope;
    });
    expect(error.problem.detail).toMatch(/online key/);
  });

  it("rejects an expired root, a root not at version 1 and a malformed body", async () => {
    await rejected("bad-expired", async ({ onlineKey, signers }) => {
      const signed = await draftRoot({
        version: 1,
        expires: "2020-01-01T00:00:00Z",
        rootKeys: [signers[0].key],
        rootThreshold: 1,
        onlineKey,
      });
      return (await sign(signed, [signers[0]])).envelope;
    });
    await rejected("bad-version", async ({ onlineKey, signers }) => {
      const signed = await draftRoot({
        version: 2,
        expires: expires(),
        rootKeys: [signers[0].key],
        rootThreshold: 1,
        onlineKey,
      });
      return (await sign(signed, [signers[0]])).envelope;
    });
    const malformed = await rejected("bad-shape", async () => ({ signed: "nope", signatures: [] }));
    expect(malformed.status).toBe(400);
    expect(malformed.problem.errors).toBeDefined();
  });

  it("rejects settings out of range", async () => {
    const client = adminClient("bad-bins");
    const signers = await rootSigners(1);
    const attempt = bootstrapRepository(client, { rootSigners: signers, threshold: 1, settings: { bins: 3 } });
    await expect(attempt).rejects.toMatchObject({ status: 422, problem: { code: "invalid_settings" } });
    expect((await client.status()).bootstrapped).toBe(false);
  });
});
