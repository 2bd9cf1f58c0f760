/**
 * Quarantine: a target taken out of the published metadata, its bytes and
 * attestations kept but not served, listed for operators, then released
 * (listed again with the same entry) or removed; immutability holds
 * throughout, and every step is in the transparency log and the audit log.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { AuditLog } from "../../durable-objects/audit-log.ts";
import { Quarantine } from "../../durable-objects/quarantine.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { TargetsIndex } from "../../durable-objects/targets-index.ts";
import { TransparencyLog } from "../../durable-objects/transparency-log.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { describe, expect, it } from "vitest";
import { decodeEntry, type LogEntry } from "../../src/log/entry.ts";
import { decodeEntryBundle } from "../../src/log/tiles.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import type { AdminApiError } from "../../scripts/lib/admin-client.ts";
import { ARTIFACTS, PEP740 } from "../unit/attestations/material.ts";
import { BASE, getJson, publishedTarget, withHmacRegistry, workerFetch } from "./helpers.ts";

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("not refused");
    },
    (e: AdminApiError) => ({ status: e.status, code: e.problem.code, detail: e.problem.detail }),
  );

/** The transparency log's entries about `path`, as a monitor reads them from the served tiles. */
async function logEntries(repo: string, path: string): Promise<string[]> {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const size: number = ts.signed["x-tuf-edge-log"].size;
  const entries: LogEntry[] = [];
  for (let n = 0; n * 256 < size; n++) {
    const width = Math.min(256, size - n * 256);
    const name = `${String(n).padStart(3, "0")}${width < 256 ? `.p/${width}` : ""}`;
    const bundle = await workerFetch(`${BASE}/${repo}/log/tile/entries/${name}`);
    entries.push(...decodeEntryBundle(new Uint8Array(await bundle.arrayBuffer())).map(decodeEntry));
  }
  return entries.filter((e) => "path" in e && e.path === path).map((e) => e.type);
}

const admin = (path: string) => workerFetch(BASE + path, { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } });

