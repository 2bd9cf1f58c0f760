/**
 * The guides cannot rot: every code block of README.md and docs/operators.md
 * is run here, in the order a reader meets it, as written, against a local
 * instance, in a folder that looks like a checkout (links to scripts/, src/,
 * node_modules/ and package.json, so `npx tuf-edge` and `npm run` work).
 *
 *   ```sh / ```bash          run by one bash (set -euo pipefail) per document, so variables carry over;
 *                            `npx tuf-edge` runs the bin link npx would, without npm's start (see scriptFor)
 *   ```js                    written to a .mjs file and run with node at that point
 *   ```text, ```json, ```yaml, ```    output, data or configuration: not run
 *   ```LANG not-run: WHY     not run, for the reason given (a Cloudflare account, an interactive prompt…)
 * Any other block (```python) must say `not-run:` and why, or this test fails.
 *
 * README.md runs against `npm start` itself (scripts/dev.ts, with TUF_EDGE_DEV_DIR
 * pointing at the scratch folder and PORT at a free port: "127.0.0.1:8787" in the
 * blocks is replaced by it). docs/operators.md runs against a fresh instance with
 * TUF_EDGE_URL, TUF_EDGE_REPO=packages, TUF_EDGE_ADMIN_TOKEN and TUF_EDGE_PASSPHRASE set,
 * as its §0 says.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, PROJECT_ROOT, randomSecrets, startLocalInstance } from "../../scripts/lib/local-instance.ts";

interface CodeBlock {
  doc: string;
  /** Line of the opening fence, from 1. */
  line: number;
  lang: string;
  /** The reason given with `not-run:`, or null. */
  notRun: string | null;
  body: string;
}

const SHELL = new Set(["sh", "bash", "shell"]);
const SCRIPT = new Set(["js", "javascript", "mjs"]);
const DATA = new Set(["", "text", "json", "jsonl", "csv", "yaml", "yml", "toml"]);

/** The fenced code blocks of a Markdown document. */
function codeBlocks(markdown: string, doc: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end === -1) throw new Error(`${doc}:${i + 1}: a code block is not closed`);
    const notRun = /not-run:\s*(.+)$/.exec(open[2] ?? "");
    blocks.push({
      doc,
      line: i + 1,
      lang: (open[1] ?? "").toLowerCase(),
      notRun: notRun?.[1]?.trim() ?? null,
      body: lines.slice(i + 1, end).join("\n"),
    });
    i = end;
  }
  return blocks;
}

/** Blocks that neither run nor say why they do not. */
function unexplained(blocks: CodeBlock[]): string[] {
  return blocks
    .filter((b) => !b.notRun && !SHELL.has(b.lang) && !SCRIPT.has(b.lang) && !DATA.has(b.lang))
    .map((b) => `${b.doc}:${b.line} (${b.lang})`);
}

/** One bash script that runs a document's runnable blocks in order, announcing each on stderr. */
async function scriptFor(blocks: CodeBlock[], dir: string, rewrite: (body: string) => string): Promise<string> {
  const bin = join(dir, "node_modules/.bin");
  const parts = [
    "set -euo pipefail",
    // `npx tuf-edge` runs what npx resolves it to in the checkout (package.json's bin, scripts/cli.ts, with
    // node_modules/.bin first on PATH, so its `env node` is the pinned Node), without npm's own start: about
    // 1.2 s a command, over a hundred in docs/operators.md. test/e2e/cli.test.ts runs the real npx; any
    // other npx command here is npx's.
    `npx() { if [ "\${1-}" = tuf-edge ]; then shift; PATH=${JSON.stringify(bin)}:"$PATH" ${JSON.stringify(join(dir, "scripts/cli.ts"))} "$@"; else command npx "$@"; fi; }`,
  ];
  for (const [i, block] of blocks.entries()) {
    if (block.notRun || !(SHELL.has(block.lang) || SCRIPT.has(block.lang))) continue;
    parts.push(`printf '\\n::block %s::\\n' '${block.doc}:${block.line}' >&2`);
    if (SHELL.has(block.lang)) parts.push(rewrite(block.body));
    else {
      const file = join(dir, `.docs-block-${i}.mjs`);
      await writeFile(file, rewrite(block.body));
      parts.push(`node ${JSON.stringify(file)}`);
    }
  }
  parts.push("printf '\\n::done::\\n' >&2");
  return parts.join("\n");
}

