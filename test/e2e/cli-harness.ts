/**
 * Runs the operator CLI (scripts/cli.ts) as a subprocess with the pinned
 * Node (process.execPath), for the end-to-end tests: plain runs with captured
 * output, and runs in a pseudo-terminal made by util-linux `script` where
 * answers are typed once their prompt shows (expect-style).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/local-instance.ts";
import { defined } from "../../scripts/lib/defined.ts";

export const CLI = join(PROJECT_ROOT, "scripts/cli.ts");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI sequences this strips
export const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");

/** `extra` values of undefined remove a variable from `base`. */
export function mergeEnv(base: NodeJS.ProcessEnv, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

export interface CliHarness {
  /** Runs the CLI in `cwd()`; `extraEnv` values of undefined remove a variable. */
  run(args: string[], extraEnv?: Record<string, string | undefined>, cwd?: string): Promise<Run>;
  /**
   * Runs the CLI in a pseudo-terminal, answering each prompt once its text
   * appears. Returns the exit code and the screen without ANSI sequences.
   */
  runInPty(
    args: string[],
    steps: Array<{ expect: RegExp; send: string }>,
    extraEnv?: Record<string, string | undefined>,
  ): Promise<{ code: number | null; screen: string }>;
}

export function cliHarness(cwd: () => string, env: () => NodeJS.ProcessEnv): CliHarness {
  return {
    run(args, extraEnv = {}, dir = cwd()) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], {
          cwd: dir,
          env: mergeEnv(env(), extraEnv),
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
    },
    runInPty(args, steps, extraEnv = {}) {
      const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const command = `stty cols 200 rows 50; exec ${[process.execPath, CLI, ...args].map(quote).join(" ")}`;
      return new Promise((resolve, reject) => {
        const child = spawn("script", ["-qfec", command, "/dev/null"], {
          cwd: cwd(),
          env: mergeEnv(env(), { TERM: "xterm", ...extraEnv }),
          stdio: ["pipe", "pipe", "pipe"],
        });
        let screen = "";
        let consumed = 0;
        let step = 0;
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`pty timed out at step ${step} (${steps[step]?.expect}); screen:\n${stripAnsi(screen)}`));
        }, 60_000);
        const advance = () => {
          while (step < steps.length) {
            const text = stripAnsi(screen).slice(consumed);
            const match = defined(steps[step]).expect.exec(text);
            if (!match) return;
            consumed += match.index + match[0].length;
            const answer = defined(steps[step]).send;
            step++;
            // Type the answer, then Enter separately, as a person would.
            setTimeout(() => {
              child.stdin.write(answer.replace(/\r$/, ""));
              if (answer.endsWith("\r")) setTimeout(() => child.stdin.write("\r"), 50);
            }, 100);
          }
        };
        child.stdout.on("data", (d: Buffer) => {
          screen += d.toString();
          advance();
        });
        child.stderr.on("data", (d: Buffer) => (screen += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          if (step < steps.length)
            return reject(
              new Error(
                `exited (${code}) before step ${step} (${defined(steps[step]).expect}); screen:\n${stripAnsi(screen)}`,
              ),
            );
          resolve({ code, screen: stripAnsi(screen) });
        });
      });
    },
  };
}

/** The environment a CLI run gets in the e2e tests: the service, repository, token and passphrase, no colours. */
export function cliEnv(options: {
  home: string;
  url: string;
  repo: string;
  adminToken: string;
  passphrase: string;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: options.home,
    TUF_EDGE_URL: options.url,
    TUF_EDGE_REPO: options.repo,
    TUF_EDGE_ADMIN_TOKEN: options.adminToken,
    TUF_EDGE_PASSPHRASE: options.passphrase,
    NO_COLOR: "1",
  };
}

/** The run's stdout as JSON, or a failure that shows both streams. */
export function json(r: Run) {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** Expects exit code 0; returns the run. */
export function ok(r: Run): Run {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}
