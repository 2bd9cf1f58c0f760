/**
 * Issue 10: inputs that broke the promises a TUF repository keeps. One named
 * test per class of defect; each failed on the code before its fix. Every
 * refusal is checked to have changed nothing a client can see.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AdminApiError } from "../../scripts/lib/admin-client.ts";
import { defined } from "../../scripts/lib/defined.ts";
import type { TargetEvent } from "../../src/schemas/webhook.ts";
import { MAX_TARGET_PATH_BYTES } from "../../src/schemas/target-path.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { canonicalByUtf8 } from "../unit/helpers.ts";
import { BASE, bootstrapped, getJson, publishedTarget, withHmacRegistry, workerFetch } from "./helpers.ts";

const hashOf = (text: string) => sha256Hex(utf8(text));
const entry = async (path: string, length = 3) => ({ path, length, hashes: { sha256: await hashOf(path) } });

/** What a client can see: the published timestamp's bytes (they pin everything else) and the stored targets. */
async function visible(repo: string): Promise<string> {
  const timestamp = await (await workerFetch(`${BASE}/${repo}/metadata/timestamp.json`)).text();
  const listing = await env.BUCKET.list({ prefix: `${repo}/targets/` });
  return JSON.stringify([timestamp, listing.objects.map((o) => o.key)]);
}

/** The refusal a call ends in (it must be one). */
async function refusal(call: Promise<unknown>): Promise<AdminApiError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdminApiError);
  return error as AdminApiError;
}

/** Expects each call to be refused with `status` and a problem naming `field`, and nothing to change. */
async function expectRefused(
  repo: string,
  cases: Array<{ call: () => Promise<unknown>; field: string; message?: RegExp }>,
  status = 400,
) {
  const before = await visible(repo);
  for (const { call, field, message } of cases) {
    const error = await refusal(call());
    expect(error.status, error.message).toBe(status);
    const errors = (error.problem.errors ?? []) as Array<{ path: string; message: string }>;
    expect(
      errors.map((e) => e.path),
      error.message,
    ).toContain(field);
    if (message) expect(defined(errors.find((e) => e.path === field)).message).toMatch(message);
  }
  expect(await visible(repo)).toBe(before);
}

const add = async (path: string, extra: Partial<Extract<TargetEvent, { type: "targets.add" }>> = {}) =>
  ({ type: "targets.add", ...(await entry(path)), ...extra }) as TargetEvent;

describe("class 1: strings are well-formed Unicode, paths are NFC", () => {
  it("refuses lone surrogates in paths, custom keys and values at any depth, and reasons, naming the field", async () => {
    const repo = "hi-surrogates";
    const { client, registry } = await withHmacRegistry(repo, { bins: 4 });
    await registry.push([await add("ok/a")]);
    await expectRefused(repo, [
      { call: async () => registry.push([await add("pkg/\ud800.tgz")]), field: "events.0.path", message: /lone/ },
      { call: async () => registry.push([await add("pkg/\udfff")]), field: "events.0.path" },
      {
        call: async () => registry.push([await add("ok/b", { custom: { deep: { list: ["x", "\ud83d"] } } })]),
        field: "events.0.custom.deep.list.1",
      },
      {
        call: async () => registry.push([await add("ok/b", { custom: { "k\udc00": 1 } })]),
        field: "events.0.custom.k\udc00",
      },
      {
        call: () => registry.push([{ type: "targets.yank", path: "ok/a", reason: "bad \ud800" }]),
        field: "events.0.reason",
      },
      { call: async () => client.changeTargets({ add: [await entry("x/\ud800")] }), field: "add.0.path" },
      { call: () => client.changeTargets({ remove: ["x/\udbff"] }), field: "remove.0" },
    ]);
    // What was acknowledged is what is published: the one valid path, byte for byte.
    const { path: _, ...published } = await entry("ok/a");
    expect((await publishedTarget(repo, "ok/a", 4)).target).toEqual(published);
  });

  it("refuses a path that is not NFC, giving its NFC form; two look-alike paths cannot both exist", async () => {
    const repo = "hi-nfc";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const composed = "caf\u00e9/readme.txt";
    await client.changeTargets({ add: [await entry(composed)] });
    const error = await refusal(client.changeTargets({ add: [await entry("cafe\u0301/readme.txt")] }));
    expect(error.status).toBe(400);
    expect(error.problem.detail).toContain(`send "${composed}"`);
    expect((await client.status()).targetsCount).toBe(1);
    expect((await publishedTarget(repo, composed, 4)).target).toBeDefined();
  });
});

describe("class 2: no control, format or invisible characters in paths", () => {
  it("refuses C0, C1, U+2028/2029, bidi overrides and isolates, zero-width characters and U+FEFF", async () => {
    const repo = "hi-controls";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const hostile = [
      "a\u0001b",
      "a\u0085b",
      "a\u009fb",
      "a\u2028b",
      "a\u2029b",
      "a\u202eb",
      "a\u202ab",
      "a\u2066b",
      "a\u2069b",
      "a\u200bb",
      "a\u200fb",
      "a\ufeffb",
      "a\u00adb",
      "a\u{e0001}b",
    ];
    await expectRefused(
      repo,
      hostile.map((path) => ({
        call: async () => client.changeTargets({ add: [await entry(path)] }),
        field: "add.0.path",
        message: /control, format|U\+E000/,
      })),
    );
    // Visible non-ASCII stays allowed.
    await client.changeTargets({ add: [await entry("übung/日本語/😀.txt")] });
  });
});

