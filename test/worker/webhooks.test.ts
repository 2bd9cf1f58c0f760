/**
 * Registry pushes (POST /{repo}/webhooks/registry, PUT /{repo}/uploads/…):
 * Standard Webhooks signatures, replay protection, rotation, immutability,
 * all-or-nothing batches, async tasks, interop with the reference library,
 * and signed uploads. Every refusal is checked to have changed nothing.
 */
import { env } from "cloudflare:workers";
import * as ed from "@noble/ed25519";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdminClient } from "../../scripts/lib/admin-client.ts";
import { type RegistryCredential, signPush } from "../../scripts/lib/registry-client.ts";
import type { TaskView } from "../../src/repository-api.ts";
import type { TargetEvent } from "../../src/schemas/webhook.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { toBase64, utf8 } from "../../src/lib/bytes.ts";
import {
  adminClient,
  BASE,
  bootstrapped,
  getJson,
  publishedTarget,
  registryClient,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const hashOf = (text: string) => sha256Hex(utf8(text));
const nowSeconds = () => Math.floor(Date.now() / 1000);

type AddEvent = Extract<TargetEvent, { type: "targets.add" }>;

async function addEvent(path: string, extra: Partial<AddEvent> = {}): Promise<AddEvent> {
  return { type: "targets.add", path, length: path.length, hashes: { sha256: await hashOf(path) }, ...extra };
}

function batch(repository: string, events: unknown[]): string {
  return JSON.stringify({ repository, events });
}

/** POSTs `body` to the repository's webhook endpoint with exactly `headers`. */
function post(repo: string, body: string, headers: Record<string, string>): Promise<Response> {
  return workerFetch(`${BASE}/${repo}/webhooks/registry`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
}

/** POSTs `body` signed with `credential`; `timestamp` (seconds) and `id` may be overridden. */
async function signedPost(
  repo: string,
  credential: RegistryCredential,
  body: string,
  options: { id?: string; timestamp?: number; extra?: Record<string, string> } = {},
): Promise<Response> {
  const headers = await signPush(
    credential,
    body,
    options.id ?? `msg_${crypto.randomUUID()}`,
    options.timestamp ?? nowSeconds(),
  );
  return post(repo, body, { ...headers, ...options.extra });
}

async function state(client: AdminClient) {
  const status = await client.status();
  return { targets: status.targetsCount, timestamp: defined(status.roles.timestamp).version };
}

interface Problem {
  code: string;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

/** A refusal: problem+json with `code`, no task, no Location. */
async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  const problem = await response.json<Problem & { task?: unknown }>();
  expect(response.status, JSON.stringify(problem)).toBe(status);
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  expect(problem.code).toBe(code);
  expect(problem.task).toBeUndefined();
  expect(response.headers.get("Location")).toBeNull();
  return problem;
}

async function ed25519Key() {
  const seed = ed.utils.randomSecretKey();
  const publicKey = `whpk_${toBase64(await ed.getPublicKeyAsync(seed))}`;
  return { seed, publicKey, credential: { kind: "ed25519", seed } as RegistryCredential };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("registry pushes", () => {
  it("publishes an HMAC-signed batch; yank marks a target, unyank unmarks it, remove removes it", async () => {
    const repo = "wh-hmac";
    const { client, registry } = await withHmacRegistry(repo);
    const a = await addEvent("pkg/a-1.0.tgz", { custom: { channel: "stable" } });
    const b = await addEvent("pkg/b-2.0.tgz");

    const pushed = await registry.push([a, b]);
    expect(pushed).toMatchObject({
      status: 200,
      duplicate: false,
      task: { state: "published", registry: "registry", events: 2 },
    });
    expect(pushed.task.versions).toEqual({ targets: 1, snapshot: 2, timestamp: 2 });
    expect((await publishedTarget(repo, a.path)).target).toEqual({
      length: a.path.length,
      hashes: { sha256: await hashOf(a.path) },
      custom: { channel: "stable" },
    });
    expect((await publishedTarget(repo, b.path)).target).toEqual({
      length: b.path.length,
      hashes: { sha256: await hashOf(b.path) },
    });
    const { json: task } = await getJson<TaskView>(`/${repo}/tasks/${pushed.task.id}`);
    expect(task).toMatchObject({ id: pushed.task.id, state: "published", versions: pushed.task.versions });

    await registry.push([
      { type: "targets.yank", path: a.path, reason: "CVE-2099-0001" },
      { type: "targets.yank", path: b.path, reason: "broken build" },
    ]);
    const yanked = await publishedTarget(repo, a.path);
    expect(yanked.timestamp).toBe(3);
    expect(yanked.target.custom).toEqual({ channel: "stable", yanked: true, yanked_reason: "CVE-2099-0001" });
    expect((await publishedTarget(repo, b.path)).target.custom).toEqual({
      yanked: true,
      yanked_reason: "broken build",
    });
    expect((await client.status()).targetsCount).toBe(2);

    await registry.push([
      { type: "targets.unyank", path: a.path },
      { type: "targets.unyank", path: b.path },
    ]);
    expect((await publishedTarget(repo, a.path)).target.custom).toEqual({ channel: "stable" });
    expect((await publishedTarget(repo, b.path)).target).toEqual({
      length: b.path.length,
      hashes: { sha256: await hashOf(b.path) },
    });

    const removed = await registry.push([{ type: "targets.remove", path: b.path }]);
    expect(defined(removed.task.versions).timestamp).toBe(5);
    expect((await publishedTarget(repo, b.path)).target).toBeUndefined();
    expect((await publishedTarget(repo, a.path)).target).toBeDefined();
    expect(await state(client)).toEqual({ targets: 1, timestamp: 5 });
  });

  it("publishes an Ed25519-signed (v1a) batch", async () => {
    const repo = "wh-ed25519";
    const { client } = await bootstrapped(repo);
    const key = await ed25519Key();
    const added = await client.addRegistryCredential("signing-registry", { kind: "ed25519", publicKey: key.publicKey });
    expect(added.secret).toBeUndefined();
    const event = await addEvent("bin/tool-3.1");
    const body = batch(repo, [event]);
    const headers = await signPush(key.credential, body, "msg_ed25519", nowSeconds());
    expect(headers["webhook-signature"]).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    const response = await post(repo, body, headers);
    const json = await response.json<{ task: TaskView; duplicate: boolean }>();
    expect(response.status).toBe(200);
    expect(json.task).toMatchObject({ state: "published", registry: "signing-registry" });
    expect((await publishedTarget(repo, event.path)).target?.hashes).toEqual({ sha256: await hashOf(event.path) });
  });
});

describe("refused pushes change nothing", () => {
  /**
   * After a refusal: the state is as before, and the delivery id was not
   * recorded (the genuine delivery with that id is then applied, not
   * answered as a duplicate).
   */
  async function expectNothingChanged(client: AdminClient, before: { targets: number; timestamp: number }) {
    expect(await state(client)).toEqual(before);
    expect((await client.status()).pendingChanges).toBe(false);
  }

  async function expectIdUnused(repo: string, credential: RegistryCredential, id: string) {
    const genuine = await signedPost(repo, credential, batch(repo, [await addEvent(`genuine/${id}`)]), { id });
    expect(genuine.status).toBe(200);
    expect((await genuine.json<{ duplicate: boolean }>()).duplicate).toBe(false);
  }

  it("a forged signature (wrong secret, or a body altered after signing) → 401 invalid_signature", async () => {
    const repo = "wh-forged";
    const { client, secret } = await withHmacRegistry(repo);
    const before = await state(client);
    const body = batch(repo, [await addEvent("evil/payload")]);
    const wrong = { kind: "hmac", secret: `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}` } as const;
    const forged = await signedPost(repo, wrong, body, { id: "msg_forged" });
    // A refused push says nothing of its timing (an accepted one does: "async mode").
    expect(forged.headers.get("Server-Timing")).toBeNull();
    await expectProblem(forged, 401, "invalid_signature");

    const signed = await signPush(
      { kind: "hmac", secret },
      batch(repo, [await addEvent("fine/file")]),
      "msg_altered",
      nowSeconds(),
    );
    await expectProblem(await post(repo, body, signed), 401, "invalid_signature");
    // A signature of the right secret over another id or timestamp does not carry over either.
    await expectProblem(
      await post(repo, batch(repo, [await addEvent("fine/file")]), { ...signed, "webhook-id": "msg_other" }),
      401,
      "invalid_signature",
    );
    await expectProblem(
      await post(repo, body, { ...signed, "webhook-signature": "v1,not-base64!!" }),
      401,
      "invalid_signature",
    );
    await expectProblem(
      await post(repo, body, { ...signed, "webhook-signature": "v2,abcd" }),
      401,
      "invalid_signature",
    );
    await expectNothingChanged(client, before);
    await expectIdUnused(repo, { kind: "hmac", secret }, "msg_forged");
    await expectIdUnused(repo, { kind: "hmac", secret }, "msg_altered");
  });

  it("an unsigned push (no headers, or some missing) → 401 unsigned", async () => {
    const repo = "wh-unsigned";
    const { client, secret } = await withHmacRegistry(repo);
    const before = await state(client);
    const body = batch(repo, [await addEvent("no/signature")]);
    await expectProblem(await post(repo, body, {}), 401, "unsigned");
    const headers = await signPush({ kind: "hmac", secret }, body, "msg_partial", nowSeconds());
    for (const missing of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
      const { [missing]: _, ...partial } = headers;
      await expectProblem(await post(repo, body, partial), 401, "unsigned");
    }
    await expectProblem(await post(repo, body, { ...headers, "webhook-timestamp": "yesterday" }), 401, "unsigned");
    await expectNothingChanged(client, before);
    await expectIdUnused(repo, { kind: "hmac", secret }, "msg_partial");
  });

  it("an expired or future-dated timestamp (> 5 minutes off) → 401 stale_timestamp, even when correctly signed", async () => {
    const repo = "wh-stale";
    const { client, secret } = await withHmacRegistry(repo);
    const credential = { kind: "hmac", secret } as const;
    const before = await state(client);
    const body = batch(repo, [await addEvent("late/arrival")]);
    // 5 minutes and a margin: the server's clock may have ticked past the test's by the time it checks.
    const expired = await expectProblem(
      await signedPost(repo, credential, body, { id: "msg_old", timestamp: nowSeconds() - 330 }),
      401,
      "stale_timestamp",
    );
    expect(expired.detail).toMatch(/expired/);
    const future = await expectProblem(
      await signedPost(repo, credential, body, { id: "msg_new", timestamp: nowSeconds() + 330 }),
      401,
      "stale_timestamp",
    );
    expect(future.detail).toMatch(/future/);
    await expectProblem(
      await signedPost(repo, credential, body, { id: "msg_epoch", timestamp: 0 }),
      401,
      "stale_timestamp",
    );
    await expectNothingChanged(client, before);
    // Within the tolerance is fine.
    const edge = await signedPost(repo, credential, body, { id: "msg_old", timestamp: nowSeconds() - 270 });
    expect(edge.status).toBe(200);
    expect((await edge.json<{ duplicate: boolean }>()).duplicate).toBe(false);
    await expectIdUnused(repo, credential, "msg_new");
  });

  it("a revoked credential → 401 invalid_signature", async () => {
    const repo = "wh-revoked";
    const { client, secret, credentialId } = await withHmacRegistry(repo);
    const replacement = await client.addRegistryCredential("registry", { kind: "hmac", overlapSeconds: 3600 });
    await client.revokeRegistryCredential("registry", credentialId);
    const { registries } = await client.registries();
    expect(defined(registries[0]).credentials.map((c) => c.id)).toEqual([replacement.credential.id]);
    const before = await state(client);
    await expectProblem(
      await signedPost(repo, { kind: "hmac", secret }, batch(repo, [await addEvent("old/key")]), { id: "msg_revoked" }),
      401,
      "invalid_signature",
    );
    await expectNothingChanged(client, before);
    await expectIdUnused(repo, { kind: "hmac", secret: defined(replacement.secret) }, "msg_revoked");
  });

  it("an Ed25519 push signed by a key that is not registered → 401 invalid_signature", async () => {
    const repo = "wh-ed-unknown";
    const { client } = await bootstrapped(repo);
    const registered = await ed25519Key();
    await client.addRegistryCredential("signing-registry", { kind: "ed25519", publicKey: registered.publicKey });
    const stranger = await ed25519Key();
    const before = await state(client);
    const body = batch(repo, [await addEvent("stranger/file")]);
    await expectProblem(
      await signedPost(repo, stranger.credential, body, { id: "msg_stranger" }),
      401,
      "invalid_signature",
    );
    // Both the stranger's signature and a truncated one: still refused.
    const good = await signPush(registered.credential, body, "msg_truncated", nowSeconds());
    const truncated = good["webhook-signature"].slice(0, 40);
    await expectProblem(await post(repo, body, { ...good, "webhook-signature": truncated }), 401, "invalid_signature");
    // An HMAC v1 signature with the public key bytes as the secret does not pass as Ed25519.
    const pkAsSecret = { kind: "hmac", secret: `whsec_${registered.publicKey.slice(5)}` } as const;
    await expectProblem(await signedPost(repo, pkAsSecret, body, { id: "msg_pk_as_secret" }), 401, "invalid_signature");
    await expectNothingChanged(client, before);
    await expectIdUnused(repo, registered.credential, "msg_stranger");
    // Several signatures, one good: accepted (any one listed signature may verify).
    const multi = await signPush(
      registered.credential,
      batch(repo, [await addEvent("multi/sig")]),
      "msg_multi",
      nowSeconds(),
    );
    const strangers = await signPush(
      stranger.credential,
      batch(repo, [await addEvent("multi/sig")]),
      "msg_multi",
      nowSeconds(),
    );
    const response = await post(repo, batch(repo, [await addEvent("multi/sig")]), {
      ...multi,
      "webhook-signature": `${strangers["webhook-signature"]} ${multi["webhook-signature"]}`,
    });
    expect(response.status).toBe(200);
  });

  it("a push naming another repository than the URL's → 403 wrong_repository", async () => {
    const repo = "wh-wrong-repo";
    const { client, secret } = await withHmacRegistry(repo);
    const before = await state(client);
    const problem = await expectProblem(
      await signedPost(repo, { kind: "hmac", secret }, batch("wh-some-other-repo", [await addEvent("x/y")]), {
        id: "msg_wrong_repo",
      }),
      403,
      "wrong_repository",
    );
    expect(problem.detail).toContain("wh-some-other-repo");
    await expectNothingChanged(client, before);
    await expectIdUnused(repo, { kind: "hmac", secret }, "msg_wrong_repo");
  });

  it("a valid push for repository A replayed against repository B (another credential) → 401 at B", async () => {
    const a = await withHmacRegistry("wh-replay-a");
    const b = await withHmacRegistry("wh-replay-b");
    const body = batch("wh-replay-a", [await addEvent("cross/repo")]);
    const headers = await signPush({ kind: "hmac", secret: a.secret }, body, "msg_cross", nowSeconds());
    expect((await post("wh-replay-a", body, headers)).status).toBe(200);
    const beforeB = await state(b.client);
    await expectProblem(await post("wh-replay-b", body, headers), 401, "invalid_signature");
    // Even rewritten for B, A's signature does not verify there.
    await expectProblem(
      await post("wh-replay-b", batch("wh-replay-b", [await addEvent("cross/repo")]), headers),
      401,
      "invalid_signature",
    );
    await expectNothingChanged(b.client, beforeB);
    expect((await state(a.client)).targets).toBe(1);
    await expectIdUnused("wh-replay-b", { kind: "hmac", secret: b.secret }, "msg_cross");
  });

  it("a push to a repository that is not bootstrapped → 409, and to one that does not exist → 404", async () => {
    const body = batch("wh-never-booted", [await addEvent("x/y")]);
    const headers = await signPush({ kind: "hmac", secret: "whsec_AAAA" }, body, "m", nowSeconds());
    await expectProblem(await post("wh-never-booted", body, headers), 404, "unknown_repository");
    await adminClient("wh-never-booted").onlineKey(); // created, not bootstrapped
    await expectProblem(await post("wh-never-booted", body, headers), 409, "not_bootstrapped");
  });
});

describe("redelivery", () => {
  it("the same webhook-id again returns the same task, duplicate:true, and applies nothing again", async () => {
    const repo = "wh-redeliver";
    const { client, registry, secret } = await withHmacRegistry(repo);
    const event = await addEvent("once/only");
    const first = await registry.push([event], { id: "msg_once" });
    expect(first.duplicate).toBe(false);
    const after = await state(client);
    expect(after).toEqual({ targets: 1, timestamp: 2 });

    const again = await registry.push([event], { id: "msg_once" });
    expect(again).toMatchObject({ status: 200, duplicate: true, task: { id: first.task.id, state: "published" } });
    // Same id, another body: a conflict naming the original delivery's task; nothing applied.
    await expect(registry.push([await addEvent("never/applied")], { id: "msg_once" })).rejects.toMatchObject({
      status: 409,
      problem: { code: "delivery_conflict", detail: expect.stringContaining(first.task.id) },
    });
    // Async redelivery of a published task: 200 with the task, not 202.
    const asyncAgain = await signedPost(repo, { kind: "hmac", secret }, batch(repo, [event]), {
      id: "msg_once",
      extra: { Prefer: "respond-async" },
    });
    expect(asyncAgain.status).toBe(200);
    expect((await asyncAgain.json<{ task: TaskView; duplicate: boolean }>()).task.id).toBe(first.task.id);
    expect(await state(client)).toEqual(after);
    expect((await publishedTarget(repo, "never/applied")).target).toBeUndefined();
  });

  it("an id again with a malformed body, or another repository's, is a conflict before the body is judged", async () => {
    const repo = "wh-redeliver-refused";
    const { client, registry, secret } = await withHmacRegistry(repo);
    const first = await registry.push([await addEvent("kept/once")], { id: "msg_kept" });
    const after = await state(client);
    for (const body of ["{not json", batch("another-repo", [await addEvent("kept/once")])]) {
      const response = await signedPost(repo, { kind: "hmac", secret }, body, { id: "msg_kept" });
      expect(response.status, body).toBe(409);
      expect(await response.json(), body).toMatchObject({
        code: "delivery_conflict",
        detail: expect.stringContaining(first.task.id),
      });
    }
    expect(await state(client)).toEqual(after);
  });

  it("concurrent redeliveries of one id apply it exactly once", async () => {
    const repo = "wh-redeliver-concurrent";
    const { client, secret } = await withHmacRegistry(repo);
    const body = batch(repo, [await addEvent("race/once")]);
    const headers = await signPush({ kind: "hmac", secret }, body, "msg_race", nowSeconds());
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(repo, body, headers)));
    const results = await Promise.all(responses.map((r) => r.json<{ task: TaskView; duplicate: boolean }>()));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await state(client)).toEqual({ targets: 1, timestamp: 2 });
  });
});

