/**
 * `npm start`: tuf-edge on this machine, with a ready-to-use repository "demo".
 *
 * Runs `wrangler dev` (workerd, real Durable Objects and R2) on port 8787 (or
 * $PORT), state in .wrangler/state. Secrets are made once and kept in
 * .dev-keys/secrets.json. On the first start it makes two development root
 * keys in the operator CLI's key-file format (.dev-keys/demo/root-key-{1,2}.json,
 * passphrase in .dev-keys/demo/passphrase), bootstraps "demo" with 256 hash
 * bins and root threshold 2, uploads two demo targets and writes the trusted
 * root to .dev-keys/demo/root.json. It writes .tuf-edge.json (git-ignored)
 * for the CLI if there is none, so `npx tuf-edge status` works at once.
 * Later starts reuse all of it.
 * Runs until Ctrl-C. TUF_EDGE_VERBOSE=1 prints wrangler's output.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import { AdminClient, bootstrapRepository } from "./lib/admin-client.ts";
import { repositoryUrls, writeTrustedRoot } from "./lib/client-setup.ts";
import { demoTargets } from "./lib/demo-targets.ts";
import { loadOrCreateRootSigners, loadOrCreateSecrets, passphraseFile, rootKeyFile } from "./lib/dev-keys.ts";
import { PROJECT_ROOT, startLocalInstance, type LocalInstance } from "./lib/local-instance.ts";
import { sha256Hex } from "../src/lib/digest.ts";

const REPO = "demo";
const BINS = 256;
const ROOT_KEYS = 2;
const ROOT_THRESHOLD = 2;

/** Where the keys, state and CLI config go: the checkout, or TUF_EDGE_DEV_DIR (the docs test uses a scratch folder). */
const HOME = process.env.TUF_EDGE_DEV_DIR ? resolve(process.env.TUF_EDGE_DEV_DIR) : PROJECT_ROOT;
const KEYS_DIR = join(HOME, ".dev-keys");
const SECRETS_FILE = join(KEYS_DIR, "secrets.json");
const REPO_KEYS_DIR = join(KEYS_DIR, REPO);
const TRUSTED_ROOT = join(REPO_KEYS_DIR, "root.json");
const STATE_DIR = join(HOME, ".wrangler", "state");
/** Where the local instance writes the secrets it was started with. */
const STATE_ENV_FILE = join(STATE_DIR, "secrets.env");
/** The operator CLI's default config file (git-ignored). */
const CLI_CONFIG = join(HOME, ".tuf-edge.json");

const log = (line = "") => console.log(line);
const rel = (path: string) => relative(process.cwd(), path) || ".";

function parsePort(value: string | undefined): number {
  const port = Number(value ?? 8787);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`PORT must be a port number, not "${value}"`);
  return port;
}

/** wrangler would fail to bind, but the readiness check could then reach whatever already listens there. */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`port ${port} is in use (another \`npm start\`?); stop it or choose another port with PORT=…`)
          : error,
      ),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/** Bootstraps "demo" if it is not yet; makes sure the trusted root file exists. */
async function ensureDemo(instance: LocalInstance, client: AdminClient): Promise<void> {
  const status = await client.status();
  if (!status.bootstrapped) {
    log(
      `Repository "${REPO}" is not bootstrapped yet: bootstrapping (${BINS} hash bins, root threshold ${ROOT_THRESHOLD} of ${ROOT_KEYS})…`,
    );
    const { signers, generated } = await loadOrCreateRootSigners(REPO_KEYS_DIR, ROOT_KEYS);
    log(`  root keys ${generated ? "generated" : "reused"}: ${rel(REPO_KEYS_DIR)}/root-key-{1..${ROOT_KEYS}}.json`);
    const { rootBytes } = await bootstrapRepository(client, {
      rootSigners: signers,
      threshold: ROOT_THRESHOLD,
      settings: { bins: BINS },
    });
    await writeTrustedRoot(TRUSTED_ROOT, rootBytes);
    log(`  trusted root (root v1) written to ${rel(TRUSTED_ROOT)}`);
    for (const target of demoTargets()) {
      await client.upload(target.path, target.bytes);
      log(`  uploaded ${target.path} (${target.bytes.length} bytes)`);
    }
    log();
    return;
  }
  if (!existsSync(TRUSTED_ROOT)) {
    // Trust on first use, acceptable for a local development repository only.
    const response = await fetch(`${repositoryUrls(instance.baseUrl, REPO).metadata}/1.root.json`);
    if (!response.ok) throw new Error(`"${REPO}" is bootstrapped but 1.root.json is not served (${response.status})`);
    await writeTrustedRoot(TRUSTED_ROOT, new Uint8Array(await response.arrayBuffer()));
    log(`Trusted root was missing: wrote the served 1.root.json to ${rel(TRUSTED_ROOT)}`);
  }
  if (!existsSync(rootKeyFile(REPO_KEYS_DIR, 1))) {
    log(`Note: "${REPO}" was bootstrapped with root keys that are no longer in ${rel(REPO_KEYS_DIR)}.`);
    log(`      To start over: stop, delete ${rel(STATE_DIR)} and ${rel(KEYS_DIR)}, and run npm start again.`);
  }
}