describe("class 3: a published {length, hashes} never changes", () => {
  it("refuses another length or an extra hash algorithm with 409 showing the published values; the identical entry is a no-op", async () => {
    const repo = "hi-immutable";
    const { client, registry } = await withHmacRegistry(repo, { bins: 4 });
    const original = await add("lib/a-1.0.tgz", { length: 5 });
    await registry.push([original]);
    const published = (await publishedTarget(repo, "lib/a-1.0.tgz", 4)).target;
    const before = await visible(repo);
    const sha256 = await hashOf("lib/a-1.0.tgz");
    for (const changed of [
      { ...original, length: 6 },
      { ...original, hashes: { sha256, sha512: "a".repeat(128) } },
    ] as TargetEvent[]) {
      const error = await refusal(registry.push([changed]));
      expect(error.status).toBe(409);
      expect(error.problem.code).toBe("immutable_target");
      expect(error.problem.detail).toContain(`{"length":5,"hashes":{"sha256":"${sha256}"}}`);
    }
    // The operator API is held to the same rule, before and after a removal.
    const operator = await refusal(
      client.changeTargets({ add: [{ path: "lib/a-1.0.tgz", length: 7, hashes: { sha256 } }] }),
    );
    expect(operator.status).toBe(409);
    expect(await visible(repo)).toBe(before);
    expect((await publishedTarget(repo, "lib/a-1.0.tgz", 4)).target).toEqual(published);

    expect((await registry.push([original])).status).toBe(200);
    expect((await publishedTarget(repo, "lib/a-1.0.tgz", 4)).target).toEqual(published);
    await registry.push([{ type: "targets.remove", path: "lib/a-1.0.tgz" }]);
    expect((await refusal(registry.push([{ ...original, length: 6 } as TargetEvent]))).status).toBe(409);
    await registry.push([original]);
    expect((await publishedTarget(repo, "lib/a-1.0.tgz", 4)).target).toEqual(published);
  });

  it("an operator upload of the published bytes under another length is refused before anything is stored", async () => {
    const repo = "hi-immutable-upload";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const bytes = utf8("hello");
    await client.upload("f/hello.txt", bytes);
    const error = await refusal(
      client.changeTargets({ add: [{ path: "f/hello.txt", length: 4, hashes: { sha256: await sha256Hex(bytes) } }] }),
    );
    expect(error.status).toBe(409);
    expect(error.problem.detail).toContain('"length":5');
  });
});

describe("class 8: one path-length rule, so every derived key fits R2's limit", () => {
  it(`takes paths up to ${MAX_TARGET_PATH_BYTES} bytes of UTF-8 end to end, with the longest repository name`, async () => {
    const repo = `x${"-".repeat(61)}y`;
    expect(repo).toHaveLength(63);
    const { client } = await bootstrapped(repo, { bins: 4 });
    // Two-byte characters: the rule counts bytes, not characters.
    const path = `d/${"é".repeat((MAX_TARGET_PATH_BYTES - 2) / 2)}`;
    expect(utf8(path).length).toBe(MAX_TARGET_PATH_BYTES);
    const bytes = utf8("longest");
    const sha256 = await sha256Hex(bytes);
    expect(utf8(new RepositoryBucket(env.BUCKET, repo).targetKey(path, sha256)).length).toBeLessThanOrEqual(1024);
    await client.upload(path, bytes);
    const url = `${BASE}/${repo}/targets/d/${sha256}.${encodeURIComponent(path.slice(2))}`;
    const response = await workerFetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("longest");

    const tooLong = `${path}é`;
    await expectRefused(repo, [
      {
        call: async () => client.changeTargets({ add: [await entry(tooLong)] }),
        field: "add.0.path",
        message: /at most 800 bytes/,
      },
    ]);
  });

  it("answers 404, never 500, for target names too long for a storage key, or not valid UTF-8", async () => {
    const repo = "hi-long-get";
    await bootstrapped(repo, { bins: 4 });
    const sha = "a".repeat(64);
    for (const name of ["x".repeat(1000), "x".repeat(5000), "%ED%A0%80", "%FF%FE", "a%E2%80%AEb"]) {
      for (const hash of [sha, "b".repeat(128)]) {
        const response = await workerFetch(`${BASE}/${repo}/targets/dir/${hash}.${name}`);
        expect(response.status, name).toBe(404);
        expect(response.headers.get("Content-Type")).toBe("application/problem+json");
      }
    }
  });

  it("refuses a too-long registry upload with 400 naming the path, not a misleading 422 digest_mismatch", async () => {
    const repo = "hi-long-upload";
    const { registry } = await withHmacRegistry(repo, { bins: 4 });
    await expectRefused(repo, [
      {
        call: () => registry.upload(`p/${"x".repeat(900)}`, utf8("bytes")),
        field: "path",
        message: /at most 800 bytes/,
      },
    ]);
  });
});

