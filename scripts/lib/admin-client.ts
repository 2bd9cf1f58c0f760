/**
 * A client for tuf-edge's admin API, for operators' scripts and tests. Uses
 * only `fetch` and WebCrypto, so it runs in Node and in workerd alike.
 */
import { sha256Hex } from "../../src/tuf/encoding.ts";
import type { Envelope } from "../../src/tuf/metadata.ts";
import { sign } from "../../src/tuf/metadata.ts";
import { draftRoot } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import type { OnlineKeyInfo, PublishedVersions, RepositoryStatus, TargetsChange } from "../../src/repository-api.ts";
import { formatExpires } from "../../src/tuf/metadata.ts";

export interface AdminClientOptions {
  baseUrl: string;
  repo: string;
  token: string;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

/** A refusal from the service, carrying its problem details. */
export class AdminApiError extends Error {
  readonly status: number;
  readonly problem: { code?: string; detail?: string; errors?: unknown[] };

  constructor(status: number, problem: AdminApiError["problem"]) {
    super(`${status} ${problem.code ?? "error"}: ${problem.detail ?? "request failed"}`);
    this.name = "AdminApiError";
    this.status = status;
    this.problem = problem;
  }
}

export class AdminClient {
  readonly #options: AdminClientOptions;

  constructor(options: AdminClientOptions) {
    this.#options = options;
  }

  get repoUrl(): string {
    return `${this.#options.baseUrl.replace(/\/$/, "")}/${this.#options.repo}`;
  }

  onlineKey(): Promise<OnlineKeyInfo> {
    return this.#call("GET", "/admin/online-key");
  }

  status(): Promise<RepositoryStatus> {
    return this.#call("GET", "/admin/status");
  }

  bootstrap(root: Envelope<unknown>, settings?: Record<string, unknown>): Promise<{ versions: PublishedVersions }> {
    return this.#call("POST", "/admin/bootstrap", { root, settings });
  }

  changeTargets(change: TargetsChange): Promise<{ versions: PublishedVersions; removed: number }> {
    return this.#call("POST", "/admin/targets", change);
  }

  /** Uploads a target's bytes and lists it in the metadata. */
  async upload(path: string, bytes: Uint8Array<ArrayBuffer>): Promise<{ versions: PublishedVersions }> {
    const sha256 = await sha256Hex(bytes);
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    return this.#call("PUT", `/admin/targets/${encoded}?sha256=${sha256}`, bytes);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const doFetch = this.#options.fetch ?? fetch;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#options.token}` };
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) {
      payload = body as Uint8Array<ArrayBuffer>;
      headers["Content-Type"] = "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const response = await doFetch(this.repoUrl + path, { method, headers, body: payload });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = { detail: text.slice(0, 200) };
    }
    if (!response.ok) throw new AdminApiError(response.status, json as AdminApiError["problem"]);
    return json as T;
  }
}

export interface BootstrapOptions {
  rootSigners: Signer[];
  threshold: number;
  /** Root validity; 365 days if not given. */
  rootExpires?: Date;
  settings?: Record<string, unknown>;
}

/**
 * The whole bootstrap ceremony against a running service: fetch the online
 * key, draft root v1 naming it, sign with the root keys, submit. Returns the
 * root v1 envelope (a client's trusted root) and the published versions.
 */
export async function bootstrapRepository(client: AdminClient, options: BootstrapOptions) {
  const online = await client.onlineKey();
  const expires = options.rootExpires ?? new Date(Date.now() + 365 * 86_400_000);
  const signed = await draftRoot({
    version: 1,
    expires: formatExpires(expires),
    rootKeys: options.rootSigners.map((s) => s.key),
    rootThreshold: options.threshold,
    onlineKey: online.key,
  });
  const root = await sign(signed, options.rootSigners);
  const { versions } = await client.bootstrap(root.envelope, options.settings);
  return { root: root.envelope, rootBytes: root.bytes, versions, onlineKeyId: online.keyid };
}
