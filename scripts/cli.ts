#!/usr/bin/env node
/**
 * tuf-edge: the operator CLI. One module per command group in scripts/cli/.
 * Runs on Node 24 (TypeScript by type stripping): `npx tuf-edge …`.
 */
import { Command, CommanderError } from "commander";
import { registerBootstrap } from "./cli/bootstrap.ts";
import { registerCeremony } from "./cli/ceremony.ts";
import { registerDelegation } from "./cli/delegation.ts";
import { DEFAULT_CONFIG_FILE } from "./cli/config.ts";
import { EXIT, EXIT_CODES_HELP, describeError, type ReportedError } from "./cli/exit.ts";
import { examples } from "./cli/help.ts";
import { registerEvents } from "./cli/events.ts";
import { registerImport } from "./cli/import.ts";
import { registerKek } from "./cli/kek.ts";
import { registerKeys } from "./cli/keys.ts";
import { registerLog } from "./cli/log.ts";
import { color } from "./cli/output.ts";
import { registerPages } from "./cli/pages.ts";
import { registerPush } from "./cli/push.ts";
import { registerRegistry } from "./cli/registry.ts";
import { registerRotate } from "./cli/rotate.ts";
import { registerStatus } from "./cli/status.ts";
import { registerVerify } from "./cli/verify.ts";

const SETTINGS_HELP = `Settings (flags > environment > config file):
  --url            TUF_EDGE_URL               the service, e.g. https://tuf.example.com
  --repo           TUF_EDGE_REPO              the repository name
  --admin-token-file TUF_EDGE_ADMIN_TOKEN     the admin API bearer token
  --registry       TUF_EDGE_REGISTRY          the registry pushes and uploads come from (its name at tuf-edge)
                   TUF_EDGE_REGISTRY_SECRET   a registry's webhook credential (whsec_… or whsk_…)
                   TUF_EDGE_PASSPHRASE        key file passphrase, for automation (else a prompt)
  --config FILE    JSON with url, repo, adminToken, registry, registrySecret (default ./${DEFAULT_CONFIG_FILE}; mode 0600)`;

export function buildProgram(): Command {
  const program = new Command("tuf-edge")
    .description(
      "Operate a tuf-edge TUF repository: root keys, bootstrap and ceremonies, rotation, status, targets, verification.",
    )
    .version("0.1.0")
    .option("--url <url>", "the tuf-edge service URL")
    .option("--repo <name>", "the repository name")
    .option("--registry <name>", "the registry that pushes (push, upload)")
    .option("--config <file>", `config file (default ./${DEFAULT_CONFIG_FILE})`)
    .option("--admin-token-file <file>", "read the admin token from a file")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
${SETTINGS_HELP}

${EXIT_CODES_HELP}
${examples([
  "tuf-edge keys generate --out root-a.json",
  "tuf-edge bootstrap --key root-a.json --key root-b.json --public-key root-c.pub.json --threshold 2 --yes",
  "tuf-edge status",
  "tuf-edge import targets.jsonl",
  "tuf-edge rotate online-key",
  "tuf-edge ceremony sign 0123456789abcdef --key root-a.json",
  "tuf-edge verify --root demo.1.root.json --target pkg/app-1.0.tgz",
])}
Guide: docs/operators.md`,
    );
  registerKeys(program);
  registerBootstrap(program);
  registerCeremony(program);
  registerRotate(program);
  registerStatus(program);
  registerPush(program);
  registerRegistry(program);
  registerDelegation(program);
  registerImport(program);
  registerVerify(program);
  registerLog(program);
  registerKek(program);
  registerEvents(program);
  registerPages(program);
  // Usage errors exit 2; --help and --version exit 0.
  const exitOverride = (command: Command) => {
    command.exitOverride();
    for (const sub of command.commands) exitOverride(sub);
  };
  exitOverride(program);
  return program;
}

/** Prints a failure: one line (and a hint) on stderr and, with --json, an error document on stdout. */
function report(reported: ReportedError, json: boolean): number {
  if (json) {
    const { exitCode, message, hint, problem } = reported;
    process.stdout.write(
      `${JSON.stringify({ error: { exitCode, message, ...(hint ? { hint } : {}), ...(problem ? { problem } : {}) } }, null, 2)}\n`,
    );
  }
  process.stderr.write(`${color.red("error:", process.stderr)} ${reported.message}\n`);
  if (reported.hint) process.stderr.write(`${color.dim(`hint: ${reported.hint}`, process.stderr)}\n`);
  return reported.exitCode;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.slice(2).includes("--json");
  // With --json, commander's own usage messages become the error document (one message, on stderr once).
  if (json) {
    const quiet = (command: Command) => {
      command.configureOutput({ writeErr: () => {}, outputError: () => {} });
      command.showHelpAfterError(false);
      for (const sub of command.commands) quiet(sub);
    };
    quiet(program);
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return EXIT.ok;
      if (!json) return EXIT.usage;
      return report({ exitCode: EXIT.usage, message: error.message.replace(/^error: /, "") }, true);
    }
    const code = report(describeError(error), json);
    if (process.env.TUF_EDGE_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return code;
  }
}

// `tuf-edge … | head`: a closed pipe ends the output quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main(process.argv);