describe("class 9: small ones", () => {
  it("accepts the bearer scheme in any case (RFC 9110)", async () => {
    const repo = "hi-bearer";
    await bootstrapped(repo, { bins: 4 });
    for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
      const response = await workerFetch(`${BASE}/${repo}/admin/status`, {
        headers: { Authorization: `${scheme} ${env.ADMIN_TOKEN}` },
      });
      expect(response.status, scheme).toBe(200);
    }
    const wrong = await workerFetch(`${BASE}/${repo}/admin/status`, {
      headers: { Authorization: `Basic ${env.ADMIN_TOKEN}` },
    });
    expect(wrong.status).toBe(401);
  });

  it("refuses a custom key __proto__ at any depth instead of dropping it", async () => {
    const repo = "hi-proto";
    const { client, registry } = await withHmacRegistry(repo, { bins: 4 });
    const proto = (value: unknown) => JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`) as Record<string, unknown>;
    await expectRefused(repo, [
      {
        call: async () => registry.push([await add("p/a", { custom: proto({ polluted: 1 }) })]),
        field: "events.0.custom.__proto__",
        message: /__proto__/,
      },
      {
        call: async () => client.changeTargets({ add: [{ ...(await entry("p/b")), custom: { x: proto(1) } }] }),
        field: "add.0.custom.x.__proto__",
      },
    ]);
  });

  it("publishes a target whose path is __proto__ (or constructor, toString) instead of dropping it from the bin", async () => {
    const repo = "hi-proto-path";
    const { registry } = await withHmacRegistry(repo, { bins: 4 });
    const paths = ["__proto__", "constructor", "toString", "hasOwnProperty"];
    await registry.push(await Promise.all(paths.map((path) => add(path))));
    for (const path of paths) {
      const { target } = await publishedTarget(repo, path, 4);
      expect(Object.hasOwn(target ?? {}, "length"), path).toBe(true);
      expect(target, path).toEqual({ length: 3, hashes: { sha256: await hashOf(path) } });
    }
  });

  it("refuses an operator upload whose path had dot segments (normalised out of the URL) with 400", async () => {
    const repo = "hi-dots";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const bytes = utf8("dots");
    const sha256 = await sha256Hex(bytes);
    const before = await visible(repo);
    for (const [url, query] of [
      ["dir/../x.txt", ""],
      ["dir/%2e%2e/x.txt", ""],
      ["dir/../x.txt", "&path=dir/../x.txt"],
      ["dir/%2E%2E/x.txt", "&path=dir/%2E%2E/x.txt"],
      ["x.txt", "&path=dir/../x.txt"],
    ]) {
      const response = await workerFetch(`${BASE}/${repo}/admin/targets/${url}?sha256=${sha256}${query}`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
        body: bytes,
      });
      expect(response.status, `${url} ${query}`).toBe(400);
    }
    expect(await visible(repo)).toBe(before);
    expect((await client.status()).targetsCount).toBe(0);
    // The path said twice, the same way: stored and published.
    await client.upload("dir/x.txt", bytes);
    expect((await publishedTarget(repo, "dir/x.txt", 4)).target).toEqual({ length: 4, hashes: { sha256 } });
  });
});

describe("class 10: canonical JSON key order is the same in every client", () => {
  it('refuses keys that sort differently by UTF-16 code unit and by code point ("\\uFB01" vs "\\u{1F600}")', async () => {
    const repo = "hi-key-order";
    const { client, registry } = await withHmacRegistry(repo, { bins: 4 });
    await expectRefused(repo, [
      {
        call: async () => registry.push([await add("p/a", { custom: { "\ufb01": 1, "\u{1f600}": 2 } })]),
        field: "events.0.custom.\ufb01",
        message: /U\+FB01/,
      },
      {
        call: async () => client.changeTargets({ add: [{ ...(await entry("p/b")), custom: { n: { "\uffff": 1 } } }] }),
        field: "add.0.custom.n.\uffff",
      },
      { call: async () => client.changeTargets({ add: [await entry("p/\ufb01")] }), field: "add.0.path" },
    ]);
    // Astral keys beside BMP ones below U+E000 order the same everywhere: accepted, and the bin's signed
    // bytes are the same whether keys are sorted by code unit (tuf-js) or by code point (securesystemslib).
    await registry.push([await add("p/\u{1f600}", { custom: { "\u{1f600}": 2, z: 1, "\u00e9": 3, "\ud7ff": 4 } })]);
    await registry.push([await add("p/\ud7ff")]);
    const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
    const { json: snapshot } = await getJson(
      `/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`,
    );
    for (const [file, meta] of Object.entries(snapshot.signed.meta as Record<string, { version: number }>)) {
      const { json: role } = await getJson(`/${repo}/metadata/${meta.version}.${file}`);
      expect(canonicalByUtf8(role.signed), file).toBe(new TextDecoder().decode(canonicalBytes(role.signed)));
    }
  });
});