describe("credential rotation", () => {
  it("keeps the old secret valid for the overlap, then refuses it while the new one works", async () => {
    const repo = "wh-rotation";
    const { client, secret: oldSecret } = await withHmacRegistry(repo);
    const rotated = await client.addRegistryCredential("registry", { kind: "hmac", overlapSeconds: 3600 });
    const newSecret = defined(rotated.secret);
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newSecret).not.toBe(oldSecret);
    const t0 = Date.now();
    const { registries } = await client.registries();
    const [oldInfo, newInfo] = defined(registries[0]).credentials;
    expect(newInfo).toMatchObject({ id: rotated.credential.id, notAfter: null });
    expect(Math.abs(Date.parse(defined(defined(oldInfo).notAfter)) - (t0 + 3_600_000))).toBeLessThan(5_000);

    // The server's clock and the registry's clock are the same fake clock.
    const clock = () => Math.floor(Date.now() / 1000);
    const oldClient = registryClient(repo, { kind: "hmac", secret: oldSecret }, clock);
    const newClient = registryClient(repo, { kind: "hmac", secret: newSecret }, clock);
    expect((await oldClient.push([await addEvent("overlap/old")])).status).toBe(200);
    expect((await newClient.push([await addEvent("overlap/new")])).status).toBe(200);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(t0 + 3_500_000); // still inside the overlap
    expect((await oldClient.push([await addEvent("overlap/late-old")])).status).toBe(200);

    vi.setSystemTime(t0 + 3_610_000); // past it
    const before = await state(client);
    const body = batch(repo, [await addEvent("after/old")]);
    await expectProblem(
      await signedPost(repo, { kind: "hmac", secret: oldSecret }, body, { id: "msg_after_old", timestamp: clock() }),
      401,
      "invalid_signature",
    );
    await expect(oldClient.push([await addEvent("after/old")])).rejects.toMatchObject({
      status: 401,
      problem: { code: "invalid_signature" },
    });
    expect(await state(client)).toEqual(before);
    const accepted = await newClient.push([await addEvent("after/new")], { id: "msg_after_old" });
    expect(accepted).toMatchObject({ status: 200, duplicate: false });
    expect(defined(accepted.task.versions).timestamp).toBe(before.timestamp + 1);
    vi.useRealTimers();
    expect((await client.status()).targetsCount).toBe(4);
  });
});

