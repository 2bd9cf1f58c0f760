/**
 * The bench's split topology (scripts/bench/topology.ts): the Worker, the
 * repository's Durable Object and R2 in three workerd processes. What it must
 * hold for its figures to mean anything: a repository bootstrapped through
 * the Worker is published by the object and served by the Worker; R2's data
 * is served by the storage process alone (the conversion of Miniflare's
 * options once dropped shared storage silently, and every process then read
 * and wrote the same files itself); each process keeps its own cache.
 */
import { mkdtemp, readdir, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { PROJECT_ROOT, randomSecrets } from "../../scripts/lib/local-instance.ts";
import { bundleWorker, startTopology, type TopologyInstance } from "../../scripts/bench/topology.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";

/** The files under `root` that process `pid` holds open, relative to `root`. */
async function openFiles(pid: number, root: string): Promise<string[]> {
  const files: string[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    if (target.startsWith(`${root}/`)) files.push(target.slice(root.length + 1));
  }
  return files;
}

/** An R2 bucket's own database (not Miniflare's per-plugin metadata.sqlite). */
const isBucketData = (file: string) => /^r2\/miniflare-R2BucketObject\/[0-9a-f]{64}\.sqlite$/.test(file);

describe("the bench's split topology", () => {
  let scratch: string;
  let split: TopologyInstance;
  const secrets = randomSecrets();

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-topology-"));
    const entry = bundleWorker(PROJECT_ROOT, join(scratch, "bundle"));
    split = await startTopology(entry, {
      projectRoot: PROJECT_ROOT,
      topology: "split",
      persistTo: join(scratch, "state"),
      secrets,
    });
  }, 180_000);
  afterAll(async () => {
    await split?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("publishes through the object and serves through the Worker, R2 owned by the storage process", async () => {
    expect(Object.keys(split.pids).sort()).toEqual(["object", "storage", "worker"]);
    const client = new AdminClient({ baseUrl: split.baseUrl, repo: "split", token: secrets.ADMIN_TOKEN });
    const { signer } = await Ed25519Signer.generate();
    await bootstrapRepository(client, { rootSigners: [signer], threshold: 1, settings: { bins: 16 } });

    const timestamp = await fetch(`${split.baseUrl}/split/metadata/timestamp.json`);
    expect(timestamp.status).toBe(200);
    const served = (await timestamp.json()) as { signed: { _type: string; version: number } };
    expect(served.signed._type).toBe("timestamp");
    // The writer's process serves the same repository (the watcher of "acknowledged → served" reads it there).
    const atWriter = await fetch(`${split.writerUrl}/split/metadata/timestamp.json`);
    expect(((await atWriter.json()) as typeof served).signed.version).toBe(served.signed.version);

    const state = join(scratch, "state");
    const files = async (role: "storage" | "object" | "worker") => openFiles(split.pids[role] as number, state);
    expect((await files("storage")).filter(isBucketData)).toHaveLength(1);
    expect((await files("object")).filter(isBucketData)).toEqual([]);
    expect((await files("worker")).filter(isBucketData)).toEqual([]);
    // The repository's SQLite is the object process's alone, in its own folder.
    expect((await files("object")).some((f) => f.startsWith("object/do/tuf-edge-object-Repository/"))).toBe(true);
  });
});
