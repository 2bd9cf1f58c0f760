/**
 * The local instance an e2e test file drives with the CLI: `wrangler dev` on
 * state in a temporary folder (which is also the CLI's home), its secrets, and
 * the environment a CLI run gets against it. `useCliInstance` gives a describe
 * block one, started before its tests and stopped (its folder removed) after.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type LocalInstance, randomSecrets, startLocalInstance } from "../../scripts/lib/local-instance.ts";
import { type CliHarness, cliEnv, cliHarness } from "./cli-harness.ts";

export interface CliInstance {
  instance: LocalInstance;
  /** A temporary folder: the instance's state, and the CLI's home. */
  scratch: string;
  /** Where the instance keeps its state (Durable Objects' SQLite, R2): `<scratch>/state`. */
  persistTo: string;
  /** The instance's secrets (its KEY_ENCRYPTION_KEY is what an attacker of the storage would need too). */
  secrets: { ADMIN_TOKEN: string; KEY_ENCRYPTION_KEY: string };
  /** What a CLI run gets: the service, repository `repo`, admin token and passphrase, no colours. */
  env: NodeJS.ProcessEnv;
}

/** Starts an instance on fresh state in a new folder named `prefix…`, with a CLI environment for `repo`. */
export async function startCliInstance(
  prefix: string,
  { repo, passphrase }: { repo: string; passphrase: string },
): Promise<CliInstance> {
  const scratch = await mkdtemp(join(tmpdir(), prefix));
  const persistTo = join(scratch, "state");
  const secrets = randomSecrets();
  const instance = await startLocalInstance({ persistTo, secrets, readyTimeoutMs: 300_000 });
  const env = cliEnv({ home: scratch, url: instance.baseUrl, repo, adminToken: secrets.ADMIN_TOKEN, passphrase });
  return { instance, scratch, persistTo, secrets, env };
}

/** Stops the instance (if it started) and removes its folder. */
export async function stopCliInstance({ instance, scratch }: Partial<CliInstance>): Promise<void> {
  await instance?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}

/**
 * The describe block's instance, started by `start` (startCliInstance, or one
 * built on it) in a beforeAll hook registered now, so a beforeAll the block
 * registers afterwards finds it running; stopped and removed after the block's
 * tests. Its fields are filled in when it has started; `run` and `runInPty`
 * drive the CLI in its folder with its environment.
 */
export function useCliInstance<T extends CliInstance>(start: () => Promise<T>): T & CliHarness {
  const local = {} as T & CliHarness;
  Object.assign(
    local,
    cliHarness(
      () => local.scratch,
      () => local.env,
    ),
  );
  beforeAll(async () => {
    Object.assign(local, await start());
  }, 400_000);
  afterAll(() => stopCliInstance(local), 600_000);
  return local;
}
