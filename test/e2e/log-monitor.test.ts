/**
 * End to end: a transparency-log monitor (scripts/lib/log-monitor.ts) follows
 * a repository of a real local instance (wrangler dev on workerd) while a
 * registry pushes targets; inclusion of a target is proved from the signed
 * checkpoint; then the log is FORKED: an attacker holding the log's signing
 * key (taken from the Durable Object's SQLite file and unsealed with
 * KEY_ENCRYPTION_KEY, as a compromised operator could) signs checkpoints of
 * other trees and serves them to the monitor, which must report them.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sealer } from "../../durable-objects/sealer.ts";
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { queryLocalDurableObject } from "../../scripts/lib/local-do-sqlite.ts";
import {
  PROJECT_ROOT,
  randomSecrets,
  startLocalInstance,
  type LocalInstance,
} from "../../scripts/lib/local-instance.ts";
import { type FetchLike, LogClient, LogVerificationError, openLogCheckpoint } from "../../scripts/lib/log-client.ts";
import { trustedLogVerifierKey, verifyInclusionForTarget } from "../../scripts/lib/log-target.ts";
import { loadMonitorState, monitorLog, monitorLogFile } from "../../scripts/lib/log-monitor.ts";
import type { MonitorReport, MonitorState } from "../../scripts/lib/log-monitor-report.ts";
import { RegistryClient } from "../../scripts/lib/registry-client.ts";
import { signCheckpoint } from "../../src/log/checkpoint.ts";
import { decodeEntry, encodeEntry, type LogEntry } from "../../src/log/entry.ts";
import { MemoryTree } from "../../src/log/merkle.ts";
import { Ed25519NoteSigner } from "../../src/log/note.ts";
import { computeTiles, encodeEntryBundle, entriesPath, tilesForSize } from "../../src/log/tiles.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { toHex, utf8 } from "../../src/lib/bytes.ts";
import type { TargetEvent } from "../../src/schemas/webhook.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { defined } from "../../scripts/lib/defined.ts";

const REPO = "watched";

const digest = (label: string) => sha256Hex(utf8(label));

async function addEvents(paths: string[]): Promise<TargetEvent[]> {
  return Promise.all(
    paths.map(async (path) => ({
      type: "targets.add" as const,
      path,
      length: path.length,
      hashes: { sha256: await digest(path) },
    })),
  );
}

/** A complete log served from memory: the checkpoint, tiles, entry bundles and consistency proofs of `entries`. */
async function forkedLog(entries: readonly Uint8Array<ArrayBuffer>[], signer: Ed25519NoteSigner) {
  const tree = new MemoryTree();
  for (const entry of entries) await tree.appendEntry(entry);
  const size = tree.size;
  const root = await tree.root();
  const note = await signCheckpoint({ origin: signer.name, size, rootHash: root }, signer);
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const leaves = entries.map((_, i) => tree.subtree(0, i));
  for (const { path, data } of await computeTiles(leaves)) files.set(path, data);
  for (const tile of tilesForSize(size).filter((t) => t.level === 0)) {
    const start = tile.index * 256;
    files.set(entriesPath(tile.index, tile.width), encodeEntryBundle(entries.slice(start, start + tile.width)));
  }
  return { size, root, rootHex: toHex(root), note, tree, files };
}

/**
 * A fetch that answers for the log under `logUrl` from `fork` (the checkpoint
 * only, or everything), and passes every other request through.
 */
function serving(
  logUrl: string,
  fork: Awaited<ReturnType<typeof forkedLog>>,
  scope: "checkpoint" | "everything",
): FetchLike {
  return async (input, init) => {
    if (!input.startsWith(`${logUrl}/`)) return fetch(input, init);
    const path = input.slice(logUrl.length + 1);
    if (path === "checkpoint")
      return new Response(fork.note, { headers: { "Content-Type": "text/plain; charset=utf-8" } });
    if (scope === "checkpoint") return fetch(input, init);
    const consistency = /^proof\/consistency\?from=(\d+)&to=(\d+)$/.exec(path);
    if (consistency) {
      const [from, to] = [Number(consistency[1]), Number(consistency[2])];
      const proof = await fork.tree.consistencyProof(from, to);
      return Response.json({
        from,
        to,
        proof: proof.map(toHex),
        fromRoot: toHex(await fork.tree.root(from)),
        toRoot: toHex(await fork.tree.root(to)),
      });
    }
    const file = fork.files.get(path);
    return file ? new Response(file) : Response.json({ detail: `no ${path} in the fork` }, { status: 404 });
  };
}