describe("quarantine", () => {
  it("takes a target out of the metadata and serving, keeps it for review, and releases it unchanged", async () => {
    const repo = "quar-basic";
    const { client, registry } = await withHmacRegistry(repo, { bins: 4 });
    const path = "pkg/evil-1.0.tgz";
    const bytes = utf8("definitely not malware");
    const sha256 = await sha256Hex(bytes);
    await client.upload(path, bytes);
    const listed = (await publishedTarget(repo, path, 4)).target;
    expect(listed).toEqual({ length: bytes.length, hashes: { sha256 } });
    const url = `${BASE}/${repo}/targets/pkg/${sha256}.evil-1.0.tgz`;
    expect(await (await workerFetch(url)).text()).toBe("definitely not malware"); // now in the edge cache too

    const pushed = await registry.push([
      { type: "targets.quarantine", path, reason: "reported as malware", reference: "MAL-2026-0042" },
    ]);
    expect(pushed.task.state).toBe("published");

    // Gone from the metadata and from serving (the edge cache too).
    expect((await publishedTarget(repo, path, 4)).target).toBeUndefined();
    expect((await workerFetch(url)).status).toBe(404);

    // Listed for operators; the bytes are kept for review.
    const { quarantined } = await client.quarantined();
    expect(quarantined).toEqual([
      expect.objectContaining({
        path,
        length: bytes.length,
        hashes: { sha256 },
        reason: "reported as malware",
        reference: "MAL-2026-0042",
        by: "registry registry",
        bytesHidden: true,
      }),
    ]);
    const kept = await admin(`/${repo}/admin/quarantine/files/${path}`);
    expect(kept.status).toBe(200);
    expect(await kept.text()).toBe("definitely not malware");
    expect((await workerFetch(`${BASE}/${repo}/admin/quarantine/files/${path}`)).status).toBe(401);
    // The quarantine prefix is not reachable through any public route.
    expect((await workerFetch(`${BASE}/${repo}/targets/quarantine/targets/pkg/${sha256}.evil-1.0.tgz`)).status).toBe(
      404,
    );

    // Immutability: the path cannot be published again, with these bytes or others, nor yanked.
    const other = await sha256Hex(utf8("other"));
    for (const event of [
      { type: "targets.add" as const, path, length: 5, hashes: { sha256: other } },
      { type: "targets.add" as const, path, length: bytes.length, hashes: { sha256 } },
      { type: "targets.yank" as const, path, reason: "x" },
    ]) {
      const refused = await refusal(registry.push([event]));
      expect(refused).toMatchObject({ status: 409, code: "quarantined_target" });
    }
    expect((await refusal(client.changeTargets({ add: [{ path, length: 5, hashes: { sha256: other } }] }))).code).toBe(
      "quarantined_target",
    );

    // Released by an operator: listed again with exactly the same entry, served again.
    const released = await client.settleQuarantine("release", path, "alice@example.com");
    expect(released.state).toBe("released");
    expect((await publishedTarget(repo, path, 4)).target).toEqual(listed);
    expect(await (await workerFetch(url)).text()).toBe("definitely not malware");
    expect((await client.quarantined()).quarantined).toEqual([]);
    // …and the path still never changes its bytes.
    expect(
      (await refusal(registry.push([{ type: "targets.add", path, length: 5, hashes: { sha256: other } }]))).code,
    ).toBe("immutable_target");

    // Both steps are in the transparency log, and the audit log says who.
    expect(await logEntries(repo, path)).toEqual(["target.add", "target.quarantine", "target.release"]);
    const { events } = await client.events();
    const audit = events.filter((e) => e.kind.startsWith("target-")).map((e) => e.detail);
    expect(audit).toEqual([
      `"${path}" (sha256 ${sha256}) by operator (alice@example.com)`,
      `"${path}" (sha256 ${sha256}) by registry registry: reported as malware [MAL-2026-0042]`,
    ]);
  });

  it("removes a quarantined target for good: its kept bytes are deleted, its digest stays bound", async () => {
    const repo = "quar-remove";
    const { client } = await withHmacRegistry(repo, { bins: 4 });
    const path = "pkg/bad.tgz";
    const bytes = utf8("bad bytes");
    const sha256 = await sha256Hex(bytes);
    await client.upload(path, bytes);
    await client.quarantine({ path, reason: "typosquat", by: "bob" });
    expect((await client.quarantined()).quarantined[0]).toMatchObject({ path, by: "operator (bob)" });
    const removed = await client.settleQuarantine("remove", path);
    expect(removed.state).toBe("removed");
    expect((await client.quarantined()).quarantined).toEqual([]);
    expect((await admin(`/${repo}/admin/quarantine/files/${path}`)).status).toBe(404);
    expect(await env.BUCKET.head(`${repo}/quarantine/targets/pkg/${sha256}.bad.tgz`)).toBeNull();
    expect(await env.BUCKET.head(`${repo}/targets/pkg/${sha256}.bad.tgz`)).toBeNull();
    expect((await publishedTarget(repo, path, 4)).target).toBeUndefined();
    expect(await logEntries(repo, path)).toEqual(["target.add", "target.quarantine", "target.remove"]);
    // Another digest under the same path: refused forever.
    const other = await sha256Hex(utf8("other"));
    expect((await refusal(client.changeTargets({ add: [{ path, length: 5, hashes: { sha256: other } }] }))).code).toBe(
      "immutable_target",
    );
  });

  it("hides a quarantined target's attestations and lists them again on release", async () => {
    const repo = "quar-att";
    const { client, registry } = await withHmacRegistry(repo);
    const policy = await workerFetch(`${BASE}/${repo}/admin/attestation-policy`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ flavour: "pypi" }),
    });
    expect(policy.status).toBe(200);
    const path = "packages/pypi_attestations-0.0.19.tar.gz";
    const text = JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]);
    const sha = ARTIFACTS["pypi_attestations-0.0.19.tar.gz"].sha256;
    await registry.push([
      { type: "targets.add", path, length: 29882, hashes: { sha256: sha } },
      { type: "attestations.add", path, bundle: text },
    ]);
    const bundleUrl = `${BASE}/${repo}/attestation-bundles/${await sha256Hex(utf8(text))}.json`;
    expect((await workerFetch(bundleUrl)).status).toBe(200);

    await registry.push([{ type: "targets.quarantine", path, reason: "compromised publisher" }]);
    expect((await workerFetch(bundleUrl)).status).toBe(404);
    expect((await getJson(`/${repo}/attestations/${path}`)).json.attestations).toEqual([]);
    expect((await client.quarantined()).quarantined[0]).toMatchObject({ path, attestations: 1 });
    // Attestations cannot be added to it meanwhile: it is not a listed target.
    expect(await refusal(registry.push([{ type: "attestations.add", path, bundle: text }]))).toMatchObject({
      status: 409,
      code: "unknown_target",
    });

    await registry.push([{ type: "targets.release", path }]);
    expect(await (await workerFetch(bundleUrl)).text()).toBe(text);
    expect((await getJson(`/${repo}/attestations/${path}`)).json.attestations).toHaveLength(1);
    expect((await publishedTarget(repo, path, 16)).target.custom.attestations).toHaveLength(1);
  });

  it("does not hide again the bytes a release under way restored; hides them if the release does not happen", async () => {
    const repo = "quar-race";
    const { client } = await withHmacRegistry(repo, { bins: 2 });
    const path = "pkg/x.tgz";
    const bytes = utf8("x bytes");
    const sha256 = await sha256Hex(bytes);
    await client.upload(path, bytes);
    await client.quarantine({ path, reason: "check" });
    const publicKey = `${repo}/targets/pkg/${sha256}.x.tgz`;
    expect(await env.BUCKET.head(publicKey)).toBeNull();
    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const sql = state.storage.sql;
      const quarantine = new Quarantine({
        sql,
        index: new TargetsIndex(sql),
        log: new TransparencyLog({
          sql,
          kv: state.storage.kv,
          sealer: new Sealer(env.KEY_ENCRYPTION_KEY),
          origin: `x/${repo}`,
        }),
        audit: new AuditLog(sql, repo),
        bucket: new RepositoryBucket(env.BUCKET, repo),
        repo,
        purge: async () => undefined,
        publishLog: () => undefined,
      });
      // A release restores the bytes before its transaction; a settle() from another request runs meanwhile.
      await quarantine.prepareRelease([path]);
      await quarantine.settle();
      expect(await env.BUCKET.head(publicKey)).not.toBeNull();
      // The release was refused after all: the next settle() takes the bytes out of reach again.
      quarantine.endRelease([path]);
      await quarantine.settle();
      expect(await env.BUCKET.head(publicKey)).toBeNull();
    });
    expect((await client.quarantined()).quarantined[0]).toMatchObject({ path, bytesHidden: true });
  });

  it("refuses what does not apply, changing nothing", async () => {
    const repo = "quar-refuse";
    const { client, registry } = await withHmacRegistry(repo, { bins: 2 });
    const before = (await getJson(`/${repo}/metadata/timestamp.json`)).json.signed.version;
    expect(await refusal(client.quarantine({ path: "nope.tgz", reason: "x" }))).toMatchObject({
      status: 409,
      code: "unknown_target",
    });
    expect(await refusal(client.settleQuarantine("release", "nope.tgz"))).toMatchObject({
      status: 409,
      code: "not_quarantined",
    });
    expect(await refusal(client.settleQuarantine("remove", "nope.tgz"))).toMatchObject({ code: "not_quarantined" });
    expect((await refusal(registry.push([{ type: "targets.release", path: "nope.tgz" }]))).code).toBe(
      "not_quarantined",
    );
    // A reason is required; paths are validated.
    expect((await refusal(client.quarantine({ path: "a.tgz", reason: "" }))).status).toBe(400);
    expect((await refusal(client.quarantine({ path: "../a.tgz", reason: "x" }))).status).toBe(400);
    expect((await getJson(`/${repo}/metadata/timestamp.json`)).json.signed.version).toBe(before);
  });
});
