/**
 * A tuf-edge instance for one benchmark section: `wrangler dev` on fresh
 * state, the workerd processes behind it, and an admin client.
 */
import { mkdtemp, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { AdminClient, bootstrapRepository } from "../lib/admin-client.ts";
import type { LocalInstance } from "../lib/local-instance.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { makeHttpFetch } from "./http.ts";
import { commandOf, descendants, listeningPorts, parentOf, workerdPids } from "./proc.ts";
import type { ProjectCopy } from "./snapshot.ts";
import type { BenchContext } from "./types.ts";

const START_TIMEOUT_MS = 120_000;

export interface BenchInstance {
  instance: LocalInstance;
  persistTo: string;
  token: string;
  secrets: { ADMIN_TOKEN: string; KEY_ENCRYPTION_KEY: string };
  /** The workerd that runs the Worker and the Durable Objects. */
  workerPid: number | null;
  /** The workerd in front of it that `wrangler dev` uses as a proxy. */
  proxyPid: number | null;
  client(repo: string): AdminClient;
  /**
   * Stops wrangler dev. Its state stays until the whole run ends (bench.ts
   * deletes the state folder then, unless --keep-state), so no deletion runs
   * while another instance is measured, and another instance may start on it
   * (`stateOf`).
   */
  stop(): Promise<void>;
}

export interface BenchInstanceOptions {
  /** Worker variables (`--var`), e.g. a setting turned off for a baseline. */
  vars?: Record<string, string>;
  /** Start on the state and secrets of this stopped instance instead of fresh ones. */
  stateOf?: BenchInstance;
  /** The project copy to run (default: the bench's; e.g. a --baseline commit's). */
  project?: ProjectCopy;
}

export async function startBenchInstance(
  context: BenchContext,
  label: string,
  options: BenchInstanceOptions = {},
): Promise<BenchInstance> {
  const persistTo = options.stateOf?.persistTo ?? (await mkdtemp(join(context.options.stateDir, `${label}-`)));
  const { randomSecrets, startLocalInstance } = (options.project ?? context.project).module;
  const secrets = options.stateOf?.secrets ?? randomSecrets();
  const started = Date.now();
  const starting = startLocalInstance({
    persistTo,
    secrets,
    ...(options.vars ? { vars: options.vars } : {}),
    log: (l) => context.log(`[wrangler] ${l}`),
  });
  // startLocalInstance's readiness probe can wait ~300 s on a request wrangler's proxy holds (e.g.
  // while the Worker fails to build): give up sooner, and end that wrangler ourselves.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`wrangler dev was not ready within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
  });
  let instance: LocalInstance;
  try {
    instance = await Promise.race([starting, timeout]);
  } catch (error) {
    starting.catch(() => undefined);
    for (const pid of descendants()) {
      if (!commandOf(pid).includes(persistTo)) continue;
      for (const p of [...descendants(pid), pid]) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  context.log(`${label}: wrangler dev ready on ${instance.baseUrl} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { proxyPid, workerPid } = instanceProcesses(instance.port);
  const fetch = makeHttpFetch();
  return {
    instance,
    persistTo,
    token: secrets.ADMIN_TOKEN,
    secrets,
    workerPid,
    proxyPid,
    client: (repo) => new AdminClient({ baseUrl: instance.baseUrl, repo, token: secrets.ADMIN_TOKEN, fetch }),
    stop: () => instance.stop(),
  };
}

/**
 * The two workerd processes of the `wrangler dev` listening on `port`: the
 * proxy that listens there, and its sibling that runs the Worker.
 */
export function instanceProcesses(port: number): { proxyPid: number | null; workerPid: number | null } {
  const pids = workerdPids();
  const proxyPid = pids.find((p) => commandOf(p).includes(`entry=127.0.0.1:${port}`)) ?? null;
  if (proxyPid === null) return { proxyPid, workerPid: null };
  const parent = parentOf(proxyPid);
  const workerPid = pids.find((p) => p !== proxyPid && parentOf(p) === parent) ?? null;
  return { proxyPid, workerPid };
}

/**
 * The Worker's own HTTP port, behind wrangler's proxy: found by asking each
 * port the Worker's workerd listens on for `probePath`. Null if none answers 200
 * with a body that passes `check`.
 */
export async function directWorkerUrl(
  workerPid: number | null,
  probePath = "/health",
  check: (body: string) => boolean = (body) => body.includes('"repositories"'),
): Promise<string | null> {
  if (workerPid === null) return null;
  for (const port of listeningPorts(workerPid)) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${probePath}`, { signal: AbortSignal.timeout(2_000) });
      const text = await response.text();
      if (response.status === 200 && check(text)) return `http://127.0.0.1:${port}`;
    } catch {
      // not HTTP, or not this Worker
    }
  }
  return null;
}

/**
 * Where a section sends its load: wrangler's proxy (`bench.instance.baseUrl`),
 * or with `direct` (--direct) the Worker's own workerd port, skipping a
 * local-only hop that production does not have. Setup may still use the proxy.
 */
export async function loadFront(
  bench: BenchInstance,
  direct: boolean,
): Promise<{ url: string; via: "proxy" | "direct" }> {
  if (!direct) return { url: bench.instance.baseUrl, via: "proxy" };
  const url = await directWorkerUrl(bench.workerPid);
  if (url === null) throw new Error("--direct: the Worker's own workerd port was not found");
  return { url, via: "direct" };
}

/** Bootstraps `repo` with root signed 1-of-1 by a fresh key. */
export async function bootstrap(client: AdminClient, settings: Record<string, unknown>) {
  const { signer } = await Ed25519Signer.generate();
  return bootstrapRepository(client, { rootSigners: [signer], threshold: 1, settings });
}

/** Metadata-only targets `pkg-<i>/pkg-<i>-1.0.0.tgz` with random lengths and digests. */
/** The path of the `i`th synthetic target (syntheticTargets). */
export function syntheticPath(i: number, salt: string): string {
  return `pkg-${salt}${i}/pkg-${salt}${i}-1.0.0.tgz`;
}

export function syntheticTargets(from: number, count: number, salt: string) {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const digest = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    return {
      path: syntheticPath(i, salt),
      length: 1_000 + Math.floor(Math.random() * 10_000_000),
      hashes: { sha256: digest },
    };
  });
}

/** Total size of the files under a folder. */
export async function folderSize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
