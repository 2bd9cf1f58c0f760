/**
 * A baseline inside the same runtime: a trivial Worker, run by the same
 * `wrangler dev`, that answers with the same bytes held in a constant (no
 * routing, no cache, no R2). The gap between it and tuf-edge is tuf-edge's
 * own work; the gap between it and a static server is the local runtime's.
 */
import { copyFile, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../lib/local-instance.ts";
import type { LocalInstance } from "../lib/local-instance.ts";
import type { LocalInstanceModule } from "./snapshot.ts";

export interface TrivialFile {
  path: string;
  bytes: Uint8Array;
  contentType: string;
}

export async function startTrivialWorker(
  workDir: string,
  files: TrivialFile[],
  /** The node_modules to run wrangler from (the frozen copy's, so both instances run the same wrangler). */
  nodeModules: string = join(PROJECT_ROOT, "node_modules"),
): Promise<{ instance: LocalInstance; root: string }> {
  const root = join(workDir, "trivial-worker");
  await mkdir(join(root, "scripts/lib"), { recursive: true });
  const toml = await readFile(join(PROJECT_ROOT, "wrangler.toml"), "utf8").catch(() => "");
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? "2026-11-01";
  await writeFile(
    join(root, "package.json"),
    JSON.stringify({ name: "bench-trivial-worker", private: true, type: "module" }),
  );
  await writeFile(
    join(root, "wrangler.toml"),
    `name = "bench-trivial-worker"\nmain = "worker.js"\ncompatibility_date = "${compatibilityDate}"\n`,
  );
  const table = files.map((f) => [f.path, { b64: Buffer.from(f.bytes).toString("base64"), type: f.contentType }]);
  await writeFile(
    join(root, "worker.js"),
    `const FILES = new Map(${JSON.stringify(table)}.map(([p, f]) => [p, { bytes: Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0)), type: f.type }]));
export default {
  fetch(request) {
    const file = FILES.get(new URL(request.url).pathname);
    if (!file) return new Response(null, { status: 404 });
    return new Response(file.bytes, { headers: { "Content-Type": file.type, "Cache-Control": "public, max-age=10" } });
  },
};
`,
  );
  // The instance helper computes the project root from its own place: give it one here.
  await copyFile(join(PROJECT_ROOT, "scripts/lib/local-instance.ts"), join(root, "scripts/lib/local-instance.ts"));
  await symlink(nodeModules, join(root, "node_modules"), "dir");
  const module = (await import(pathToFileURL(join(root, "scripts/lib/local-instance.ts")).href)) as LocalInstanceModule;
  const instance = await module.startLocalInstance({ persistTo: join(root, "state"), secrets: module.randomSecrets() });
  return { instance, root };
}
