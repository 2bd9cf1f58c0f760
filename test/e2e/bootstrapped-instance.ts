/**
 * A local instance with one repository bootstrapped (two Ed25519 root keys,
 * threshold 2, 16 bins), an admin client and the client URLs besides what
 * startCliInstance gives: what the delegation e2e tests start from.
 */
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { repositoryUrls, type RepositoryUrls } from "../../scripts/lib/client-setup.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { type CliInstance, startCliInstance } from "./cli-instance.ts";

export interface BootstrappedInstance extends CliInstance {
  client: AdminClient;
  urls: RepositoryUrls;
  /** Root version 1, as published. */
  rootBytes: Uint8Array;
}

export async function startBootstrappedInstance(
  prefix: string,
  repo: string,
  passphrase: string,
): Promise<BootstrappedInstance> {
  const local = await startCliInstance(prefix, { repo, passphrase });
  const { baseUrl } = local.instance;
  const client = new AdminClient({ baseUrl, repo, token: local.secrets.ADMIN_TOKEN });
  const signers = await Promise.all([1, 2].map(async () => (await Ed25519Signer.generate()).signer));
  const { rootBytes } = await bootstrapRepository(client, {
    rootSigners: signers,
    threshold: 2,
    settings: { bins: 16 },
  });
  return { ...local, client, urls: repositoryUrls(baseUrl, repo), rootBytes };
}
