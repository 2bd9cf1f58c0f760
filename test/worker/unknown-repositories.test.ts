/**
 * Unauthenticated requests cost nothing (issue 10, class 6): a request naming a
 * repository that does not exist is answered from the directory of
 * repositories (src/storage/repository-directory.ts) without creating a
 * Durable Object, whatever route it asks for. Objects are counted with the
 * runtime's own list of the namespace's objects.
 */
import { env } from "cloudflare:workers";
import { listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signPush } from "../../scripts/lib/registry-client.ts";
import { toBase64, utf8 } from "../../src/lib/bytes.ts";
import { adminClient, BASE, bootstrapped, workerFetch } from "./helpers.ts";

const HEX64 = "ab".repeat(32);

/** One unauthenticated request of each kind that reaches a repository's object, for repository `repo`. */
async function probes(repo: string): Promise<Array<[string, RequestInit?]>> {
  const body = JSON.stringify({ repository: repo, events: [{ type: "targets.remove", path: "a" }] });
  const signed = await signPush(
    { kind: "hmac", secret: "whsec_AAAA" },
    body,
    `msg_${repo}`,
    Math.floor(Date.now() / 1000),
  );
  const manifest = JSON.stringify({ repository: repo, path: "a.bin", length: 1, sha256: HEX64 });
  const encoded = toBase64(utf8(manifest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return [
    [`/${repo}/tasks/${"0".repeat(32)}`],
    [`/${repo}/webhooks/registry`, { method: "POST", headers: signed, body }],
    [`/${repo}/webhooks/registry/npm`, { method: "POST", headers: signed, body }],
    [
      `/${repo}/uploads/a.bin`,
      { method: "PUT", headers: { ...signed, "Upload-Manifest": encoded, "Content-Length": "1" }, body: "x" },
    ],
    [`/${repo}/attestations/a.bin`],
    [`/${repo}/attestation-bundles/${HEX64}.json`],
    [`/${repo}/-/npm/v1/attestations/a@1.0.0`],
    [`/${repo}/integrity/a/1.0/a-1.0.tar.gz/provenance`],
    [`/${repo}/log/proof/inclusion?index=0`],
    [`/${repo}/log/proof/consistency?from=1&to=2`],
    [`/${repo}/log/cosignatures`, { method: "POST", body: "not a checkpoint" }],
    [`/${repo}/log/checkpoint`],
    [`/${repo}/targets/${HEX64}${HEX64}.a.bin`],
    [`/${repo}/targets/${HEX64}.a.bin`],
    [`/${repo}/metadata/timestamp.json`],
    [`/${repo}/health`],
  ];
}

describe("class 6: requests for unknown repositories create nothing", () => {
  it("1,000 requests naming repositories that do not exist create zero Durable Objects", async () => {
    await bootstrapped("directory-existing"); // at least one real repository beside the unknown ones
    const before = await listDurableObjectIds(env.REPOSITORY);
    const requests: Array<[string, RequestInit?]> = [];
    for (let i = 0; requests.length < 1000; i++) requests.push(...(await probes(`ghost-${i}`)));
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i += 50) {
      const responses = await Promise.all(
        requests.slice(i, i + 50).map(async ([path, init]) => {
          const response = await workerFetch(BASE + path, init);
          await response.arrayBuffer();
          return response.status;
        }),
      );
      for (const status of responses) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const after = await listDurableObjectIds(env.REPOSITORY);
    expect(after.map((id) => id.toString()).sort()).toEqual(before.map((id) => id.toString()).sort());
    expect(
      [...statuses.keys()].every((s) => s >= 400 && s < 500),
      JSON.stringify([...statuses]),
    ).toBe(true);
    expect((await env.BUCKET.list({ prefix: "ghost-" })).objects).toEqual([]);
  });

  it("answers 404 unknown_repository, and serves the repository once an admin created it", async () => {
    const repo = "directory-late";
    const task = `/${repo}/tasks/${"0".repeat(32)}`;
    const unknown = await workerFetch(BASE + task);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "unknown_repository" });
    await adminClient(repo).onlineKey();
    const known = await workerFetch(BASE + task);
    expect(known.status).toBe(404);
    expect(await known.json()).toMatchObject({ code: "not_found", detail: `no task ${"0".repeat(32)}` });
    expect(await env.BUCKET.head(`${repo}/repository.json`)).not.toBeNull();
  });
});
