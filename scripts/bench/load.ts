/**
 * Load generators, each run as its own process (never inside the process
 * that measures or the one being measured): autocannon from node_modules
 * (always there), wrk from the system if installed (microsecond latencies,
 * less CPU per request).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/local-instance.ts";
import type { LoaderName } from "./types.ts";

export interface LoadOptions {
  url: string;
  durationS: number;
  connections: number;
  workDir: string;
}

export interface LoadResult {
  loader: LoaderName;
  durationS: number;
  requests: number;
  /** Requests answered 2xx (only those count toward req/s). */
  ok: number;
  /** Non-2xx answers, socket errors and timeouts. */
  failures: number;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  bytesPerS: number;
  raw: unknown;
}

const AUTOCANNON = join(PROJECT_ROOT, "node_modules/autocannon/autocannon.js");

export function loaderAvailable(loader: LoaderName): boolean {
  if (loader === "autocannon") return existsSync(AUTOCANNON);
  return spawnSync("wrk", ["--version"], { stdio: "ignore" }).error === undefined;
}

export function loaderVersion(loader: LoaderName): string {
  if (loader === "autocannon") {
    try {
      return `autocannon ${spawnSync(process.execPath, [AUTOCANNON, "--version"], { encoding: "utf8" })
        .stdout.trim()
        .split("\n")[0]
        ?.replace(/^autocannon\s*/, "")}`;
    } catch {
      return "autocannon";
    }
  }
  const out = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  const [firstLine = ""] = (out.stdout || out.stderr || "wrk").split("\n");
  const [version = ""] = firstLine.trim().split(" [");
  return version;
}

function runProcess(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

/** The line the wrk script below prints (every field is always written). */
interface WrkJson {
  requests: number;
  bytes: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  max_us: number;
}

interface AutocannonJson {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  requests: { total: number; sent: number };
  latency: { p50: number; p99: number; mean: number };
  throughput: { total: number };
}

async function autocannon(options: LoadOptions): Promise<LoadResult> {
  const args = [AUTOCANNON, "--json", "-c", String(options.connections), "-d", String(options.durationS), options.url];
  const { stdout, stderr, code } = await runProcess(process.execPath, args, (options.durationS + 60) * 1000);
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (code !== 0 || !line) throw new Error(`autocannon failed (exit ${code}): ${stderr.slice(-500)}`);
  const r = JSON.parse(line) as AutocannonJson;
  return {
    loader: "autocannon",
    durationS: r.duration,
    requests: r.requests.total,
    ok: r["2xx"],
    failures: r.non2xx + r.errors + r.timeouts,
    reqPerS: r["2xx"] / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    meanMs: r.latency.mean,
    bytesPerS: r.throughput.total / r.duration,
    raw: { ...r, latency: { ...r.latency }, requests: { ...r.requests } },
  };
}

/**
 * wrk reports through this script: one JSON line, latencies in microseconds.
 * (No per-response hook: it would slow wrk down; wrk counts status >= 400 itself.)
 */
const WRK_REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"bytes":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%f,"max_us":%d}\\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
`;

async function wrk(options: LoadOptions): Promise<LoadResult> {
  const script = join(options.workDir, "wrk-report.lua");
  await writeFile(script, WRK_REPORT);
  // One thread: the machine has few cores and the server under test needs them.
  const args = [
    "-t1",
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    "--timeout",
    "10s",
    "-s",
    script,
    options.url,
  ];
  const { stdout, stderr, code } = await runProcess("wrk", args, (options.durationS + 60) * 1000);
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${(stderr || stdout).slice(-500)}`);
  const r = JSON.parse(line) as WrkJson;
  const seconds = r.duration_us / 1e6;
  const failures = r.status + r.connect + r.read + r.write + r.timeout;
  const ok = r.requests - r.status;
  return {
    loader: "wrk",
    durationS: seconds,
    requests: r.requests,
    ok,
    failures,
    reqPerS: ok / seconds,
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    meanMs: r.mean_us / 1000,
    bytesPerS: r.bytes / seconds,
    raw: r,
  };
}

export function runLoad(loader: LoaderName, options: LoadOptions): Promise<LoadResult> {
  return loader === "autocannon" ? autocannon(options) : wrk(options);
}