/** Points the operator CLI at this instance, unless the checkout already has a config of its own. */
async function writeCliConfig(instance: LocalInstance, adminToken: string): Promise<boolean> {
  if (existsSync(CLI_CONFIG)) return false;
  const config = { url: instance.baseUrl, repo: REPO, adminToken };
  await writeFile(CLI_CONFIG, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return true;
}

async function printBanner(instance: LocalInstance, client: AdminClient): Promise<void> {
  const urls = repositoryUrls(instance.baseUrl, REPO);
  const status = await client.status();
  const tokenCommand = `$(node -p 'require(${JSON.stringify(SECRETS_FILE)}).ADMIN_TOKEN')`;
  log(`tuf-edge is running at ${instance.baseUrl}`);
  log();
  log(
    `  Repository     ${REPO}: ${status.targetsCount} targets, ${status.bins} bins, timestamp v${status.roles.timestamp?.version}`,
  );
  log(`  Metadata URL   ${urls.metadata}`);
  log(`  Targets URL    ${urls.targets}`);
  log(`  Trusted root   ${TRUSTED_ROOT}`);
  log(`                 (root v1: give it to a TUF client as root.json in its metadata folder)`);
  log(`  Admin token    "ADMIN_TOKEN" in ${SECRETS_FILE}`);
  log(`  Local state    ${STATE_DIR}`);
  log(
    `  Root keys      ${rel(rootKeyFile(REPO_KEYS_DIR, 1))}, …-2.json (passphrase in ${rel(passphraseFile(REPO_KEYS_DIR))})`,
  );
  log();
  log("  Try:");
  log(`    curl -s ${urls.metadata}/timestamp.json`);
  for (const target of demoTargets()) {
    const slash = target.path.lastIndexOf("/");
    log(
      `    curl -s -O ${urls.targets}/${target.path.slice(0, slash + 1)}${await sha256Hex(target.bytes)}.${target.path.slice(slash + 1)}`,
    );
  }
  log(`    curl -s -H "Authorization: Bearer ${tokenCommand}" ${instance.baseUrl}/${REPO}/admin/status`);
  log("    npx tuf-edge status");
  log();
  log("Press Ctrl-C to stop.");
}

async function main(): Promise<void> {
  const port = parsePort(process.env.PORT);
  const verbose = process.env.TUF_EDGE_VERBOSE === "1";
  const { secrets, origin } = await loadOrCreateSecrets(SECRETS_FILE, STATE_ENV_FILE);
  if (origin === "new") log(`Generated local secrets in ${rel(SECRETS_FILE)}`);
  if (origin === "state")
    log(`${rel(SECRETS_FILE)} was missing: kept the secrets of the existing state in ${rel(STATE_DIR)}`);

  await assertPortFree(port);
  log(`Starting wrangler dev on port ${port}${verbose ? "" : " (TUF_EDGE_VERBOSE=1 shows its output)"}…`);
  // A first start on a slow or busy machine can take minutes (workerd, the bundle, migrations).
  const instance = await startLocalInstance({ persistTo: STATE_DIR, secrets, port, verbose, readyTimeoutMs: 300_000 });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping wrangler dev…`);
    await instance.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // The wrangler child keeps this process alive; the event loop only empties when it is gone.
  process.on("beforeExit", () => {
    if (stopping) return;
    console.error(`wrangler dev exited unexpectedly${verbose ? "" : "; run with TUF_EDGE_VERBOSE=1 to see why"}`);
    process.exit(1);
  });

  const client = new AdminClient({ baseUrl: instance.baseUrl, repo: REPO, token: secrets.ADMIN_TOKEN });
  try {
    await ensureDemo(instance, client);
    if (await writeCliConfig(instance, secrets.ADMIN_TOKEN))
      log(`Wrote ${rel(CLI_CONFIG)} (git-ignored): the operator CLI now talks to this instance.`);
    await printBanner(instance, client);
  } catch (error) {
    stopping = true;
    await instance.stop();
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
