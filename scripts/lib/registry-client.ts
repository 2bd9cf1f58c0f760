/**
 * A registry's client for tuf-edge: signs target events and uploads with
 * Standard Webhooks and sends them. Uses only fetch and WebCrypto (runs in
 * Node and in workerd). Usable as a library and by the CLI.
 */
import { repositoryUrl } from "./repository-url.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { toBase64, utf8 } from "../../src/lib/bytes.ts";
import type { PushResult, TaskView } from "../../src/repository-api.ts";
import type { TargetEvent } from "../../src/schemas/webhook.ts";
import { decodeSecret, signedContent, signEd25519, signHmac } from "../../src/webhooks/standard-webhooks.ts";
import { AdminApiError } from "./admin-client.ts";

/** A refusal of a registry's signed request (a push, an upload, a task poll): its credential is the registry's, not the admin token. */
export class RegistryApiError extends AdminApiError {
  override readonly name = "RegistryApiError";
}

export type RegistryCredential = { kind: "hmac"; secret: string } | { kind: "ed25519"; seed: Uint8Array };

export interface RegistryClientOptions {
  baseUrl: string;
  repo: string;
  /**
   * The registry's name at tuf-edge: pushes go to /{repo}/webhooks/registry/{name}
   * and uploads name it in their manifest, so only its credentials are tried.
   * Needed when the repository has several registries.
   */
  registry?: string;
  credential: RegistryCredential;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Overrides the clock (seconds since the epoch), for tests. */
  now?: () => number;
}

export interface SendOptions {
  /** Answer at once with 202 and a task to poll, instead of waiting for the publish. */
  async?: boolean;
  /** The delivery id (default: random); resending the same id is idempotent. */
  id?: string;
}

export type PushResponse = Pick<PushResult, "task" | "duplicate"> & {
  status: number;
  /** The answer's Server-Timing durations by name, in ms (a webhook's: "repository", "total"); empty if none. */
  timing: Record<string, number>;
};

/** A Server-Timing metric: its name, then `;param=value` pairs, a value a token or a quoted string. */
const METRIC =
  /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)((?:\s*;\s*[A-Za-z]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,;"\s]*))?)*)\s*(?:,|$)/;

/** The durations of a Server-Timing header (`name;dur=ms;desc="…"`, comma-separated), by name; what does not parse is left out. */
export function serverTiming(header: string | null): Record<string, number> {
  const durations: Record<string, number> = {};
  if (!header) return durations;
  const metric = new RegExp(METRIC.source, "y");
  for (let m = metric.exec(header); m && m[0] !== ""; m = metric.exec(header)) {
    const dur = /;\s*dur\s*=\s*([0-9.]+)/.exec(m[2] ?? "");
    if (m[1] && dur?.[1]) durations[m[1]] = Number(dur[1]);
  }
  return durations;
}

/**
 * Each HMAC credential's secret, decoded once: signHmac keeps the key it
 * imports for as long as the same bytes object, so a client's pushes import
 * it once instead of once per push.
 */
const hmacSecrets = new WeakMap<RegistryCredential, { text: string; bytes: Uint8Array<ArrayBuffer> }>();

function hmacSecret(credential: Extract<RegistryCredential, { kind: "hmac" }>): Uint8Array<ArrayBuffer> {
  const known = hmacSecrets.get(credential);
  // A credential given a new secret in place is decoded again.
  if (known?.text === credential.secret) return known.bytes;
  const bytes = decodeSecret(credential.secret);
  hmacSecrets.set(credential, { text: credential.secret, bytes });
  return bytes;
}

/** The Standard Webhooks headers for `body`. */
export async function signPush(credential: RegistryCredential, body: string, id: string, timestamp: number) {
  const content = signedContent(id, String(timestamp), body);
  const signature =
    credential.kind === "hmac"
      ? await signHmac(hmacSecret(credential), content)
      : await signEd25519(credential.seed, content);
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
}

export class RegistryClient {
  readonly #options: RegistryClientOptions;

  constructor(options: RegistryClientOptions) {
    this.#options = options;
  }

  get repoUrl(): string {
    return repositoryUrl(this.#options.baseUrl, this.#options.repo);
  }

  /** Sends a batch of target events, all or nothing. */
  async push(events: TargetEvent[], options: SendOptions = {}): Promise<PushResponse> {
    const body = JSON.stringify({ repository: this.#options.repo, events });
    const headers = await this.#sign(body, options);
    const registry = this.#options.registry;
    const url = `${this.repoUrl}/webhooks/registry${registry ? `/${encodeURIComponent(registry)}` : ""}`;
    return this.#send(url, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body,
    });
  }

  /** Uploads an artifact's bytes; tuf-edge stores them under their SHA-256 and lists the target. */
  async upload(
    path: string,
    bytes: Uint8Array<ArrayBuffer>,
    options: SendOptions & { custom?: Record<string, unknown> } = {},
  ) {
    const manifest = JSON.stringify({
      repository: this.#options.repo,
      ...(this.#options.registry ? { registry: this.#options.registry } : {}),
      path,
      length: bytes.length,
      sha256: await sha256Hex(bytes),
      ...(options.custom ? { custom: options.custom } : {}),
    });
    const headers = await this.#sign(manifest, options);
    const encoded = toBase64(utf8(manifest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    return this.#send(`${this.repoUrl}/uploads/${path.split("/").map(encodeURIComponent).join("/")}`, {
      method: "PUT",
      headers: { ...headers, "Upload-Manifest": encoded, "Content-Type": "application/octet-stream" },
      body: bytes,
    });
  }

  async task(id: string): Promise<TaskView> {
    const response = await (this.#options.fetch ?? fetch)(`${this.repoUrl}/tasks/${id}`);
    const json = (await response.json()) as TaskView & AdminApiError["problem"];
    if (!response.ok) throw new RegistryApiError(response.status, json);
    return json;
  }

  async #sign(body: string, options: SendOptions) {
    const id = options.id ?? `msg_${crypto.randomUUID()}`;
    const now = this.#options.now?.() ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = await signPush(this.#options.credential, body, id, now);
    if (options.async) headers.Prefer = "respond-async";
    return headers;
  }

  async #send(url: string, init: RequestInit): Promise<PushResponse> {
    const response = await (this.#options.fetch ?? fetch)(url, init);
    const json = (await response.json()) as PushResponse & AdminApiError["problem"];
    if (!response.ok) throw new RegistryApiError(response.status, json);
    return {
      status: response.status,
      task: json.task,
      duplicate: json.duplicate,
      timing: serverTiming(response.headers.get("Server-Timing")),
    };
  }
}
