/**
 * The deployment's Sigstore trusted root kept fresh through TUF
 * (durable-objects/sigstore-trust.ts): the real Durable Object and its
 * storage, tuf-edge's own TUF client, Sigstore's public-good TUF repository
 * as checked in under test/fixtures/sigstore-tuf (served by the test: no
 * network), and a repository verifying attestations with what was fetched.
 * The tests run in order: each starts from the trust the previous one left.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SigstoreTrust } from "../../durable-objects/sigstore-trust.ts";
import { sigstoreTrustStub } from "../../src/sigstore-trust-stub.ts";
import { PUBLIC_GOOD_TUF_URL, sourceFromEnv, type TufSource } from "../../durable-objects/sigstore-trust-source.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import type { FetchFile } from "../../src/tuf/client/updater.ts";
import { sign } from "../../src/tuf/metadata.ts";
import { draftRoot } from "../../src/tuf/root.ts";
import { snapshot } from "../../src/tuf/snapshot.ts";
import { binTargets } from "../../src/tuf/targets.ts";
import { timestamp } from "../../src/tuf/timestamp.ts";
import stagingBundle from "../unit/attestations/fixtures/corpus/conformance/rekor2-happy-path/bundle.sigstore.json";
import stagingTrustedRoot from "../unit/attestations/fixtures/corpus/conformance/rekor2-happy-path/trusted_root.json";
import publicGood from "../../src/attestations/trusted-roots/public-good.json";
import npmKeys from "../../src/attestations/trusted-roots/registry.npmjs.org-keys.json";
import { ARTIFACTS } from "../unit/attestations/material.ts";
import { FIRST_ROOT, root, STATES, serve, stateFile } from "../unit/client/sigstore-repository.ts";
import { ed25519Signers } from "../unit/helpers.ts";
import { BASE, withHmacRegistry, workerFetch } from "./helpers.ts";

const PUBLIC_GOOD_SHA256 = "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66";
const NPM_KEYS_SHA256 = "160677eb6e1c7083c89b166b20f8fe4e837fb71181506aff1991b80b89184f7d";
const OLDER_SHA256 = "f44a1b88128e55ebfb62189becbc0fa48d4ec9915c65ac54ba0e46a008b12d5b";

/** Sigstore's public-good repository, pinned at the oldest root the fixtures hold. */
const PUBLIC_GOOD: TufSource = { url: PUBLIC_GOOD_TUF_URL, root: root(FIRST_ROOT), bundledTrustedRoot: null };

function refresh(source: TufSource, fetchFile: FetchFile, now: Date) {
  return runInDurableObject(sigstoreTrustStub(env), (trust: SigstoreTrust) =>
    trust.refreshFrom(source, fetchFile, now),
  );
}

/**
 * A private Sigstore instance's TUF repository, made here with tuf-edge's own
 * signing code: one Ed25519 key for every role, its root v1 always the same;
 * timestamp, snapshot and targets at `version`, listing `targets` (name →
 * text). Its trusted root is a real one: sigstore-conformance's staging
 * instance with its Rekor v2 log.
 */
async function privateInstance(
  targets: Record<string, string>,
  version = 1,
): Promise<{ source: TufSource; fetchFile: FetchFile }> {
  const [key] = await ed25519Signers(41);
  const expires = "2036-01-01T00:00:00Z";
  const rootFile = await sign(
    await draftRoot({ version: 1, expires, rootKeys: [key.key], rootThreshold: 1, onlineKey: key.key }),
    [key],
  );
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const listed: Record<string, { length: number; hashes: { sha256: string } }> = {};
  for (const [name, text] of Object.entries(targets)) {
    const bytes = utf8(text);
    const sha256 = await sha256Hex(bytes);
    listed[name] = { length: bytes.length, hashes: { sha256 } };
    const slash = name.lastIndexOf("/");
    files.set(`targets/${name.slice(0, slash + 1)}${sha256}.${name.slice(slash + 1)}`, bytes);
  }
  const targetsFile = await sign(binTargets(version, expires, listed), [key]);
  const snap = await sign(snapshot(version, expires, [["targets", version]]), [key]);
  const ts = await sign(
    timestamp(version, expires, { version, length: snap.bytes.length, sha256: await sha256Hex(snap.bytes) }),
    [key],
  );
  files.set("timestamp.json", ts.bytes);
  files.set(`${version}.snapshot.json`, snap.bytes);
  files.set(`${version}.targets.json`, targetsFile.bytes);
  const fetchFile: FetchFile = async (kind, name) => files.get(kind === "target" ? `targets/${name}` : name) ?? null;
  return { source: { url: "https://tuf.sigstore.example", root: rootFile.bytes, bundledTrustedRoot: null }, fetchFile };
}

