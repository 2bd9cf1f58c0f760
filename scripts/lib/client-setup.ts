/**
 * What a TUF client needs to start using a tuf-edge repository: the two base
 * URLs and the trusted root (root v1's exact bytes, the client's root.json).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { repositoryUrl } from "./repository-url.ts";

export interface RepositoryUrls {
  /** Where `N.root.json`, `timestamp.json` and `V.<role>.json` are served. */
  metadata: string;
  /** Where target files are served, under `<dir>/<sha256>.<name>`. */
  targets: string;
}

export function repositoryUrls(baseUrl: string, repo: string): RepositoryUrls {
  const base = repositoryUrl(baseUrl, repo);
  return { metadata: `${base}/metadata`, targets: `${base}/targets` };
}

/** Writes the trusted root to `file` (e.g. `<client metadata dir>/root.json`), creating its folder. */
export async function writeTrustedRoot(file: string, rootBytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, rootBytes);
}
