/**
 * A local instance with one repository bootstrapped (two Ed25519 root keys,
 * threshold 2, 16 bins), an admin client, the client URLs and a CLI
 * environment: what the delegation e2e tests start from.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { repositoryUrls, type RepositoryUrls } from "../../scripts/lib/client-setup.ts";
import { type LocalInstance, randomSecrets, startLocalInstance } from "../../scripts/lib/local-instance.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { cliEnv } from "./cli-harness.ts";

export interface BootstrappedInstance {
  instance: LocalInstance;
  /** A temporary folder: the instance's state, and the CLI's home. */
  scratch: string;
  client: AdminClient;
  urls: RepositoryUrls;
  /** Root version 1, as published. */
  rootBytes: Uint8Array;
  env: NodeJS.ProcessEnv;
  /** The instance's secrets (its KEY_ENCRYPTION_KEY is what an attacker of the storage would need too). */
  secrets: { ADMIN_TOKEN: string; KEY_ENCRYPTION_KEY: string };
}

export async function startBootstrappedInstance(
  prefix: string,
  repo: string,
  passphrase: string,
): Promise<BootstrappedInstance> {
  const scratch = await mkdtemp(join(tmpdir(), prefix));
  const secrets = randomSecrets();
  const instance = await startLocalInstance({ persistTo: join(scratch, "state"), secrets });
  const client = new AdminClient({ baseUrl: instance.baseUrl, repo, token: secrets.ADMIN_TOKEN });
  const signers = await Promise.all([1, 2].map(async () => (await Ed25519Signer.generate()).signer));
  const { rootBytes } = await bootstrapRepository(client, {
    rootSigners: signers,
    threshold: 2,
    settings: { bins: 16 },
  });
  const env = cliEnv({ home: scratch, url: instance.baseUrl, repo, adminToken: secrets.ADMIN_TOKEN, passphrase });
  return { instance, scratch, client, urls: repositoryUrls(instance.baseUrl, repo), rootBytes, env, secrets };
}

/** Stops the instance (if it started) and removes its folder. */
export async function stopBootstrappedInstance(instance: LocalInstance | undefined, scratch: string | undefined) {
  await instance?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}
