/**
 * What a dead object of each kind adds to a major collection's pause in
 * workerd, which runs V8 without incremental marking (so the pause is one
 * stop-the-world stretch of the object's thread). A Durable Object in a
 * scratch workerd (Miniflare, the project's wrangler's) makes N objects of
 * one kind and drops them, over five requests; an explicit gc() before and
 * after (workerd started with V8's --expose-gc and --trace-gc-nvp) times the
 * collection that frees them, and how much of it lies outside V8's own
 * phases (the runtime's C++ objects, swept in the pause: gc-trace.ts).
 * Kinds: plain JavaScript objects (the control), SqlStorage cursors
 * (`exec(...).one()`), INSERTs' cursors, TextEncoder results, Headers,
 * crypto.subtle.digest and Ed25519 crypto.subtle.sign results, and R2 puts
 * (a tenth as many, to the local simulator): what a push, a round and the
 * pages' documents make many of.
 *
 *   node scripts/bench/gc-objects.ts [--objects N] [--repeat R]
 *
 * Prints each kind's pause (the median of R) and its excess over the
 * control's, per object. The scratch is not tuf-edge's code: it isolates
 * the runtime's cost per object, which docs/measured.md ("Stop-the-world
 * collections") multiplies by what tuf-edge makes per target.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseGcLine } from "./gc-trace.ts";

const KINDS = {
  "plain objects": "for (let i = 0; i < n; i++) keep.push({ a: i, b: 'x' + i, c: [i] });",
  "SQL cursors (SELECT, one())": "for (let i = 0; i < n; i++) sql.exec('SELECT ? AS x', i).one();",
  "SQL cursors (INSERT)":
    "for (let i = 0; i < n; i++) sql.exec('INSERT OR REPLACE INTO t VALUES (?, ?)', i % 1000, 'v' + i);",
  "TextEncoder.encode results":
    "for (let i = 0; i < n; i++) (encoder ??= new TextEncoder()).encode('hello world ' + i);",
  Headers: "for (let i = 0; i < n; i++) new Headers({ a: String(i) }).get('a');",
  "crypto.subtle.digest results":
    "for (let i = 0; i < n; i++) await crypto.subtle.digest('SHA-256', new Uint8Array(64));",
  "crypto.subtle.sign results (Ed25519)":
    "this.key ??= (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign'])).privateKey; for (let i = 0; i < n; i++) await crypto.subtle.sign('Ed25519', this.key, new Uint8Array(64));",
  // A tenth as many: each is a round trip to the local R2 simulator (in this process, as in one workerd).
  "R2 puts (one object each, 64 bytes)":
    "for (let i = 0; i < n / FEWER; i++) await this.env.BUCKET.put('k' + (i % 100), new Uint8Array(64), { httpMetadata: { contentType: 'application/json' } });",
} as const;

/** Kinds made a tenth as often (`n / FEWER`): each costs a round trip. */
const FEWER = 10;
const fewer = (kind: string) => kind.startsWith("R2 ");

const WORKER = `import { DurableObject } from "cloudflare:workers";
const FEWER = ${FEWER};
let encoder;
export class Scratch extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)"); }
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const sql = this.ctx.storage.sql;
    const keep = [];
    switch (url.pathname) {
      case "/gc": gc(); break;
${Object.values(KINDS)
  .map((code, i) => `      case "/kind/${i}": { ${code} break; }`)
  .join("\n")}
      default: return new Response(null, { status: 404 });
    }
    return new Response(String(keep.length));
  }
}
export default { fetch: (request, env) => env.SCRATCH.getByName("one").fetch(request) };`;

const { values } = parseArgs({
  options: { objects: { type: "string", default: "20000" }, repeat: { type: "string", default: "3" } },
});
const perRequest = Number(values.objects);
const repeat = Number(values.repeat);
const REQUESTS = 5;

