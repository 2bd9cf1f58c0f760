/**
 * The static baselines: node's http module (scripts/bench/static-server.ts,
 * its own process) and, when installed, nginx (one worker process).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, stopChild } from "../lib/local-instance.ts";

export interface StaticServer {
  name: string;
  baseUrl: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const HERE = dirname(fileURLToPath(import.meta.url));

async function waitForUrl(url: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}: ${output().slice(-1000)}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer on ${url} within ${timeoutMs} ms: ${output().slice(-1000)}`);
}

/** Starts a server process and waits until `baseUrl + probePath` answers. */
async function startServer(
  name: string,
  command: string,
  args: string[],
  port: number,
  probePath: string,
): Promise<StaticServer> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  try {
    await waitForUrl(baseUrl + probePath, child, 15_000, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, baseUrl, pid: child.pid, stop };
}

/** `probePath`: a file under `root` that must be served before the server counts as up. */
export async function startNodeStatic(root: string, probePath: string): Promise<StaticServer> {
  const port = await freePort();
  return startServer(
    `node:http ${process.version}`,
    process.execPath,
    [join(HERE, "static-server.ts"), root, String(port)],
    port,
    probePath,
  );
}

export function nginxBinary(): string | null {
  for (const candidate of ["nginx", "/usr/sbin/nginx"]) {
    const out = spawnSync(candidate, ["-v"], { encoding: "utf8" });
    if (out.error === undefined && out.status === 0) return candidate;
  }
  return null;
}

export function nginxVersion(binary: string): string {
  const out = spawnSync(binary, ["-v"], { encoding: "utf8" });
  return (out.stderr || out.stdout).trim().replace(/^nginx version:\s*/, "");
}

/** nginx with one worker process, no access log, the same files. Null when nginx is not installed. */
export async function startNginx(root: string, probePath: string, workDir: string): Promise<StaticServer | null> {
  const binary = nginxBinary();
  if (!binary) return null;
  const port = await freePort();
  const prefix = join(workDir, "nginx");
  await mkdir(join(prefix, "tmp"), { recursive: true });
  // nginx's worker may run as another user: let it read the files.
  for (let dir = root; dir.startsWith(workDir) && dir !== workDir; dir = dirname(dir)) await chmod(dir, 0o755);
  await chmod(workDir, 0o755);
  const conf = join(prefix, "nginx.conf");
  await writeFile(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${join(prefix, "nginx.pid")};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path ${join(prefix, "tmp")};
  proxy_temp_path ${join(prefix, "tmp")};
  fastcgi_temp_path ${join(prefix, "tmp")};
  uwsgi_temp_path ${join(prefix, "tmp")};
  scgi_temp_path ${join(prefix, "tmp")};
  types { application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    add_header Cache-Control "public, max-age=10";
  }
}
`,
  );
  return startServer(
    `nginx ${nginxVersion(binary)}`,
    binary,
    ["-p", prefix, "-c", conf, "-e", "stderr"],
    port,
    probePath,
  );
}
