/**
 * Who sent a push (issue 10, classes 5 and 7): a push names its registry, only
 * that registry's credentials are tried, credentials per registry are capped,
 * and delivery ids belong to the registry that sends them (the same id with
 * another body is a conflict naming the original task).
 */
import { describe, expect, it } from "vitest";
import { type RegistryCredential, signPush } from "../../scripts/lib/registry-client.ts";
import { MAX_CREDENTIALS_PER_REGISTRY } from "../../durable-objects/registries.ts";
import type { TaskView } from "../../src/repository-api.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { toBase64, utf8 } from "../../src/lib/bytes.ts";
import { BASE, bootstrapped, publishedTarget, registryClient, workerFetch } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function addEvent(path: string) {
  return { type: "targets.add" as const, path, length: path.length, hashes: { sha256: await sha256Hex(utf8(path)) } };
}

/** A bootstrapped repository with registries "alpha" and "beta", each holding one HMAC credential. */
async function twoRegistries(repo: string) {
  const boot = await bootstrapped(repo);
  const alpha: RegistryCredential = {
    kind: "hmac",
    secret: defined((await boot.client.addRegistryCredential("alpha", { kind: "hmac" })).secret),
  };
  const beta: RegistryCredential = {
    kind: "hmac",
    secret: defined((await boot.client.addRegistryCredential("beta", { kind: "hmac" })).secret),
  };
  return { ...boot, alpha, beta };
}

async function post(url: string, credential: RegistryCredential, body: string, id = `msg_${crypto.randomUUID()}`) {
  const headers = await signPush(credential, body, id, nowSeconds());
  return workerFetch(`${BASE}${url}`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body,
  });
}

async function problemOf(response: Response) {
  return { status: response.status, ...(await response.json<{ code: string; detail: string }>()) };
}

describe("class 5: delivery ids are per registry", () => {
  it("another registry reusing a webhook-id gets its own task, and its events are published", async () => {
    const repo = "senders-ids";
    const { alpha, beta } = await twoRegistries(repo);
    const first = await registryClient(repo, alpha, undefined, "alpha").push([await addEvent("a/one")], {
      id: "msg_shared",
    });
    const second = await registryClient(repo, beta, undefined, "beta").push([await addEvent("b/two")], {
      id: "msg_shared",
    });
    expect(second).toMatchObject({ status: 200, duplicate: false, task: { registry: "beta" } });
    expect(second.task.id).not.toBe(first.task.id);
    expect((await publishedTarget(repo, "b/two")).target).toBeDefined();
    // Each registry's redelivery still finds its own task.
    const again = await registryClient(repo, beta, undefined, "beta").push([await addEvent("b/two")], {
      id: "msg_shared",
    });
    expect(again).toMatchObject({ duplicate: true, task: { id: second.task.id } });
  });

  it("the same registry resending an id with another signed body is 409 naming the original task; nothing changes", async () => {
    const repo = "senders-conflict";
    const { client, alpha } = await twoRegistries(repo);
    const registry = registryClient(repo, alpha, undefined, "alpha");
    const first = await registry.push([await addEvent("c/first")], { id: "msg_reused" });
    const before = await client.status();
    const response = await post(
      `/${repo}/webhooks/registry/alpha`,
      alpha,
      JSON.stringify({ repository: repo, events: [await addEvent("c/second")] }),
      "msg_reused",
    );
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ status: 409, code: "delivery_conflict" });
    expect(problem.detail).toContain(first.task.id);
    expect(response.headers.get("Location")).toBeNull();
    const after = await client.status();
    expect(after.targetsCount).toBe(before.targetsCount);
    expect(defined(after.roles.timestamp).version).toBe(defined(before.roles.timestamp).version);
    expect((await publishedTarget(repo, "c/second")).target).toBeUndefined();
  });
});