const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler"));
const { Miniflare, convertV4MiniflareOptions } = (await import(
  pathToFileURL(fromWrangler.resolve("miniflare")).href
)) as typeof import("miniflare") & { convertV4MiniflareOptions: (o: unknown) => unknown };
const dir = mkdtempSync(join(tmpdir(), "gc-objects-"));
writeFileSync(join(dir, "worker.js"), WORKER);
// Started from the project's folder, this workerd fails to load the scratch ("internal error"), as if
// something there (its .wrangler folder) were picked up; from a folder of its own it starts.
process.chdir(dir);
const lines: string[] = [];
process.env.MINIFLARE_WORKERD_V8_FLAGS = "--expose-gc --trace-gc-nvp";
const mf = new Miniflare(
  convertV4MiniflareOptions({
    handleStructuredLogs: ({ message }: { message: string }) => lines.push(message),
    workers: [
      {
        name: "gc-objects",
        modules: true,
        scriptPath: join(dir, "worker.js"),
        compatibilityDate: "2025-09-01",
        durableObjects: { SCRATCH: { className: "Scratch", useSQLite: true } },
        r2Buckets: ["BUCKET"],
      },
    ],
  }) as ConstructorParameters<typeof Miniflare>[0],
);
const url = await mf.ready;
const hit = async (path: string) => {
  const response = await fetch(new URL(path, url));
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  await response.text();
};
const plan: string[] = [];
await hit("/gc");
plan.push("warm-up");
for (const [i, kind] of Object.keys(KINDS).entries()) {
  for (let r = 0; r < repeat; r++) {
    await hit("/gc");
    plan.push("before");
    for (let k = 0; k < REQUESTS; k++) await hit(`/kind/${i}?n=${perRequest}`);
    await hit("/gc");
    plan.push(kind);
  }
}
// workerd's stdout is block-buffered when piped: young collections' lines (a few KB of them) push the last
// explicit ones out before the process ends.
for (let i = 0; i < 40 && lines.filter((line) => line.includes("testing")).length < plan.length; i++) {
  await hit("/kind/0?n=200000");
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await mf.dispose();
rmSync(dir, { recursive: true, force: true });

// Explicit collections are the "testing" ones, in the order they were asked for (stdout keeps the order).
const explicit = lines.filter((line) => line.includes("testing")).map(parseGcLine);
if (explicit.length !== plan.length)
  throw new Error(`expected ${plan.length} explicit collections in workerd's output, read ${explicit.length}`);
const pauses = new Map<string, number[]>();
const outside = new Map<string, number[]>();
for (const [i, kind] of plan.entries()) {
  if (kind === "warm-up" || kind === "before") continue;
  const event = explicit[i];
  pauses.set(kind, [...(pauses.get(kind) ?? []), event?.pauseMs ?? Number.NaN]);
  const rest = event?.v8PhasesMs === undefined ? Number.NaN : event.pauseMs - event.v8PhasesMs;
  outside.set(kind, [...(outside.get(kind) ?? []), rest]);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const objects = perRequest * REQUESTS;
const control = median(pauses.get("plain objects") ?? []);
console.log(
  `Major collection after ${objects.toLocaleString("en-US")} dead objects of one kind (R2 puts: ${(objects / FEWER).toLocaleString("en-US")}; median of ${repeat}):`,
);
console.log(
  `${"kind".padEnd(40)} ${"pause, ms".padStart(10)} ${"outside V8's phases, ms".padStart(24)} ${"over the control, ns per object".padStart(32)}`,
);
for (const [kind, list] of pauses) {
  const pause = median(list);
  const made = fewer(kind) ? objects / FEWER : objects;
  const excess = kind === "plain objects" ? "–" : (((pause - control) * 1e6) / made).toFixed(0);
  const rest = median(outside.get(kind) ?? []);
  console.log(
    `${kind.padEnd(40)} ${pause.toFixed(2).padStart(10)} ${rest.toFixed(2).padStart(24)} ${excess.padStart(32)}`,
  );
}