describe("immutability", () => {
  it("never publishes a path with another digest, even after removal; the same digest is fine", async () => {
    const repo = "wh-immutable";
    const { client, registry, secret } = await withHmacRegistry(repo);
    const path = "lib/core-1.0.0.tgz";
    const original = await addEvent(path);
    const forged: AddEvent = { ...original, hashes: { sha256: await hashOf("other bytes") } };
    await registry.push([original]);
    const before = await state(client);

    const clash = await expectProblem(
      await signedPost(repo, { kind: "hmac", secret }, batch(repo, [forged])),
      409,
      "immutable_target",
    );
    expect(clash.detail).toContain(`events.0 (targets.add "${path}")`);
    // In a batch: the event is named by index, and the rest of the batch is not applied.
    const second = await expectProblem(
      await signedPost(repo, { kind: "hmac", secret }, batch(repo, [await addEvent("lib/innocent-1.0.tgz"), forged])),
      409,
      "immutable_target",
    );
    expect(second.detail).toContain(`events.1 (targets.add "${path}")`);
    // sha512 added alongside the original sha256: the sha256 still has to match.
    const extended: AddEvent = { ...forged, hashes: { sha256: await hashOf("x"), sha512: "a".repeat(128) } };
    await expectProblem(
      await signedPost(repo, { kind: "hmac", secret }, batch(repo, [extended])),
      409,
      "immutable_target",
    );
    expect(await state(client)).toEqual(before);
    expect((await publishedTarget(repo, path)).target.hashes).toEqual(original.hashes);

    // The same digest again: accepted (a no-op for the bytes).
    expect((await registry.push([original])).status).toBe(200);

    await registry.push([{ type: "targets.remove", path }]);
    expect((await publishedTarget(repo, path)).target).toBeUndefined();
    const afterRemoval = await state(client);
    const again = await expectProblem(
      await signedPost(repo, { kind: "hmac", secret }, batch(repo, [forged])),
      409,
      "immutable_target",
    );
    expect(again.detail).toContain(path);
    expect(await state(client)).toEqual(afterRemoval);
    // Re-listing the original bytes is allowed.
    expect((await registry.push([original])).status).toBe(200);
    expect((await publishedTarget(repo, path)).target?.hashes).toEqual({ sha256: await hashOf(path) });
  });
});