function entryPaths(report: MonitorReport, type: LogEntry["type"]): string[] {
  return report.entries.flatMap(({ entry }) => (entry?.type === type && "path" in entry ? [entry.path] : []));
}

const figures: string[] = [];

describe("transparency log monitor against a local instance", () => {
  let instance: LocalInstance;
  let scratch: string;
  let persistTo: string;
  let secrets: ReturnType<typeof randomSecrets>;
  let admin: AdminClient;
  let registry: RegistryClient;
  let verifierKey: string;
  let origin: string;
  let stateFile: string;
  let logUrl: string;
  /** The checkpoint the monitor verified on its first run. */
  let firstCheckpoint: { size: number; rootHash: string; note: string };
  const monitor = (fetchImpl?: FetchLike) => ({
    baseUrl: instance.baseUrl,
    repo: REPO,
    verifierKey,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });

  const batch1 = Array.from({ length: 20 }, (_, i) => `pkgs/first/app-${i}.tgz`);
  const batch2 = Array.from({ length: 300 }, (_, i) => `pkgs/second/lib-${i}.tgz`);
  const batch3 = ["pkgs/third/tool-1.tgz", "pkgs/third/tool-2.tgz", "pkgs/third/tool-3.tgz"];

  /** The served checkpoint's size, once it has caught up with the timestamp's commitment. */
  async function publishedLogSize(): Promise<number> {
    const timestamp = (await (await fetch(`${instance.baseUrl}/${REPO}/metadata/timestamp.json`)).json()) as {
      signed: { "x-tuf-edge-log": { size: number } };
    };
    const size = timestamp.signed["x-tuf-edge-log"].size;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const checkpoint = await new LogClient({ baseUrl: instance.baseUrl, repo: REPO }).checkpoint(verifierKey);
      if (checkpoint.size >= size) return checkpoint.size;
      if (Date.now() > deadline)
        throw new Error(`the checkpoint stays at ${checkpoint.size} entries, the timestamp commits to ${size}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-log-monitor-"));
    persistTo = join(scratch, "state");
    stateFile = join(scratch, "monitor-state.json");
    secrets = randomSecrets();
    instance = await startLocalInstance({ persistTo, secrets });
    logUrl = `${instance.baseUrl}/${REPO}/log`;
    admin = new AdminClient({ baseUrl: instance.baseUrl, repo: REPO, token: secrets.ADMIN_TOKEN });
    const { signer } = await Ed25519Signer.generate();
    const { rootBytes } = await bootstrapRepository(admin, {
      rootSigners: [signer],
      threshold: 1,
      settings: { bins: 4 },
    });
    const { secret } = await admin.addRegistryCredential("acme", { kind: "hmac" });
    registry = new RegistryClient({
      baseUrl: instance.baseUrl,
      repo: REPO,
      credential: { kind: "hmac", secret: defined(secret) },
    });
    // The verifier key as a client gets it: through TUF, from the pinned root.
    ({ verifierKey, origin } = await trustedLogVerifierKey({
      metadataBaseUrl: `${instance.baseUrl}/${REPO}/metadata`,
      rootBytes,
    }));
    expect(origin).toBe(`tuf-edge.local/${REPO}`);
    expect(verifierKey.startsWith(`${origin}+`)).toBe(true);
  });

  afterAll(async () => {
    await instance?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    if (figures.length) console.log(`log monitor downloads:\n  ${figures.join("\n  ")}`);
  });

  it("sees every entry on its first run, and only the new ones after a push", async () => {
    expect((await registry.push(await addEvents(batch1))).status).toBe(200);
    const size1 = await publishedLogSize();

    const first = await monitorLogFile(stateFile, monitor());
    expect(first.report.findings).toEqual([]);
    expect(first.report).toMatchObject({ ok: true, advanced: true, previous: null, checkpoint: { size: size1 } });
    expect(first.report.checks).toEqual({
      consistencyProof: "not_needed",
      recomputedRoot: "verified",
      tiles: "verified",
    });
    expect(first.report.entries.map((e) => e.index)).toEqual(Array.from({ length: size1 }, (_, i) => i));
    expect(defined(first.report.entries[0]).entry).toMatchObject({ type: "root.change", version: 1, repository: REPO });
    expect(entryPaths(first.report, "target.add").sort()).toEqual([...batch1].sort());
    expect(first.report.entries.some((e) => e.entry?.type === "metadata.publish")).toBe(true);
    figures.push(`first run, ${size1} entries (bootstrap + ${batch1.length} targets): ${describeStats(first.report)}`);

    const saved = defined(await loadMonitorState(stateFile));
    expect(saved.checkpoint.size).toBe(size1);
    firstCheckpoint = saved.checkpoint;
    expect(Object.keys(saved.identifiers).sort()).toEqual([...batch1].sort());
    expect(defined(saved.identifiers[defined(batch1[0])]).digests).toEqual([
      { hashes: { sha256: await digest(defined(batch1[0])) }, index: expect.any(Number) },
    ]);

    // 300 more targets: the log crosses its first full tile (256 entries).
    expect((await registry.push(await addEvents(batch2))).status).toBe(200);
    const size2 = await publishedLogSize();
    expect(size2).toBeGreaterThan(256);
    const second = await monitorLogFile(stateFile, monitor());
    expect(second.report.findings).toEqual([]);
    expect(second.report).toMatchObject({
      ok: true,
      advanced: true,
      previous: { size: size1 },
      checkpoint: { size: size2 },
    });
    expect(second.report.checks).toEqual({
      consistencyProof: "verified",
      recomputedRoot: "verified",
      tiles: "verified",
    });
    expect(second.report.entries.map((e) => e.index)).toEqual(
      Array.from({ length: size2 - size1 }, (_, i) => size1 + i),
    );
    expect(entryPaths(second.report, "target.add").sort()).toEqual([...batch2].sort());
    figures.push(
      `second run, ${size2 - size1} new entries (${batch2.length} targets) on ${size1}: ${describeStats(second.report)}`,
    );

    // A few more, and a removal: the entry carries the digest the path had.
    expect(
      (await registry.push([...(await addEvents(batch3)), { type: "targets.remove", path: defined(batch1[0]) }]))
        .status,
    ).toBe(200);
    const size3 = await publishedLogSize();
    const third = await monitorLogFile(stateFile, monitor());
    expect(third.report.findings).toEqual([]);
    expect(third.report.checks.consistencyProof).toBe("verified");
    expect(entryPaths(third.report, "target.add").sort()).toEqual([...batch3].sort());
    expect(entryPaths(third.report, "target.remove")).toEqual([batch1[0]]);
    expect(third.report.entries).toHaveLength(size3 - size2);
    figures.push(
      `third run, ${size3 - size2} new entries (${batch3.length} targets + 1 removal) on ${size2}: ${describeStats(third.report)}`,
    );

    // Nothing new: one checkpoint, nothing else.
    const idle = await monitorLogFile(stateFile, monitor());
    expect(idle.report).toMatchObject({ ok: true, advanced: false, entries: [], findings: [] });
    expect(idle.report.stats.requests).toBe(1);
    figures.push(`idle run: ${describeStats(idle.report)}`);

    // Another key is refused for this state.
    const other = await Ed25519NoteSigner.fromSeed(origin, crypto.getRandomValues(new Uint8Array(32)));
    await expect(monitorLogFile(stateFile, { ...monitor(), verifierKey: other.verifierKey })).rejects.toThrow(
      /pins another log verifier key/,
    );
  });

  it("proves a pushed target is in the signed log", async () => {
    const path = defined(batch2[123]);
    const proved = await verifyInclusionForTarget({ baseUrl: instance.baseUrl, repo: REPO, verifierKey, path });
    expect(proved.entry).toEqual({
      type: "target.add",
      repository: REPO,
      path,
      hashes: { sha256: await digest(path) },
    });
    expect(proved.checkpoint.size).toBe(defined(await loadMonitorState(stateFile)).checkpoint.size);
    figures.push(
      `one inclusion proof (verifyInclusionForTarget): ${proved.stats.bytes} bytes in ${proved.stats.requests} requests`,
    );

    // The latest entry about a removed path is its removal.
    const removed = await verifyInclusionForTarget({
      baseUrl: instance.baseUrl,
      repo: REPO,
      verifierKey,
      path: defined(batch1[0]),
    });
    expect(removed.entry.type).toBe("target.remove");

    await expect(
      verifyInclusionForTarget({ baseUrl: instance.baseUrl, repo: REPO, verifierKey, path: "pkgs/never/pushed.tgz" }),
    ).rejects.toMatchObject({
      code: "not_in_log",
    });
    // A proof altered on the way does not verify.
    const tampering: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      if (!input.includes("/log/proof/inclusion")) return response;
      const json = (await response.json()) as { proof: string[] };
      json.proof[0] = defined(json.proof[0]).replace(/^./, (c) => (c === "0" ? "1" : "0"));
      return Response.json(json);
    };
    const error = await verifyInclusionForTarget({
      baseUrl: instance.baseUrl,
      repo: REPO,
      verifierKey,
      path,
      fetch: tampering,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogVerificationError);
    expect((error as LogVerificationError).code).toBe("inclusion_proof_failed");
  });

  it("runs from the CLI: tuf-edge log verify and log monitor", async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(PROJECT_ROOT, "scripts/cli.ts"), "--url", instance.baseUrl, "--repo", REPO, ...args],
          { env: { ...process.env, NO_COLOR: "1" }, cwd: scratch },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const verified = await cli([
      "log",
      "verify",
      "--verifier-key",
      verifierKey,
      "--target",
      defined(batch3[0]),
      "--json",
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      verified: true,
      entry: { type: "target.add", path: batch3[0] },
    });
    const missing = await cli(["log", "verify", "--verifier-key", verifierKey, "--target", "pkgs/never/pushed.tgz"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not_in_log/);

    const cliState = join(scratch, "cli-monitor.json");
    const first = await cli(["log", "monitor", "--state", cliState, "--verifier-key", verifierKey, "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as MonitorReport;
    expect(report).toMatchObject({
      ok: true,
      advanced: true,
      checkpoint: { size: defined(await loadMonitorState(stateFile)).checkpoint.size },
    });
    const again = await cli(["log", "monitor", "--state", cliState]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/no new entries/);
    expect(again.stdout).toMatch(/findings: none/);
  });

  describe("a forked log signed with the log's own key", () => {
    let logKey: Ed25519NoteSigner;
    let state: MonitorState;
    let real: Uint8Array<ArrayBuffer>[];
    /** A target.add already in the log, with another digest. */
    let victim: { index: number; path: string; altered: Uint8Array<ArrayBuffer> };

    beforeAll(async () => {
      // The attacker reads the sealed log key from the Durable Object's SQLite
      // storage (its synchronous KV lives in the table _cf_KV, values in V8's
      // serialization format) and unseals it with KEY_ENCRYPTION_KEY.
      const rows = await queryLocalDurableObject<{ value: Uint8Array }>(
        persistTo,
        { className: "Repository", name: REPO },
        "SELECT value FROM _cf_KV WHERE key = 'log-key'",
      );
      expect(rows).toHaveLength(1);
      const sealed = deserialize(Buffer.from(defined(rows[0]).value)) as { sealed: ArrayBuffer; iv: ArrayBuffer };
      const seed = await new Sealer(secrets.KEY_ENCRYPTION_KEY).unseal(sealed, `tuf-edge log key\n${origin}`);
      logKey = await Ed25519NoteSigner.fromSeed(origin, seed);
      expect(logKey.verifierKey).toBe(verifierKey);

      state = defined(await loadMonitorState(stateFile));
      real = await new LogClient({ baseUrl: instance.baseUrl, repo: REPO }).entries(
        0,
        state.checkpoint.size,
        state.checkpoint.size,
      );
      const index = real.findIndex((bytes) => {
        const entry = decodeEntry(bytes);
        return entry.type === "target.add" && entry.path === batch2[5];
      });
      const entry = decodeEntry(defined(real[index])) as Extract<LogEntry, { type: "target.add" }>;
      victim = {
        index,
        path: entry.path,
        altered: encodeEntry({ ...entry, hashes: { sha256: await digest("malware") } }),
      };
    });

    it("reports a split view: a checkpoint of the same size with another root", async () => {
      const forked = real.map((bytes, i) => (i === victim.index ? victim.altered : bytes));
      const fork = await forkedLog(forked, logKey);
      expect(fork.size).toBe(state.checkpoint.size);
      expect(fork.rootHex).not.toBe(state.checkpoint.rootHash);

      const { report, state: after } = await monitorLog(state, monitor(serving(logUrl, fork, "checkpoint")));
      expect(report.ok).toBe(false);
      expect(report.advanced).toBe(false);
      expect(report.findings).toEqual([
        expect.objectContaining({
          type: "split_view",
          severity: "alert",
          reason: "same_size_different_root",
          earlier: expect.objectContaining({ size: fork.size, rootHash: state.checkpoint.rootHash }),
          later: expect.objectContaining({ size: fork.size, rootHash: fork.rootHex, note: fork.note }),
        }),
      ]);
      // The evidence: two notes, both signed by the log's key, for one size and two roots.
      const split = report.findings[0] as Extract<MonitorReport["findings"][number], { type: "split_view" }>;
      const [a, b] = await Promise.all([
        openLogCheckpoint(defined(split.earlier.note), verifierKey),
        openLogCheckpoint(defined(split.later.note), verifierKey),
      ]);
      expect(a.size).toBe(b.size);
      expect(a.rootHashHex).not.toBe(b.rootHashHex);
      expect(defined(after).checkpoint).toEqual(state.checkpoint);
      expect(defined(after).evidence).toHaveLength(1);
    });

    it("reports a split view when a larger forked tree does not extend the verified one", async () => {
      // The fork rewrites an entry the monitor verified, then grows: served whole (checkpoint, tiles, bundles, proofs).
      const extra = await Promise.all(
        ["pkgs/fork/a.tgz", "pkgs/fork/b.tgz"].map(async (path) =>
          encodeEntry({ type: "target.add", repository: REPO, path, hashes: { sha256: await digest(path) } }),
        ),
      );
      const fork = await forkedLog(
        [...real.map((bytes, i) => (i === victim.index ? victim.altered : bytes)), ...extra],
        logKey,
      );
      const { report } = await monitorLog(state, monitor(serving(logUrl, fork, "everything")));
      expect(report.ok).toBe(false);
      expect(report.advanced).toBe(false);
      expect(report.checks.consistencyProof).toBe("failed");
      expect(report.checks.recomputedRoot).toBe("failed");
      const types = report.findings.map((f) => `${f.type}:${"reason" in f ? f.reason : ""}`);
      expect(types).toContain("split_view:consistency_proof_failed");
      expect(types).toContain("entries_mismatch:recomputed_root_differs");
    });

    it("flags a target whose digest changes in a log that stays consistent", async () => {
      const readd = encodeEntry({
        type: "target.add",
        repository: REPO,
        path: victim.path,
        hashes: { sha256: await digest("malware") },
      });
      const fork = await forkedLog([...real, readd], logKey);
      const { report, state: after } = await monitorLog(state, monitor(serving(logUrl, fork, "everything")));
      expect(report.checks).toEqual({ consistencyProof: "verified", recomputedRoot: "verified", tiles: "verified" });
      expect(report.advanced).toBe(true);
      expect(report.ok).toBe(false);
      expect(report.findings).toEqual([
        expect.objectContaining({
          type: "digest_changed",
          path: victim.path,
          index: real.length,
          previous: { hashes: { sha256: await digest(victim.path) }, index: victim.index },
        }),
      ]);
      expect(defined(defined(after).identifiers[victim.path]).digests).toHaveLength(2);
    });

    it("takes an older checkpoint that the log extends as stale; an older size with another root is a split view", async () => {
      const stale = await monitorLog(
        state,
        monitor(serving(logUrl, { note: firstCheckpoint.note } as Awaited<ReturnType<typeof forkedLog>>, "checkpoint")),
      );
      expect(stale.report).toMatchObject({ ok: true, advanced: false, checks: { consistencyProof: "verified" } });
      expect(stale.report.findings).toEqual([
        expect.objectContaining({ type: "stale_checkpoint", severity: "notice", size: firstCheckpoint.size }),
      ]);

      // A tree of the first run's size whose last entry is another one.
      const fork = await forkedLog([...real.slice(0, firstCheckpoint.size - 1), victim.altered], logKey);
      expect(fork.size).toBe(firstCheckpoint.size);
      const { report } = await monitorLog(state, monitor(serving(logUrl, fork, "checkpoint")));
      expect(report.findings).toEqual([
        expect.objectContaining({
          type: "split_view",
          reason: "inconsistent_with_history",
          earlier: { size: firstCheckpoint.size, rootHash: firstCheckpoint.rootHash },
        }),
      ]);
    });

    it("refuses a checkpoint signed by another key under the log's name", async () => {
      const impostor = await Ed25519NoteSigner.fromSeed(origin, crypto.getRandomValues(new Uint8Array(32)));
      const fork = await forkedLog(real, impostor);
      const { report, state: after } = await monitorLog(state, monitor(serving(logUrl, fork, "checkpoint")));
      expect(report.findings).toEqual([expect.objectContaining({ type: "invalid_checkpoint", severity: "alert" })]);
      expect(after).toBe(state);
    });

    it("goes on verifying the real log afterwards", async () => {
      const { report } = await monitorLogFile(stateFile, monitor());
      expect(report).toMatchObject({ ok: true, findings: [] });
      const persisted = JSON.parse(await readFile(stateFile, "utf8")) as MonitorState;
      expect(persisted.checkpoint.rootHash).toBe(state.checkpoint.rootHash);
    });
  });
});

function describeStats(report: MonitorReport): string {
  const { stats } = report;
  const kinds = Object.entries(stats.byKind)
    .filter(([, v]) => v.requests > 0)
    .map(([k, v]) => `${k} ${v.bytes} B/${v.requests}`)
    .join(", ");
  return `${stats.bytes} bytes in ${stats.requests} requests (${kinds}); ${report.durationMs} ms`;
}
