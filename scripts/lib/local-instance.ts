/**
 * Starts tuf-edge locally with `wrangler dev` (workerd, real Durable Objects
 * and R2, state persisted in a folder) and stops it. Used by `npm start`, the
 * end-to-end tests and the benchmarks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { listenerBelongsTo } from "./port-owner.ts";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface LocalInstanceOptions {
  /** Folder for Durable Object and R2 state. */
  persistTo: string;
  /** Secrets, written to an env file wrangler reads. */
  secrets: { ADMIN_TOKEN: string; KEY_ENCRYPTION_KEY: string };
  /** A wrangler config other than the project's (a test's stand-alone Worker). */
  config?: string;
  port?: number;
  vars?: Record<string, string>;
  /** Print wrangler's output (default: only on failure). */
  verbose?: boolean;
  /** wrangler's log level (default "warn"). */
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  log?: (line: string) => void;
  /** How long to wait for the first answer (default 60 s; restarts on a loaded machine can take longer). */
  readyTimeoutMs?: number;
}

export interface LocalInstance {
  baseUrl: string;
  port: number;
  /** Settles with wrangler's exit code when it exits (by stop() or on its own). */
  exited: Promise<number | null>;
  /** The wrangler process id (workerd runs as its child), for measurements. */
  pid: number | undefined;
  /** The port of the Worker's V8 inspector (Chrome DevTools Protocol), for profiles and heap figures. */
  inspectorPort: number;
  stop(): Promise<void>;
}

/** Whether nothing listens on 127.0.0.1:`port`. */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once("error", () => resolveFree(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveFree(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** A port wrangler was to use is taken; `retry` unless the caller fixed that port. */
export class PortTakenError extends Error {
  readonly retry: boolean;
  constructor(message: string, retry: boolean) {
    super(message);
    this.name = "PortTakenError";
    this.retry = retry;
  }
}

/**
 * Starts `wrangler dev`. Free ports are chosen before wrangler binds them, so
 * another process (a parallel test file, another instance) can take one in
 * between: then it starts again on new ports, at most 3 times. `choosePort`
 * picks each port (the tests give it one that is taken).
 */
export async function startLocalInstance(
  options: LocalInstanceOptions,
  choosePort: () => Promise<number> = freePort,
): Promise<LocalInstance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, choosePort);
    } catch (error) {
      if (!(error instanceof PortTakenError && error.retry) || attempt >= 3) throw error;
    }
  }
}

async function startOnce(options: LocalInstanceOptions, choosePort: () => Promise<number>): Promise<LocalInstance> {
  const port = options.port ?? (await choosePort());
  const inspectorPort = await choosePort();
  // Otherwise the readiness check could be answered by whatever holds the port.
  if (!(await isPortFree(port))) {
    throw new PortTakenError(`port ${port} is already in use on 127.0.0.1`, options.port === undefined);
  }
  await mkdir(options.persistTo, { recursive: true });
  const envFile = join(options.persistTo, "secrets.env");
  await writeFile(
    envFile,
    Object.entries(options.secrets)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
    { mode: 0o600 },
  );
  const args = [
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    options.persistTo,
    "--env-file",
    envFile,
    "--show-interactive-dev-session=false",
    "--log-level",
    options.logLevel ?? "warn",
    ...(options.config ? ["--config", options.config] : []),
    ...Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child = spawn(join(PROJECT_ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      // wrangler lets the environment override --env-file: an inherited ADMIN_TOKEN (vitest.config.ts sets one) would win.
      ...options.secrets,
      WRANGLER_SEND_METRICS: "false",
      // No network: do not try to download the `request.cf` sample object.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      // wrangler dev's local trace collector stores a span per storage call
      // (hundreds of MB for a large publish) and slows everything; off unless asked for.
      X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
      CI: process.env.CI ?? "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  }).on("error", () => undefined);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let output = "";
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    if (options.verbose) for (const line of text.split("\n")) if (line.trim()) (options.log ?? console.error)(line);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(baseUrl, port, child, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stopChild(child);
    if (error instanceof PortTakenError) throw new PortTakenError(error.message, options.port === undefined);
    const message = `wrangler dev did not start: ${(error as Error).message}\n${output.slice(-4000)}`;
    // The inspector's socket or the Worker's: one of them was taken after it was chosen.
    if (output.includes("Address already in use")) throw new PortTakenError(message, true);
    throw new Error(message);
  }
  return { baseUrl, port, exited, pid: child.pid, inspectorPort, stop: () => stopChild(child) };
}

/**
 * Waits for an answer on `port`, then makes sure it came from the process we
 * started: another process that bound the port after it was chosen answers
 * too, and its tests would then run against a stranger until it stops.
 */
async function waitForReady(baseUrl: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    let answered = false;
    try {
      // A bounded probe: a Worker that failed to build makes wrangler hold requests open.
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      answered = true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
    if (answered) {
      if ((await listenerBelongsTo(port, child.pid ?? -1)) === false) {
        throw new PortTakenError(`port ${port} was taken by another process before wrangler bound it`, true);
      }
      return;
    }
  }
  throw new Error(`no answer on ${baseUrl} within ${timeoutMs} ms`);
}

/** Stops a child process: SIGTERM, then SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Random secrets for a local instance. */
export function randomSecrets(): LocalInstanceOptions["secrets"] {
  const bytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  return {
    ADMIN_TOKEN: Buffer.from(bytes(24)).toString("base64url"),
    KEY_ENCRYPTION_KEY: Buffer.from(bytes(32)).toString("base64"),
  };
}