describe("all or nothing", () => {
  it("a batch with one bad event changes nothing and names the event", async () => {
    const repo = "wh-atomic";
    const { client, registry, secret } = await withHmacRegistry(repo);
    await registry.push([await addEvent("base/present")]);
    const before = await state(client);
    const x = await addEvent("batch/x");
    const y = await addEvent("batch/y");
    const send = (events: unknown[]) => signedPost(repo, { kind: "hmac", secret }, batch(repo, events));

    const schemaCases: Array<[unknown[], string]> = [
      [[x, y, { ...x, path: "batch/z", hashes: { sha256: "XYZ" } }], "events.2.hashes.sha256"],
      [[x, { ...y, length: -1 }], "events.1.length"],
      [[x, { ...y, path: "../escape" }], "events.1.path"],
      [[x, { ...y, custom: { score: 1.5 } }], "events.1.custom.score"],
      [[x, { ...y, hashes: {} }], "events.1.hashes"],
      [[x, { ...y, extra: true }], "events.1"],
      [[x, { type: "targets.explode", path: "batch/y" }], "events.1.type"],
      [[x, { type: "targets.yank", path: "base/present" }], "events.1.reason"],
      [[x, { type: "targets.yank", path: "base/present", reason: "" }], "events.1.reason"],
      [[x, x], "events.1"],
      [[], "events"],
    ];
    for (const [events, field] of schemaCases) {
      const problem = await expectProblem(await send(events), 400, "invalid_request");
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(events),
      ).toContain(field);
    }
    await expectProblem(await signedPost(repo, { kind: "hmac", secret }, "{not json"), 400, "invalid_request");
    const extraTop = await expectProblem(
      await signedPost(repo, { kind: "hmac", secret }, JSON.stringify({ repository: repo, events: [x], sneaky: 1 })),
      400,
      "invalid_request",
    );
    expect(extraTop.errors?.length).toBeGreaterThan(0);

    const stateCases: Array<[unknown[], RegExp]> = [
      [
        [x, y, { type: "targets.yank", path: "no/such", reason: "bad" }],
        /^events\.2 \(targets\.yank "no\/such"\): no such target/,
      ],
      [[x, { type: "targets.remove", path: "no/such" }], /^events\.1 \(targets\.remove/],
      [[x, { type: "targets.unyank", path: "no/such" }], /^events\.1 \(targets\.unyank/],
      // A batch names each path once: adding and yanking one path in one batch is refused.
      [
        [x, { type: "targets.yank", path: x.path, reason: "r" }],
        /events\.0 \(targets\.add\) and events\.1 \(targets\.yank\) both change "batch\/x": a batch changes each target path once/,
      ],
    ];
    for (const [events, detail] of stateCases) {
      const response = await send(events);
      const problem = await response.json<Problem>();
      expect([400, 409], JSON.stringify(problem)).toContain(response.status);
      expect(problem.detail).toMatch(detail);
    }
    expect(await state(client)).toEqual(before);
    expect((await publishedTarget(repo, x.path)).target).toBeUndefined();
    expect((await client.status()).pendingChanges).toBe(false);
  });
});

describe("async mode", () => {
  it("answers 202 with a Location to poll; the task reaches published", async () => {
    const repo = "wh-async";
    const { client, secret } = await withHmacRegistry(repo);
    const event = await addEvent("later/file");
    const response = await signedPost(repo, { kind: "hmac", secret }, batch(repo, [event]), {
      extra: { Prefer: "respond-async" },
    });
    const json = await response.json<{ task: TaskView; duplicate: boolean }>();
    expect(response.status, JSON.stringify(json)).toBe(202);
    expect(response.headers.get("Preference-Applied")).toBe("respond-async");
    expect(response.headers.get("Location")).toBe(`/${repo}/tasks/${json.task.id}`);
    // Where the answer's time went: the wait for the repository's object, the part of it inside the object, and
    // the Worker's whole handling.
    const timing = response.headers.get("Server-Timing") ?? "";
    const durations = Object.fromEntries(
      [...timing.matchAll(/(?:^|,\s*)([a-z]+);dur=([0-9.]+)/g)].map((m) => [m[1], Number(m[2])]),
    );
    expect(Object.keys(durations).sort(), timing).toEqual(["object", "repository", "total"]);
    expect(durations.object).toBeGreaterThanOrEqual(0);
    expect(durations.repository).toBeGreaterThanOrEqual(durations.object as number);
    expect(durations.total).toBeGreaterThanOrEqual(durations.repository as number);
    expect(json.task.id).toMatch(/^[0-9a-f]{32}$/);
    expect(["queued", "publishing"]).toContain(json.task.state);
    expect(json.duplicate).toBe(false);

    let task: TaskView = json.task;
    // Unless the push started a publish, the task would wait for the repository's next alarm (hours away).
    const deadline = Date.now() + 15_000;
    while (task.state !== "published" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const polled = await workerFetch(`${BASE}${response.headers.get("Location")}`);
      expect(polled.status).toBe(200);
      expect(polled.headers.get("Cache-Control")).toBe("no-store");
      task = await polled.json<TaskView>();
    }
    expect(task).toMatchObject({ id: json.task.id, state: "published", events: 1, versions: { timestamp: 2 } });
    expect((await publishedTarget(repo, event.path)).target).toBeDefined();
    expect((await client.status()).targetsCount).toBe(1);

    // An async upload is published the same way.
    const bytes = utf8("uploaded, answered at once");
    const upload = await registryClient(repo, { kind: "hmac", secret }).upload("later/upload.bin", bytes, {
      async: true,
    });
    expect(upload.status).toBe(202);
    for (
      let polls = 0;
      (await getJson<TaskView>(`/${repo}/tasks/${upload.task.id}`)).json.state !== "published";
      polls++
    ) {
      expect(polls).toBeLessThan(300);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await publishedTarget(repo, "later/upload.bin")).target).toEqual({
      length: bytes.length,
      hashes: { sha256: await sha256Hex(bytes) },
    });

    expect((await workerFetch(`${BASE}/${repo}/tasks/${"0".repeat(32)}`)).status).toBe(404);
    const malformed = await workerFetch(`${BASE}/${repo}/tasks/nope`);
    expect(malformed.status).toBe(404);
    expect(malformed.headers.get("Content-Type")).toBe("application/problem+json");
  }, 20_000);
});