describe("class 7: a push names its registry, and only its credentials are tried", () => {
  it("a push signed by one registry and sent to another's URL is refused; at its own URL it is that registry's", async () => {
    const repo = "senders-named";
    const { alpha, beta } = await twoRegistries(repo);
    const body = JSON.stringify({ repository: repo, events: [await addEvent("n/beta")] });
    const wrong = await problemOf(await post(`/${repo}/webhooks/registry/alpha`, beta, body));
    expect(wrong).toMatchObject({ status: 401, code: "invalid_signature" });
    expect(wrong.detail).toContain('registry "alpha"');
    const unknown = await problemOf(await post(`/${repo}/webhooks/registry/gamma`, beta, body));
    expect(unknown).toMatchObject({ status: 401, code: "invalid_signature" });
    const right = await post(`/${repo}/webhooks/registry/beta`, beta, body);
    expect(right.status).toBe(200);
    expect((await right.json<{ task: TaskView }>()).task.registry).toBe("beta");
    const upload = await registryClient(repo, alpha, undefined, "alpha").upload("n/alpha.bin", utf8("alpha bytes"));
    expect(upload.task.registry).toBe("alpha");
  });

  it("the unnamed URL serves a repository with one registry, and asks for the name when there are several", async () => {
    const repo = "senders-unnamed";
    const { client, alpha } = await twoRegistries(repo);
    const body = JSON.stringify({ repository: repo, events: [await addEvent("u/one")] });
    const several = await problemOf(await post(`/${repo}/webhooks/registry`, alpha, body));
    expect(several).toMatchObject({ status: 400, code: "registry_required" });
    expect(several.detail).toContain(`/${repo}/webhooks/registry/{name}`);
    await expect(registryClient(repo, alpha).upload("u/one.bin", utf8("bytes"))).rejects.toMatchObject({
      status: 400,
      problem: { code: "registry_required" },
    });
    await client.removeRegistry("beta");
    const one = await post(`/${repo}/webhooks/registry`, alpha, body);
    expect(one.status).toBe(200);
    expect((await one.json<{ task: TaskView }>()).task.registry).toBe("alpha");
  });

  it(`caps a registry at ${MAX_CREDENTIALS_PER_REGISTRY} credentials (counting those in their overlap)`, async () => {
    const repo = "senders-cap";
    const { client } = await bootstrapped(repo);
    const ids: string[] = [];
    for (let i = 0; i < MAX_CREDENTIALS_PER_REGISTRY; i++)
      ids.push((await client.addRegistryCredential("many", { kind: "hmac" })).credential.id);
    await expect(client.addRegistryCredential("many", { kind: "hmac" })).rejects.toMatchObject({
      status: 409,
      problem: { code: "too_many_credentials" },
    });
    // Another registry has its own allowance; revoking one makes room again.
    await client.addRegistryCredential("other", { kind: "hmac" });
    await client.revokeRegistryCredential("many", defined(ids[0]));
    await client.addRegistryCredential("many", { kind: "hmac" });
    const { registries } = await client.registries();
    expect(defined(registries.find((r) => r.name === "many")).credentials).toHaveLength(MAX_CREDENTIALS_PER_REGISTRY);
  });

  it("refuses a webhook-signature header with more signatures than are tried", async () => {
    const repo = "senders-signatures";
    const { alpha } = await twoRegistries(repo);
    const body = JSON.stringify({ repository: repo, events: [await addEvent("s/one")] });
    const headers = await signPush(alpha, body, "msg_many_sigs", nowSeconds());
    const junk = Array.from({ length: 8 }, () => `v1,${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`);
    const response = await workerFetch(`${BASE}/${repo}/webhooks/registry/alpha`, {
      method: "POST",
      headers: {
        ...headers,
        "webhook-signature": [...junk, headers["webhook-signature"]].join(" "),
        "Content-Type": "application/json",
      },
      body,
    });
    expect(await problemOf(response)).toMatchObject({ status: 401, code: "invalid_signature" });
  });
});
