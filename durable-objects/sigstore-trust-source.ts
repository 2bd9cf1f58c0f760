/**
 * Where the deployment's Sigstore trust material comes from: a TUF
 * repository (`SIGSTORE_TUF_URL`) and the root pinned as its first trust
 * (`SIGSTORE_TUF_ROOT`, a root.json; empty for the public-good root tuf-edge
 * bundles). Only for the public-good repository is there a bundled
 * trusted_root.json to use before the first refresh succeeds.
 */
import publicGood from "../src/attestations/trusted-roots/public-good.json";
import publicGoodTufRoot from "../src/attestations/trusted-roots/public-good-tuf-root.json";
import { utf8 } from "../src/lib/bytes.ts";
import { sha256Hex } from "../src/lib/digest.ts";

export const PUBLIC_GOOD_TUF_URL = "https://tuf-repo-cdn.sigstore.dev";

export interface TufSource {
  /** The repository's metadata URL (targets under `<url>/targets/`). */
  url: string;
  /** The pinned root.json. */
  root: Uint8Array<ArrayBuffer>;
  /** trusted_root.json to use until one has been fetched, if any. */
  bundledTrustedRoot: string | null;
}

export function sourceFromEnv(env: Pick<Env, "SIGSTORE_TUF_URL" | "SIGSTORE_TUF_ROOT">): TufSource {
  const url = (env.SIGSTORE_TUF_URL || PUBLIC_GOOD_TUF_URL).replace(/\/+$/, "");
  if (env.SIGSTORE_TUF_ROOT) return { url, root: utf8(env.SIGSTORE_TUF_ROOT), bundledTrustedRoot: null };
  return {
    url,
    root: utf8(JSON.stringify(publicGoodTufRoot)),
    bundledTrustedRoot: url === PUBLIC_GOOD_TUF_URL ? JSON.stringify(publicGood) : null,
  };
}

/** Names a source: a change of URL or pinned root starts over from the new first trust. */
export async function sourceId(source: TufSource): Promise<string> {
  return `${source.url} ${await sha256Hex(source.root)}`;
}
