/**
 * Settings: flags > environment > config file (--config, default ./.tuf-edge.json).
 *   url            TUF_EDGE_URL               the service, e.g. https://tuf.example.com
 *   repo           TUF_EDGE_REPO              the repository name
 *   adminToken     TUF_EDGE_ADMIN_TOKEN       bearer token of the admin API
 *   registry       TUF_EDGE_REGISTRY          the registry that pushes (its name at tuf-edge; needed when a repository has several)
 *   registrySecret TUF_EDGE_REGISTRY_SECRET   a registry's webhook credential: whsec_… (HMAC) or whsk_… (Ed25519 seed)
 * Secrets are never printed. A config file holding a secret should be readable by its owner only.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { AdminClient } from "../lib/admin-client.ts";
import { RegistryClient, type RegistryCredential } from "../lib/registry-client.ts";
import { fromBase64 } from "../../src/lib/bytes.ts";
import { UnreachableError, usageError } from "./exit.ts";
import { warn } from "./output.ts";

export const DEFAULT_CONFIG_FILE = ".tuf-edge.json";

export interface GlobalOptions {
  url?: string;
  repo?: string;
  registry?: string;
  config?: string;
  adminTokenFile?: string;
  json?: boolean;
  yes?: boolean;
}

export interface ConfigFile {
  url?: string;
  repo?: string;
  adminToken?: string;
  registry?: string;
  registrySecret?: string;
}

const CONFIG_KEYS = ["url", "repo", "adminToken", "registry", "registrySecret"] as const;

export function readConfigFile(path: string | undefined): { file: string; config: ConfigFile } {
  const explicit = path !== undefined;
  const file = resolve(path ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (explicit) throw usageError(`config file ${file} does not exist`);
    return { file, config: {} };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw usageError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw usageError(`config file ${file} must hold a JSON object`);
  const config: ConfigFile = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key))
      throw usageError(`config file ${file}: unknown setting "${key}" (known: ${CONFIG_KEYS.join(", ")})`);
    if (typeof value !== "string") throw usageError(`config file ${file}: "${key}" must be a string`);
    config[key as keyof ConfigFile] = value;
  }
  if (
    (config.adminToken || config.registrySecret) &&
    process.platform !== "win32" &&
    (statSync(file).mode & 0o077) !== 0
  ) {
    warn(`${file} holds a secret and is readable by others: chmod 600 ${file}`);
  }
  return { file, config };
}

export interface Settings {
  url: string | undefined;
  repo: string | undefined;
  adminToken: string | undefined;
  registry: string | undefined;
  registrySecret: string | undefined;
}

export function resolveSettings(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  const { config } = readConfigFile(options.config);
  const pick = (flag: string | undefined, envName: string, key: keyof ConfigFile) =>
    flag ?? (env[envName] || undefined) ?? config[key];
  let tokenFromFile: string | undefined;
  if (options.adminTokenFile) {
    try {
      tokenFromFile = readFileSync(options.adminTokenFile, "utf8").trim();
    } catch (error) {
      throw usageError(`cannot read --admin-token-file: ${(error as Error).message}`);
    }
  }
  return {
    url: pick(options.url, "TUF_EDGE_URL", "url")?.replace(/\/+$/, ""),
    repo: pick(options.repo, "TUF_EDGE_REPO", "repo"),
    adminToken: pick(tokenFromFile, "TUF_EDGE_ADMIN_TOKEN", "adminToken"),
    registry: pick(options.registry, "TUF_EDGE_REGISTRY", "registry"),
    registrySecret: pick(undefined, "TUF_EDGE_REGISTRY_SECRET", "registrySecret"),
  };
}

export function requireUrl(s: Settings): string {
  if (!s.url) throw usageError("no service URL", 'pass --url, set TUF_EDGE_URL, or put "url" in .tuf-edge.json');
  if (!/^https?:\/\//.test(s.url))
    throw usageError(`the service URL must start with http:// or https://, not "${s.url}"`);
  return s.url;
}

export function requireRepo(s: Settings): string {
  if (!s.repo)
    throw usageError("no repository name", 'pass --repo, set TUF_EDGE_REPO, or put "repo" in .tuf-edge.json');
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(s.repo))
    throw usageError(`"${s.repo}" is not a repository name (lower-case letters, digits, '-')`);
  return s.repo;
}

/** fetch that reports an unreachable server as exit code 3, with a timeout. */
export function guardedFetch(baseUrl: string, timeoutMs = 120_000) {
  return async (input: string, init?: RequestInit): Promise<Response> => {
    try {
      return await fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new UnreachableError(baseUrl, error);
    }
  };
}

export function adminClient(s: Settings): AdminClient {
  const baseUrl = requireUrl(s);
  const repo = requireRepo(s);
  if (!s.adminToken) {
    throw usageError(
      "no admin token",
      'set TUF_EDGE_ADMIN_TOKEN, pass --admin-token-file, or put "adminToken" in .tuf-edge.json (mode 0600)',
    );
  }
  return new AdminClient({ baseUrl, repo, token: s.adminToken, fetch: guardedFetch(baseUrl) });
}

/** A registry credential: "whsec_<base64>" (HMAC) or "whsk_<base64 of a 32-byte Ed25519 seed>". */
export function parseRegistryCredential(secret: string): RegistryCredential {
  secret = secret.trim();
  if (secret.startsWith("whsec_")) return { kind: "hmac", secret };
  if (secret.startsWith("whsk_")) {
    let seed: Uint8Array;
    try {
      seed = fromBase64(secret.slice(5));
    } catch {
      seed = new Uint8Array();
    }
    if (seed.length !== 32)
      throw usageError("a whsk_ registry key is whsk_ followed by base64 of a 32-byte Ed25519 seed");
    return { kind: "ed25519", seed };
  }
  throw usageError("the registry secret must start with whsec_ (HMAC) or whsk_ (Ed25519 seed)");
}

export function registryClient(s: Settings): RegistryClient {
  const baseUrl = requireUrl(s);
  const repo = requireRepo(s);
  if (!s.registrySecret) {
    throw usageError(
      "no registry credential",
      'set TUF_EDGE_REGISTRY_SECRET (whsec_… or whsk_…) or "registrySecret" in .tuf-edge.json',
    );
  }
  return new RegistryClient({
    baseUrl,
    repo,
    credential: parseRegistryCredential(s.registrySecret),
    ...(s.registry ? { registry: s.registry } : {}),
    fetch: guardedFetch(baseUrl),
  });
}

export function repoBaseUrl(s: Settings): string {
  return `${requireUrl(s)}/${requireRepo(s)}`;
}
