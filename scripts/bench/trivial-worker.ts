/**
 * A baseline inside the same runtime: a trivial Worker, run by the same
 * `wrangler dev`, that answers with the same bytes held in a constant (no
 * routing, no cache, no R2). The gap between it and tuf-edge is tuf-edge's
 * own work; the gap between it and a static server is the local runtime's.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/local-instance.ts";
import type { LocalInstance } from "../lib/local-instance.ts";
import { startScratchWorker } from "./scratch-worker.ts";

export interface TrivialFile {
  path: string;
  bytes: Uint8Array;
  contentType: string;
}

export function startTrivialWorker(
  workDir: string,
  files: TrivialFile[],
  /** The node_modules to run wrangler from (the frozen copy's, so both instances run the same wrangler). */
  nodeModules: string = join(PROJECT_ROOT, "node_modules"),
): Promise<{ instance: LocalInstance; root: string }> {
  const table = files.map((f) => [f.path, { b64: Buffer.from(f.bytes).toString("base64"), type: f.contentType }]);
  const script = `const FILES = new Map(${JSON.stringify(table)}.map(([p, f]) => [p, { bytes: Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0)), type: f.type }]));
export default {
  fetch(request) {
    const file = FILES.get(new URL(request.url).pathname);
    if (!file) return new Response(null, { status: 404 });
    return new Response(file.bytes, { headers: { "Content-Type": file.type, "Cache-Control": "public, max-age=10" } });
  },
};
`;
  return startScratchWorker(workDir, { name: "trivial-worker", script }, nodeModules);
}
