/**
 * End to end: the key-encryption key is replaced under a running repository
 * (wrangler dev restarted on the same state with another KEY_ENCRYPTION_KEY),
 * so its sealed online key cannot be opened. `tuf-edge status`, `/health`
 * and `/{repo}/health` say so at once, naming the cause; a registry push is
 * refused with 503 and the key-encryption error's code, and stores nothing.
 * With the right key back, the same push is published.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSecrets, startLocalInstance, type LocalInstance } from "../../scripts/lib/local-instance.ts";
import { cliEnv, cliHarness, json, ok } from "./cli-harness.ts";

const REPO = "blocked";

describe("publishing blocked by a replaced key-encryption key", () => {
  let instance: LocalInstance;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const secrets = randomSecrets();
  const { run } = cliHarness(
    () => scratch,
    () => env,
  );
  const restart = async (kek: string) => {
    await instance.stop();
    instance = await startLocalInstance({
      persistTo: join(scratch, "state"),
      secrets: { ...secrets, KEY_ENCRYPTION_KEY: kek },
      readyTimeoutMs: 300_000, // a restart on a loaded machine can take minutes
    });
    env.TUF_EDGE_URL = instance.baseUrl;
  };
  const push = (path: string) =>
    run(["push", "add", path, "--length", "3", "--sha256", "ab".repeat(32), "--json"], {
      TUF_EDGE_REGISTRY_SECRET: env.REGISTRY_SECRET,
    });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-blocked-"));
    instance = await startLocalInstance({ persistTo: join(scratch, "state"), secrets });
    env = cliEnv({
      home: scratch,
      url: instance.baseUrl,
      repo: REPO,
      adminToken: secrets.ADMIN_TOKEN,
      passphrase: "blocked test passphrase",
    });
    ok(await run(["keys", "generate", "--out", "root.json"]));
    ok(await run(["bootstrap", "--key", "root.json", "--threshold", "1", "--bins", "16", "--yes"]));
    env.REGISTRY_SECRET = json(ok(await run(["registry", "add", "mirror", "--json"]))).secret;
    ok(await push("pkg/before.tgz"));
  });

  afterAll(async () => {
    await instance?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }, 600_000);

  it("status, health and pushes name the cause at once; nothing is stored; the right key unblocks", async () => {
    await restart(randomSecrets().KEY_ENCRYPTION_KEY);

    const status = await run(["status", "--json"]);
    expect(status.code).toBe(1);
    const report = json(status);
    expect(report.status.publishingBlocked).toMatchObject({ code: "kek_unseal_failed" });
    expect(report.warnings.join(" ")).toContain("publishing is blocked: a signing key cannot be unsealed");
    expect(report.health.status).toBe("blocked");
    const text = await run(["status"]);
    expect(text.stdout).toContain("publishing is blocked");

    for (const url of [`${instance.baseUrl}/health`, `${instance.baseUrl}/${REPO}/health`]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(503);
      const health = (await response.json()) as {
        repositories: Array<{ status: string; publishingBlocked: { code: string } }>;
      };
      expect(health.repositories[0]).toMatchObject({
        status: "blocked",
        publishingBlocked: { code: "kek_unseal_failed" },
      });
    }

    const refused = await push("pkg/during.tgz");
    expect(refused.code).toBe(4);
    expect(json(refused).error.problem).toMatchObject({ status: 503, code: "kek_unseal_failed" });
    const targetsBefore = report.status.targetsCount;

    await restart(secrets.KEY_ENCRYPTION_KEY);
    const healthy = json(ok(await run(["status", "--json"])));
    expect(healthy.status).toMatchObject({ publishingBlocked: null, targetsCount: targetsBefore });
    expect(json(ok(await push("pkg/during.tgz"))).task.state).toBe("published");
  }, 900_000);
});