describe("interop with the standardwebhooks package", () => {
  it("accepts a push signed by standardwebhooks' Webhook.sign", async () => {
    const repo = "wh-interop-in";
    const { client, secret } = await withHmacRegistry(repo);
    const event = await addEvent("interop/from-library");
    const body = batch(repo, [event]);
    const id = "msg_2Lz7YFZr4PAqKQQpsJtCk7V6eZ9";
    const date = new Date();
    const signature = new Webhook(secret).sign(id, date, body);
    const response = await post(repo, body, {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(date.getTime() / 1000)),
      "webhook-signature": signature,
    });
    expect(response.status).toBe(200);
    expect((await publishedTarget(repo, event.path)).target).toBeDefined();
    expect((await client.status()).targetsCount).toBe(1);
  });

  it("signPush's headers verify with standardwebhooks' Webhook.verify", async () => {
    const secret = `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
    const body = batch("any-repo", [await addEvent("interop/to-library")]);
    const headers = await signPush({ kind: "hmac", secret }, body, "msg_interop", nowSeconds());
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow(/No matching signature/);
    const other = `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow(/No matching signature/);
  });

  it("signPush imports an HMAC credential's key once for all its pushes, each signed as the library signs it", async () => {
    const secret = `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
    const credential: RegistryCredential = { kind: "hmac", secret };
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    try {
      for (const n of [1, 2, 3]) {
        const body = batch("any-repo", [await addEvent(`interop/key-once-${n}`)]);
        const headers = await signPush(credential, body, `msg_key_once_${n}`, nowSeconds());
        expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
      }
      expect(importKey).toHaveBeenCalledTimes(1);
      // A credential given a new secret in place signs with the new one.
      const rotated = `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
      credential.secret = rotated;
      const body = batch("any-repo", [await addEvent("interop/key-rotated")]);
      const headers = await signPush(credential, body, "msg_key_rotated", nowSeconds());
      expect(new Webhook(rotated).verify(body, headers)).toEqual(JSON.parse(body));
      expect(importKey).toHaveBeenCalledTimes(2);
    } finally {
      importKey.mockRestore();
    }
  });
});