interface Ran {
  code: number | null;
  output: string;
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** The failing block (the last announced) and the output since it was announced. */
function failureReport(ran: Ran): string {
  const at = ran.output.lastIndexOf("::block ");
  return `exit ${ran.code} in ${at === -1 ? "the prelude" : ran.output.slice(at)}`.slice(0, 6000);
}

/** A folder that looks like the checkout, for `npx tuf-edge`, `npm run`, `./scripts/…` and README.md. */
async function checkoutLike(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  for (const name of ["scripts", "src", "node_modules", "package.json"])
    await symlink(join(PROJECT_ROOT, name), join(dir, name));
  await copyFile(join(PROJECT_ROOT, "README.md"), join(dir, "README.md"));
  return dir;
}

const PASSPHRASE = "a passphrase for the guide";

async function documentBlocks(doc: string): Promise<CodeBlock[]> {
  return codeBlocks(await readFile(join(PROJECT_ROOT, doc), "utf8"), doc);
}

describe("the guides run as written", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("every code block of README.md and docs/operators.md runs or says why not", async () => {
    const all = [...(await documentBlocks("README.md")), ...(await documentBlocks("docs/operators.md"))];
    expect(unexplained(all)).toEqual([]);
    const run = all.filter((b) => !b.notRun && (SHELL.has(b.lang) || SCRIPT.has(b.lang)));
    expect(run.length).toBeGreaterThan(20);
  });

  it("README.md: every block runs against `npm start`", async () => {
    const dir = await checkoutLike("tuf-edge-readme-");
    const port = await freePort();
    const start: ChildProcess = spawn(process.execPath, [join(PROJECT_ROOT, "scripts/dev.ts")], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PORT: String(port), TUF_EDGE_DEV_DIR: dir, TUF_EDGE_VERBOSE: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(async () => {
      if (start.exitCode === null) {
        const exited = new Promise((r) => start.once("exit", r));
        start.kill("SIGINT");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    });
    let banner = "";
    await new Promise<void>((resolve, reject) => {
      start.stdout?.on("data", (d: Buffer) => {
        banner += d.toString();
        if (banner.includes("Press Ctrl-C to stop.")) resolve();
      });
      start.stderr?.on("data", (d: Buffer) => (banner += d.toString()));
      start.once("exit", (code) => reject(new Error(`npm start exited (${code}):\n${banner}`)));
    });
    expect(banner).toContain(`tuf-edge is running at http://127.0.0.1:${port}`);
    const script = await scriptFor(await documentBlocks("README.md"), dir, (body) =>
      body.replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`),
    );
    const ran = await runBash(script, dir, { ...process.env, NO_COLOR: "1" });
    expect(ran.code, failureReport(ran)).toBe(0);
    expect(ran.output).toContain("::done::");
  }, 1_500_000);

  it("docs/operators.md: every block runs against a local instance", async () => {
    const dir = await checkoutLike("tuf-edge-guide-");
    const secrets = randomSecrets();
    const instance = await startLocalInstance({ persistTo: join(dir, ".state"), secrets, readyTimeoutMs: 300_000 });
    cleanups.push(async () => {
      await instance.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const script = await scriptFor(await documentBlocks("docs/operators.md"), dir, (body) => body);
    const ran = await runBash(script, dir, {
      ...process.env,
      NO_COLOR: "1",
      TUF_EDGE_URL: instance.baseUrl,
      TUF_EDGE_REPO: "packages",
      TUF_EDGE_ADMIN_TOKEN: secrets.ADMIN_TOKEN,
      TUF_EDGE_PASSPHRASE: PASSPHRASE,
    });
    expect(ran.code, failureReport(ran)).toBe(0);
    expect(ran.output).toContain("::done::");
  }, 1_500_000);
});
