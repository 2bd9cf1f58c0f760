/**
 * A plain static file server on node's http module, the baseline tuf-edge is
 * compared with. Run as its own process:
 *   node scripts/bench/static-server.ts <root> <port>
 * Each request reads the file from disk (the page cache, in practice), as a
 * typical static server does; prints "listening <port>" once it accepts.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, normalize } from "node:path";

const [root, portArg] = process.argv.slice(2);
if (!root || !portArg) {
  console.error("usage: static-server.ts <root> <port>");
  process.exit(2);
}

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
  if (path.includes("..") || (req.method !== "GET" && req.method !== "HEAD")) {
    res.writeHead(404).end();
    return;
  }
  try {
    const bytes = await readFile(join(root, path));
    res.writeHead(200, {
      "Content-Type": path.endsWith(".json") ? "application/json" : "application/octet-stream",
      "Content-Length": bytes.length,
      "Cache-Control": "public, max-age=10",
    });
    res.end(req.method === "HEAD" ? undefined : bytes);
  } catch {
    res.writeHead(404, { "Content-Length": 0 }).end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(portArg), "127.0.0.1", () => console.log(`listening ${portArg}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
