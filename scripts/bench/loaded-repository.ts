/**
 * A repository with many bins and targets, prepared the way an operator
 * imports one: bootstrap, then POST …/admin/targets batches sent with
 * `Prefer: respond-async` (each answers once stored), then wait until
 * status says nothing is pending (every batch published). Shared by the
 * sections that measure something against a full repository.
 */
import { type AdminClient, bootstrapRepository } from "../lib/admin-client.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { syntheticTargets } from "./instance.ts";
import { sleep } from "./pool-fetch.ts";

export interface LoadOptions {
  bins: number;
  targets: number;
  /** Targets per POST …/admin/targets (10,000 is the API's maximum). */
  batch?: number;
  /** Root keys to generate, and the threshold root v1 names. */
  rootKeys?: number;
  threshold?: number;
  /** Prefix of the synthetic target paths. */
  salt?: string;
  log: (message: string) => void;
  /** Gives up waiting for the publish after this long. */
  timeoutMs?: number;
}

export interface LoadedRepository {
  rootSigners: Ed25519Signer[];
  threshold: number;
  rootBytes: Uint8Array;
  bootstrapMs: number;
  /** Sending every batch (each answered once stored). */
  submitMs: number;
  /** From the first batch sent until status showed nothing pending. */
  loadMs: number;
  batches: number;
  targetsCount: number;
}

export async function loadRepository(client: AdminClient, options: LoadOptions): Promise<LoadedRepository> {
  const { log } = options;
  const batchSize = options.batch ?? 10_000;
  const rootSigners = await Promise.all(
    Array.from({ length: options.rootKeys ?? 1 }, async () => (await Ed25519Signer.generate()).signer),
  );
  const threshold = options.threshold ?? 1;
  const fmt = (n: number) => n.toLocaleString("en-US");

  log(`  bootstrapping with ${fmt(options.bins)} bins (${rootSigners.length} root key(s), threshold ${threshold})`);
  const bootStart = performance.now();
  const ticker = setInterval(
    () => log(`  bootstrap running: ${((performance.now() - bootStart) / 1000).toFixed(0)} s`),
    15_000,
  );
  let boot: Awaited<ReturnType<typeof bootstrapRepository>>;
  try {
    boot = await bootstrapRepository(client, { rootSigners, threshold, settings: { bins: options.bins } });
  } finally {
    clearInterval(ticker);
  }
  const bootstrapMs = performance.now() - bootStart;
  log(`  bootstrap done in ${(bootstrapMs / 1000).toFixed(1)} s`);

  const added = await addTargetsAndWait(client, {
    targets: options.targets,
    batch: batchSize,
    salt: options.salt ?? "",
    log,
    timeoutMs: options.timeoutMs,
  });
  return { rootSigners, threshold, rootBytes: boot.rootBytes, bootstrapMs, ...added };
}

/**
 * Adds `targets` synthetic targets in POST …/admin/targets batches sent with
 * respond-async, then waits until status shows nothing pending. With
 * `deferred`, the batches are an import's, as `tuf-edge import` sends them
 * (`"publish": "deferred"`): stored without publishing, then published
 * together once the last is stored (POST …/admin/publish), where otherwise
 * rounds run between the batches, each re-signing the bins they changed.
 */
export async function addTargetsAndWait(
  client: AdminClient,
  options: {
    targets: number;
    batch?: number;
    salt?: string;
    from?: number;
    deferred?: boolean;
    log: (message: string) => void;
    timeoutMs?: number | undefined;
  },
): Promise<{ submitMs: number; loadMs: number; batches: number; targetsCount: number }> {
  const { log } = options;
  const batchSize = options.batch ?? 10_000;
  const from = options.from ?? 0;
  const fmt = (n: number) => n.toLocaleString("en-US");
  const timeoutMs = options.timeoutMs ?? 40 * 60_000;
  const batches = Math.ceil(options.targets / batchSize);
  const loadStart = performance.now();
  for (let b = 0; b < batches; b++) {
    const count = Math.min(batchSize, options.targets - b * batchSize);
    const add = syntheticTargets(from + b * batchSize, count, options.salt ?? "");
    await client.changeTargets(options.deferred ? { add, publish: "deferred" } : { add }, { wait: false });
  }
  if (options.deferred) await client.publishNow();
  const submitMs = performance.now() - loadStart;
  log(
    `  ${batches} batch(es) of up to ${fmt(batchSize)} targets stored in ${(submitMs / 1000).toFixed(1)} s; waiting for the publish`,
  );
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    const status = await client.status();
    if (!status.pendingChanges) {
      const loadMs = performance.now() - loadStart;
      log(`  ${fmt(status.targetsCount)} targets published in ${(loadMs / 1000).toFixed(1)} s`);
      if (status.lastFailure) log(`  status reports a failure: ${status.lastFailure.detail}`);
      return { submitMs, loadMs, batches, targetsCount: status.targetsCount };
    }
    if (Date.now() > deadline) throw new Error(`the targets were not published within ${timeoutMs / 1000} s`);
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      log(
        `  publishing: ${((performance.now() - loadStart) / 1000).toFixed(0)} s so far${status.lastFailure ? `; last failure: ${status.lastFailure.detail}` : ""}`,
      );
    }
    await sleep(500);
  }
}
