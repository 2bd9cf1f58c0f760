/** A fresh tuf-js client, as the delegation e2e tests run it against a local instance. */
import { mkdtemp, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { type RepositoryUrls, writeTrustedRoot } from "../../scripts/lib/client-setup.ts";

/**
 * A new tuf-js client in a new folder under `scratch`, trusting `rootBytes`
 * (root v1): refreshes, then looks `path` up. Returns the target info it finds
 * (null if none), the roles it loaded, and the client with its target folder (to download).
 */
export async function lookUpWithTufJs(scratch: string, rootBytes: Uint8Array, urls: RepositoryUrls, path: string) {
  const metadataDir = await mkdtemp(join(scratch, "metadata-"));
  const targetDir = await mkdtemp(join(scratch, "targets-"));
  await writeTrustedRoot(join(metadataDir, "root.json"), rootBytes);
  const tuf = new Updater({ metadataDir, metadataBaseUrl: urls.metadata, targetDir, targetBaseUrl: urls.targets });
  await tuf.refresh();
  const info = (await tuf.getTargetInfo(path)) ?? null;
  const roles = (await readdir(metadataDir)).map((file) => file.replace(/\.json$/, "")).sort();
  return { info, roles, tuf, targetDir };
}