describe("signed uploads", () => {
  const base64url = (text: string) => toBase64(utf8(text)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  /** A PUT /{repo}/uploads/{path} with a manifest signed by `credential` (or unsigned if null). */
  async function uploadRequest(
    repo: string,
    path: string,
    manifest: Record<string, unknown>,
    bytes: Uint8Array<ArrayBuffer>,
    credential: RegistryCredential | null,
    id = `msg_${crypto.randomUUID()}`,
  ) {
    const json = JSON.stringify(manifest);
    const signed = credential ? await signPush(credential, json, id, nowSeconds()) : {};
    return workerFetch(`${BASE}/${repo}/uploads/${path}`, {
      method: "PUT",
      headers: { ...signed, "Upload-Manifest": base64url(json), "Content-Type": "application/octet-stream" },
      body: bytes,
    });
  }

  /** The stored target objects, but for the log's verifier key (a target tuf-edge stores itself). */
  async function objects(repo: string) {
    const keys = (await env.BUCKET.list({ prefix: `${repo}/targets/` })).objects.map((o) => o.key);
    return keys.filter((k) => !k.startsWith(`${repo}/targets/tuf-edge/`));
  }

  it("stores a signed upload under its sha256 and serves it", async () => {
    const repo = "wh-upload";
    const { client, registry } = await withHmacRegistry(repo);
    const bytes = utf8("#!/bin/sh\necho uploaded by a registry\n");
    const sha = await sha256Hex(bytes);
    const result = await registry.upload("tools/install.sh", bytes, { custom: { arch: "any" } });
    expect(result).toMatchObject({ status: 200, duplicate: false, task: { state: "published", events: 1 } });
    const served = await workerFetch(`${BASE}/${repo}/targets/tools/${sha}.install.sh`);
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    expect((await publishedTarget(repo, "tools/install.sh")).target).toEqual({
      length: bytes.length,
      hashes: { sha256: sha },
      custom: { arch: "any" },
    });
    expect(await objects(repo)).toEqual([`${repo}/targets/tools/${sha}.install.sh`]);
    expect((await client.status()).targetsCount).toBe(1);

    // Redelivery: same task, nothing new.
    const again = await registry.upload("tools/install.sh", bytes, { custom: { arch: "any" }, id: "msg_upl" });
    const dup = await registry.upload("tools/install.sh", bytes, { custom: { arch: "any" }, id: "msg_upl" });
    expect(dup).toMatchObject({ duplicate: true, task: { id: again.task.id } });
  });

  it("an upload id redelivered with another manifest is a conflict (409) and stores no bytes", async () => {
    const repo = "wh-upload-redelivered";
    const { registry } = await withHmacRegistry(repo);
    const first = await registry.upload("d/first.bin", utf8("first bytes"), { id: "msg_same_upload" });
    await expect(registry.upload("d/second.bin", utf8("other bytes"), { id: "msg_same_upload" })).rejects.toMatchObject(
      { status: 409, problem: { code: "delivery_conflict" } },
    );
    const again = await registry.upload("d/first.bin", utf8("first bytes"), { id: "msg_same_upload" });
    expect(again).toMatchObject({ duplicate: true, task: { id: first.task.id } });
    expect(await objects(repo)).toEqual([`${repo}/targets/d/${await sha256Hex(utf8("first bytes"))}.first.bin`]);
  });

  it("refuses bytes that do not match the manifest's sha256 (422), storing and listing nothing", async () => {
    const repo = "wh-upload-mismatch";
    const { client, secret } = await withHmacRegistry(repo);
    const before = await state(client);
    const claimed = utf8("the bytes the registry signed");
    const sent = utf8("the bytes an attacker swapped");
    expect(sent.length).toBe(claimed.length);
    const manifest = {
      repository: repo,
      path: "dist/app.bin",
      length: claimed.length,
      sha256: await sha256Hex(claimed),
    };
    const response = await uploadRequest(repo, "dist/app.bin", manifest, sent, { kind: "hmac", secret });
    await expectProblem(response, 422, "digest_mismatch");
    expect(await objects(repo)).toEqual([]);
    expect(await state(client)).toEqual(before);
    expect((await publishedTarget(repo, "dist/app.bin")).target).toBeUndefined();
  });

  it("refuses a body whose length is not the manifest's (400), and unsigned uploads (401)", async () => {
    const repo = "wh-upload-refused";
    const { client, secret } = await withHmacRegistry(repo);
    const credential = { kind: "hmac", secret } as const;
    const before = await state(client);
    const bytes = utf8("twelve bytes");
    const sha256 = await sha256Hex(bytes);

    const longer = await uploadRequest(
      repo,
      "a/b.bin",
      { repository: repo, path: "a/b.bin", length: bytes.length + 1, sha256 },
      bytes,
      credential,
    );
    const problem = await expectProblem(longer, 400, "invalid_request");
    expect(problem.detail).toMatch(/Content-Length/);
    const shorter = await uploadRequest(
      repo,
      "a/b.bin",
      { repository: repo, path: "a/b.bin", length: bytes.length - 1, sha256 },
      bytes,
      credential,
    );
    await expectProblem(shorter, 400, "invalid_request");

    const manifest = { repository: repo, path: "a/b.bin", length: bytes.length, sha256 };
    await expectProblem(await uploadRequest(repo, "a/b.bin", manifest, bytes, null), 401, "unsigned");
    const noManifest = await workerFetch(`${BASE}/${repo}/uploads/a/b.bin`, { method: "PUT", body: bytes });
    await expectProblem(noManifest, 401, "unsigned");
    const forged = { kind: "hmac", secret: `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}` } as const;
    await expectProblem(await uploadRequest(repo, "a/b.bin", manifest, bytes, forged), 401, "invalid_signature");
    // The manifest's path must be the URL's.
    await expectProblem(await uploadRequest(repo, "a/other.bin", manifest, bytes, credential), 400, "invalid_request");
    // For another repository.
    await expectProblem(
      await uploadRequest(repo, "a/b.bin", { ...manifest, repository: "wh-elsewhere" }, bytes, credential),
      403,
      "wrong_repository",
    );

    expect(await objects(repo)).toEqual([]);
    expect(await state(client)).toEqual(before);
  });

  it("refuses an upload that would change a published target's bytes before storing them (409)", async () => {
    const repo = "wh-upload-immutable";
    const { client, registry, secret } = await withHmacRegistry(repo);
    await registry.upload("rel/v1.bin", utf8("version one"));
    const before = await state(client);
    const other = utf8("version two");
    const manifest = { repository: repo, path: "rel/v1.bin", length: other.length, sha256: await sha256Hex(other) };
    await expectProblem(
      await uploadRequest(repo, "rel/v1.bin", manifest, other, { kind: "hmac", secret }),
      409,
      "immutable_target",
    );
    expect(await objects(repo)).toEqual([`${repo}/targets/rel/${await sha256Hex(utf8("version one"))}.v1.bin`]);
    expect(await state(client)).toEqual(before);
  });
});
