/** Shared setup for the workerd tests: a client wired to the Worker under test. */
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, vi } from "vitest";
import type { InvocationSpend } from "../../durable-objects/invocation-budget.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { MIGRATIONS } from "../../durable-objects/schema.ts";
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { RegistryClient, type RegistryCredential } from "../../scripts/lib/registry-client.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { TILE_WIDTH } from "../../src/log/tiles.ts";
import { httpMetadata, walkToTarget } from "../../scripts/lib/delegation-walk.ts";
import { formatExpires } from "../../src/tuf/metadata.ts";
import { parseRoot } from "../../src/tuf/root.ts";
import { defined } from "../../scripts/lib/defined.ts";
import { ARTIFACTS, PEP740 } from "../unit/attestations/material.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";

export const BASE = "https://tuf-edge.test";

/**
 * `binding` (a real one) with each call of its methods recorded in `uses` as
 * "<method> <first argument>", then done for real: how tests count what a
 * request asks of the Durable Object namespace or the bucket.
 */
export function watched<T extends object>(binding: T, uses: string[]): T {
  return new Proxy(binding, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        uses.push(`${String(property)} ${String(args[0])}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A statement a test saw run: its text and bindings. */
export interface Statement {
  query: string;
  bindings: unknown[];
}

/**
 * `sql` with every exec() recorded in `statements`; the statements still
 * run on it: how tests read the query plans (EXPLAIN QUERY PLAN) of what a
 * part of the object runs.
 */
export function recording(sql: SqlStorage, statements: Statement[]): SqlStorage {
  return new Proxy(sql, {
    get(target, property) {
      if (property === "exec")
        return (query: string, ...bindings: unknown[]) => {
          statements.push({ query, bindings });
          return target.exec(query, ...bindings);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Calls the Worker under test in-process. */
export function workerFetch(input: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(input, init));
}

export function adminClient(repo: string): AdminClient {
  return new AdminClient({ baseUrl: BASE, repo, token: env.ADMIN_TOKEN, fetch: workerFetch });
}

export async function rootSigners(n: number): Promise<Ed25519Signer[]> {
  return Promise.all(Array.from({ length: n }, async () => (await Ed25519Signer.generate()).signer));
}

/** A bootstrapped repository with `bins` bins, root signed 2-of-3. */
export async function bootstrapped(repo: string, settings: Record<string, unknown> = { bins: 16 }) {
  const client = adminClient(repo);
  const signers = await rootSigners(3);
  const result = await bootstrapRepository(client, { rootSigners: signers.slice(0, 2), threshold: 2, settings });
  return { client, signers, ...result };
}

/**
 * Makes `repo`'s storage record one migration more than this version knows
 * (as a newer version's deploy would), then resets its object as a deploy
 * does: its next request constructs it again. Returns that migration's id.
 */
export async function migratedAhead(repo: string): Promise<number> {
  const stub = env.REPOSITORY.getByName(repo);
  const ahead = MIGRATIONS.length + 1;
  await runInDurableObject(stub, (_i: Repository, state) => {
    state.storage.sql.exec("INSERT INTO _migrations (id, applied_at) VALUES (?, 0)", ahead);
  });
  await runInDurableObject(stub, (_i: Repository, state) => state.abort("a new version is deployed")).catch(() => {});
  return ahead;
}

export async function getJson<T = any>(path: string, init?: RequestInit): Promise<{ response: Response; json: T }> {
  const response = await workerFetch(BASE + path, init);
  return { response, json: (await response.json()) as T };
}

// --- registry pushes (webhooks) ---------------------------------------------------

/** A registry's client for `repo`, wired to the Worker under test. `now` overrides its clock (seconds). */
export function registryClient(
  repo: string,
  credential: RegistryCredential,
  now?: () => number,
  registry?: string,
): RegistryClient {
  return new RegistryClient({
    baseUrl: BASE,
    repo,
    credential,
    fetch: workerFetch,
    ...(now ? { now } : {}),
    ...(registry ? { registry } : {}),
  });
}

/** A bootstrapped repository with one registry ("registry") holding an HMAC credential. */
export async function withHmacRegistry(repo: string, settings: Record<string, unknown> = { bins: 16 }) {
  const boot = await bootstrapped(repo, settings);
  const added = await boot.client.addRegistryCredential("registry", { kind: "hmac" });
  const secret = defined(added.secret);
  return {
    ...boot,
    secret,
    credentialId: added.credential.id,
    registry: registryClient(repo, { kind: "hmac", secret }, undefined, "registry"),
  };
}

/** What a client would see: the timestamp, snapshot and bin versions, and the entry for `path` (if listed). */
export async function publishedTarget(repo: string, path: string, bins = 16) {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const snapshotVersion: number = ts.signed.meta["snapshot.json"].version;
  const { json: snapshot } = await getJson(`/${repo}/metadata/${snapshotVersion}.snapshot.json`);
  const bin = await new HashBins(HashBins.bitLengthFor(bins)).binFor(path);
  const binVersion: number = snapshot.signed.meta[`${bin}.json`].version;
  const { json: binFile } = await getJson(`/${repo}/metadata/${binVersion}.${bin}.json`);
  return {
    timestamp: ts.signed.version as number,
    snapshot: snapshotVersion,
    bin: binVersion,
    target: binFile.signed.targets[path],
  };
}

/** Every target listed in the published metadata, read through the snapshot (path → the bins listing it). */
export async function allPublishedTargets(repo: string, snapshotVersion?: number) {
  let version = snapshotVersion;
  let timestamp: number | undefined;
  if (version === undefined) {
    const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
    version = ts.signed.meta["snapshot.json"].version as number;
    timestamp = ts.signed.version;
  }
  const { json: snapshot } = await getJson(`/${repo}/metadata/${version}.snapshot.json`);
  const listings = new Map<
    string,
    Array<{ bin: string; target: { length: number; hashes: Record<string, string>; custom?: unknown } }>
  >();
  for (const [file, meta] of Object.entries(snapshot.signed.meta as Record<string, { version: number }>)) {
    if (file === "targets.json") continue;
    const bin = file.slice(0, -".json".length);
    const { json } = await getJson(`/${repo}/metadata/${meta.version}.${file}`);
    for (const [path, target] of Object.entries(json.signed.targets as Record<string, never>)) {
      listings.set(path, [...(listings.get(path) ?? []), { bin, target }]);
    }
  }
  return { timestamp, snapshot: version, listings };
}

/** Copies every R2 object of repository `from` to repository `to`: the same published files under another name. */
export async function copyPublished(from: string, to: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const listed = await env.BUCKET.list({
      prefix: `${from}/`,
      include: ["customMetadata", "httpMetadata"],
      ...(cursor ? { cursor } : {}),
    });
    for (const o of listed.objects) {
      const object = defined(await env.BUCKET.get(o.key));
      await env.BUCKET.put(`${to}/${o.key.slice(from.length + 1)}`, await object.arrayBuffer(), {
        customMetadata: o.customMetadata ?? {},
        httpMetadata: o.httpMetadata ?? {},
      });
    }
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
}

/** A real PyPI sdist (pypi-attestations 0.0.19) with its real PEP 740 publish attestation. */
export const PYPI_PATH = "packages/pypi_attestations-0.0.19.tar.gz";

/** The push events that list PYPI_PATH and attach its publish attestation. */
export function pypiAttestedEvents() {
  return [
    {
      type: "targets.add" as const,
      path: PYPI_PATH,
      length: 29882,
      hashes: { sha256: ARTIFACTS["pypi_attestations-0.0.19.tar.gz"].sha256 },
    },
    {
      type: "attestations.add" as const,
      path: PYPI_PATH,
      bundle: JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]),
    },
  ];
}

// --- delegations ---------------------------------------------------------------

/** A delegation change that took effect at once (not a ceremony opened in protected-delegations mode). */
export function applied<T extends object>(result: T): Exclude<T, { ceremony: unknown }> {
  if ("ceremony" in result) throw new Error("a ceremony was opened instead");
  return result as Exclude<T, { ceremony: unknown }>;
}

/** Resolves `path` as a client does, from the repository's root v1. */
export async function resolve(repo: string, root: { signed: unknown }, path: string) {
  const walk = await walkToTarget(
    httpMetadata(`${BASE}/${repo}/metadata`, (input) => workerFetch(String(input))),
    await parseRoot(root.signed),
    path,
  );
  return { role: walk.found?.role ?? null, visited: walk.found?.visited ?? null, target: walk.found?.target };
}

/** The published top-level targets and the snapshot that lists it. */
export async function publishedTargets(repo: string) {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const { json: snapshot } = await getJson(
    `/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`,
  );
  const version = snapshot.signed.meta["targets.json"].version;
  return {
    snapshot: snapshot.signed,
    targets: (await getJson(`/${repo}/metadata/${version}.targets.json`)).json.signed,
  };
}

/** The publish runs (invocations) a repository's object recorded, oldest first. */
export function recentRuns(repo: string): Promise<InvocationSpend[]> {
  return runInDurableObject(
    env.REPOSITORY.getByName(repo),
    (_i: Repository, state) => state.storage.kv.get<InvocationSpend[]>("publish:recent-invocations") ?? [],
  );
}

/**
 * recentRuns once the log has no entry left to hash and no full tile left to store ahead of its checkpoint.
 * A run that published goes on, between rounds, hashing the entries its round logged (Publisher.hashAhead)
 * and storing their full tiles (Publisher.storeAhead), and records itself only then, after its callers had
 * their answer: this lists the run that answered them, once it has ended idle.
 */
export async function runsOnceLogCaughtUp(repo: string): Promise<InvocationSpend[]> {
  const caughtUp = () =>
    runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
      const size = state.storage.sql
        .exec<{ n: number }>("SELECT IFNULL(MAX(idx) + 1, 0) AS n FROM log_entries")
        .one().n;
      const kv = (key: string) => state.storage.kv.get<number>(key) ?? 0;
      // Full tiles are stored ahead up to log-full-tiles-size, or with the checkpoint up to its size.
      const tiled = Math.max(kv("log-full-tiles-size"), kv("log-published-size"));
      const runs = state.storage.kv.get<InvocationSpend[]>("publish:recent-invocations") ?? [];
      // The run that caught up records itself last, ending "idle" (it did work, so it is recorded).
      return (
        size <= kv("log-hashed-size") &&
        Math.floor(size / TILE_WIDTH) <= Math.floor(tiled / TILE_WIDTH) &&
        runs.at(-1)?.outcome === "idle"
      );
    });
  await vi.waitFor(async () => expect(await caughtUp()).toBe(true), { timeout: 60_000, interval: 20 });
  return recentRuns(repo);
}

/** The status, problem code and detail an admin request was refused with (throws if it was accepted). */
export async function refused(promise: Promise<unknown>): Promise<{ status: number; code: string; detail: string }> {
  try {
    await promise;
  } catch (error) {
    const { status, problem } = error as { status?: number; problem?: { code: string; detail: string } };
    if (status !== undefined && problem) return { status, code: problem.code, detail: problem.detail };
    throw error;
  }
  throw new Error("the request was accepted");
}

/** The status and problem code an admin request was refused with (throws if it was accepted). */
export async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  const { status, code } = await refused(promise);
  return { status, code };
}

/** An expiry `days` from now, as TUF metadata writes it. */
export const inDays = (days: number) => formatExpires(new Date(Date.now() + days * 86_400_000));

/** A target entry for `path` that stands in for real bytes: the path's length, and the SHA-256 of the path. */
export async function targetEntry(path: string) {
  return { path, length: path.length, hashes: { sha256: await sha256Hex(utf8(path)) } };
}

/**
 * The role tables of an object never bootstrapped, for a test to fill: no
 * role, mark or reservation left, then `names` created as a fresh
 * repository's (RoleTable.create: snapshot and timestamp, and `names`
 * changed).
 */
export function freshRoles(sql: SqlStorage, names: readonly string[]): RoleTable {
  for (const table of ["roles", "role_changes", "reserved_versions"]) sql.exec(`DELETE FROM ${table}`);
  const roles = new RoleTable(sql);
  roles.create(names);
  return roles;
}