describe("Sigstore trusted root through TUF", () => {
  it("uses the bundled public-good trusted root while nothing has been fetched", async () => {
    const view = await sigstoreTrustStub(env).current();
    expect(view).toMatchObject({ source: "bundled", rootVersion: null, lastSuccess: null });
    expect(JSON.parse(view.trustedRoot ?? "")).toEqual(publicGood);
    expect(view.sha256).toBe(await sha256Hex(utf8(view.trustedRoot ?? "")));
    expect(view).toMatchObject({ npmKeysSha256: null, version: `${view.sha256} bundled` });
    // A caller that already holds it is not sent it again.
    expect(await sigstoreTrustStub(env).current(view.version)).not.toHaveProperty("trustedRoot");
    // The deployment's configuration: the public-good repository, the bundled root pinned.
    expect(sourceFromEnv(env)).toMatchObject({ url: PUBLIC_GOOD_TUF_URL });
  });

  it("refreshes from Sigstore's repository and keeps the previous trust when a refresh is refused", async () => {
    const older = await serve("2025-07-02");
    const first = await refresh(PUBLIC_GOOD, older.fetchFile, STATES["2025-07-02"].during);
    expect(first).toMatchObject({ ok: true, rootVersion: 12, timestampVersion: 397, trustedRootSha256: OLDER_SHA256 });
    expect(await sigstoreTrustStub(env).current()).toMatchObject({ source: "tuf", sha256: OLDER_SHA256 });

    // A tampered trusted_root.json in an otherwise genuine newer state.
    const tampered = stateFile("2026-08-21", "targets/trusted_root.json").slice();
    tampered.set([(tampered[200] ?? 0) ^ 1], 200);
    const bad = await serve("2026-08-21", { edits: { "targets/trusted_root.json": tampered } });
    const refused = await refresh(PUBLIC_GOOD, bad.fetchFile, STATES["2026-08-21"].during);
    expect(refused).toMatchObject({ ok: false, error: { code: "bad_hash" }, trustedRootSha256: OLDER_SHA256 });
    const view = await sigstoreTrustStub(env).current();
    expect(view).toMatchObject({ source: "tuf", sha256: OLDER_SHA256, error: { code: "bad_hash" } });
    // The metadata that did verify is kept (spec §5.3.7, §5.4.5): a later rollback stays refused.
    expect(view).toMatchObject({ rootVersion: 15, timestampVersion: 762 });
    const rollback = await refresh(PUBLIC_GOOD, older.fetchFile, STATES["2026-08-21"].during);
    expect(rollback).toMatchObject({ ok: false, error: { code: "bad_version" }, trustedRootSha256: OLDER_SHA256 });

    // The genuine state: only the targets are fetched, the top-level metadata is already trusted.
    const good = await serve("2026-08-21");
    const fixed = await refresh(PUBLIC_GOOD, good.fetchFile, STATES["2026-08-21"].during);
    expect(fixed).toMatchObject({
      ok: true,
      rootVersion: 15,
      timestampVersion: 762,
      trustedRootSha256: PUBLIC_GOOD_SHA256,
    });
    expect(good.asked).toEqual([
      "16.root.json",
      "timestamp.json",
      `targets/${PUBLIC_GOOD_SHA256}.trusted_root.json`,
      "targets/9711a6d5375706957a4859af31c5866a4474f81f0544f9f4b76c9c4f4c8a539c.signing_config.v0.2.json",
      // The delegated role is newer (v8, was v5); the keys it lists are those already kept.
      "8.registry.npmjs.org.json",
    ]);
    // The npm registry's keys come through the delegated role registry.npmjs.org.
    const current = await sigstoreTrustStub(env).current();
    expect(current).toMatchObject({
      npmKeysSha256: NPM_KEYS_SHA256,
      version: `${PUBLIC_GOOD_SHA256} ${NPM_KEYS_SHA256}`,
    });
    expect(await sha256Hex(utf8(current.npmKeys ?? ""))).toBe(NPM_KEYS_SHA256);

    // Operators see it in /metrics.
    const metrics = await workerFetch(`${BASE}/metrics`, { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    const text = await metrics.text();
    expect(text).toMatch(/^tuf_edge_sigstore_trust_refresh_ok 1$/m);
    expect(text).toMatch(/^tuf_edge_sigstore_trust_root_version 15$/m);
    expect(text).toContain(`tuf_edge_sigstore_trusted_root_info{source="tuf",sha256="${PUBLIC_GOOD_SHA256}"} 1`);
  });

  it("verifies attestations with the trusted root it fetched: a private Sigstore instance pinned by its TUF root", async () => {
    const { registry } = await withHmacRegistry("trust-private");
    const a = ARTIFACTS["a.txt"];
    await registry.push([{ type: "targets.add", path: "a.txt", length: 109, hashes: { sha256: a.sha256 } }]);
    const push = () =>
      registry.push([{ type: "attestations.add", path: "a.txt", bundle: JSON.stringify(stagingBundle) }]);

    // With the public-good trusted root, the staging instance's Rekor v2 entry is not trusted.
    expect(await push().catch((e: unknown) => e)).toMatchObject({
      status: 422,
      problem: { code: "attestation_rejected", errors: [{ message: "tlog" }] },
    });

    const instance = await privateInstance({ "trusted_root.json": JSON.stringify(stagingTrustedRoot) });
    const report = await refresh(instance.source, instance.fetchFile, new Date());
    expect(report).toMatchObject({ ok: true, rootVersion: 1, timestampVersion: 1 });
    expect((await sigstoreTrustStub(env).current()).url).toBe(PUBLIC_GOOD_TUF_URL);

    // The same repository object now verifies with the fetched root.
    expect((await push()).task.state).toBe("published");
  });

  it("stops trusting an optional target its repository no longer lists", async () => {
    const trustedRoot = JSON.stringify(stagingTrustedRoot);
    const keys = JSON.stringify(npmKeys);
    const listing = await privateInstance(
      { "trusted_root.json": trustedRoot, "registry.npmjs.org/keys.json": keys },
      2,
    );
    expect(await refresh(listing.source, listing.fetchFile, new Date())).toMatchObject({
      ok: true,
      timestampVersion: 2,
    });
    expect(await sigstoreTrustStub(env).current()).toMatchObject({ npmKeysSha256: await sha256Hex(utf8(keys)) });

    const without = await privateInstance({ "trusted_root.json": trustedRoot }, 3);
    expect(await refresh(without.source, without.fetchFile, new Date())).toMatchObject({
      ok: true,
      timestampVersion: 3,
    });
    const view = await sigstoreTrustStub(env).current();
    expect(view).toMatchObject({ npmKeysSha256: null, sha256: await sha256Hex(utf8(trustedRoot)) });
    expect(view).not.toHaveProperty("npmKeys");
  });
});
