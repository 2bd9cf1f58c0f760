/**
 * A client for tuf-edge's admin API, for operators' scripts and tests. Uses
 * only `fetch` and WebCrypto, so it runs in Node and in workerd alike.
 */
import { repositoryUrl } from "./repository-url.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { fromUtf8, toHex } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import type { Envelope, Signature } from "../../src/tuf/metadata.ts";
import { sign } from "../../src/tuf/metadata.ts";
import { draftRoot } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import type { Key } from "../../src/tuf/key.ts";
import type {
  CeremonyView,
  DelegationSpec,
  DelegationView,
  DelegationsView,
  KekStatus,
  OfflineDraftView,
  OnlineKeyInfo,
  PublishedVersions,
  QuarantineView,
  RepositoryStatus,
  TargetsChange,
} from "../../src/repository-api.ts";
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
    return repositoryUrl(this.#options.baseUrl, this.#options.repo);
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

  /**
   * Adds and removes targets; with `wait: false`, answers once the change is stored (it is published shortly
   * after, or, with `publish: "deferred"`, when the import it belongs to ends: see publishNow).
   */
  changeTargets(
    change: TargetsChange,
    options: { wait?: boolean } = {},
  ): Promise<{
    versions: PublishedVersions;
    removed: number;
    pending: boolean;
    publishBy?: string;
    awaitingOwners?: string[];
  }> {
    return this.#call("POST", "/admin/targets", change, options.wait === false ? { Prefer: "respond-async" } : {});
  }

  /** An import's end: what its deferred batches stored is published now (answers at once; poll status). */
  publishNow(): Promise<{ versions: PublishedVersions; pending: boolean }> {
    return this.#call("POST", "/admin/publish");
  }

  /** Sends the pages' target documents again from log entry `from` (0: all); answers at once. */
  resendPages(from = 0): Promise<{ from: number; behind: number }> {
    return this.#call("POST", `/admin/pages/resend?from=${from}`);
  }

  /** Uploads a target's bytes and lists it in the metadata (or, in an offline role's namespace, queues it for the owners). */
  async upload(
    path: string,
    bytes: Uint8Array<ArrayBuffer>,
  ): Promise<{ versions: PublishedVersions; awaitingOwners?: string[] }> {
    const sha256 = await sha256Hex(bytes);
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    // The path travels in the query too: URL paths are normalised on the way, the query is not.
    return this.#call("PUT", `/admin/targets/${encoded}?sha256=${sha256}&path=${encodeURIComponent(path)}`, bytes);
  }

  ceremonies(): Promise<{ ceremonies: CeremonyView[] }> {
    return this.#call("GET", "/admin/ceremonies");
  }

  ceremony(id: string): Promise<CeremonyView> {
    return this.#call("GET", `/admin/ceremonies/${id}`);
  }

  /**
   * Opens a ceremony: an online-key rotation, a root change (draft `signed`), a root refresh,
   * protected-delegations mode (targets signed offline by `keys`, default the root keys), or
   * (in that mode) a targets refresh.
   */
  openCeremony(
    request:
      | { kind: "online-key-rotation"; reason?: string; emergency?: boolean }
      | { kind: "root-change"; signed: unknown }
      | { kind: "root-refresh" }
      | { kind: "protect-delegations"; keys?: Key[]; threshold?: number }
      | { kind: "targets-refresh" },
  ): Promise<CeremonyView> {
    return this.#call("POST", "/admin/ceremonies", request);
  }

  submitSignature(id: string, signature: Signature): Promise<{ ceremony: CeremonyView; versions?: PublishedVersions }> {
    return this.#call("POST", `/admin/ceremonies/${id}/signatures`, signature);
  }

  cancelCeremony(id: string, reason: string): Promise<CeremonyView> {
    return this.#call("POST", `/admin/ceremonies/${id}/cancel`, { reason });
  }

  events(
    limit = 100,
    kind?: string,
  ): Promise<{ events: Array<{ at: string; kind: string; keyid: string | null; detail: string }> }> {
    const query = new URLSearchParams({ limit: String(limit), ...(kind ? { kind } : {}) });
    return this.#call("GET", `/admin/events?${query}`);
  }

  /** The attestation policy: flavour (generic, npm, pypi), predicate types, identities, trusted root. */
  setAttestationPolicy(policy: {
    flavour?: "generic" | "npm" | "pypi";
    predicateTypes?: string[];
    identities?: Array<{ issuer: string; subjectPattern: string }>;
    trustedRoot?: unknown;
  }): Promise<{ flavour: string; customTrustedRoot: boolean }> {
    return this.#call("PUT", "/admin/attestation-policy", policy);
  }

  registries(): Promise<{
    registries: Array<{ name: string; credentials: Array<{ id: string; kind: string; notAfter: string | null }> }>;
  }> {
    return this.#call("GET", "/admin/registries");
  }

  /** Adds a webhook credential to a registry; for "hmac" the response holds the new secret (shown once). */
  addRegistryCredential(
    name: string,
    credential:
      | { kind: "hmac"; overlapSeconds?: number }
      | { kind: "ed25519"; publicKey: string; overlapSeconds?: number },
  ): Promise<{ credential: { id: string; kind: string }; secret?: string }> {
    return this.#call("POST", `/admin/registries/${name}/credentials`, credential);
  }

  revokeRegistryCredential(name: string, id: string): Promise<{ revoked: true }> {
    return this.#call("DELETE", `/admin/registries/${name}/credentials/${id}`);
  }

  /** Removes a registry and every credential it holds. */
  removeRegistry(name: string): Promise<{ removed: true }> {
    return this.#call("DELETE", `/admin/registries/${name}`);
  }

  /** Quarantined targets. */
  quarantined(): Promise<{ quarantined: QuarantineView[] }> {
    return this.#call("GET", "/admin/quarantine");
  }

  /** Takes a listed target out of the metadata for review. */
  quarantine(request: { path: string; reason: string; reference?: string; by?: string }) {
    return this.#call<{ path: string; state: "quarantined"; versions: PublishedVersions }>(
      "POST",
      "/admin/quarantine",
      request,
    );
  }

  /** Releases a quarantined target (listed again, same entry) or removes it for good. */
  settleQuarantine(action: "release" | "remove", path: string, by?: string) {
    return this.#call<{ path: string; state: "released" | "removed"; versions: PublishedVersions }>(
      "POST",
      `/admin/quarantine/${action}`,
      by === undefined ? { path } : { path, by },
    );
  }

  /** The delegations, in search order per parent; how targets is signed; the pending ceremony that changes it. */
  delegations(): Promise<DelegationsView> {
    return this.#call("GET", "/admin/delegations");
  }

  /**
   * Adds a delegation (published before the answer); the targets it claims move into it. In
   * protected-delegations mode a delegation of `targets` answers with the ceremony that approves it.
   */
  addDelegation(
    spec: Omit<DelegationSpec, "parent" | "terminating" | "signing"> & Partial<DelegationSpec>,
  ): Promise<{ delegation: DelegationView; versions: PublishedVersions } | { ceremony: CeremonyView }> {
    return this.#call("POST", "/admin/delegations", spec);
  }

  /** Submits an offline delegation's next version: the exact bytes of the envelope its owners signed. */
  submitDelegationMetadata(
    name: string,
    bytes: Uint8Array,
  ): Promise<{ delegation: string; version: number; versions: PublishedVersions }> {
    return this.#call("PUT", `/admin/delegations/${encodeURIComponent(name)}/metadata`, bytes);
  }

  /** The draft of an offline delegation's next version (its pending changes applied), pinned for its owners to sign. */
  async delegationDraft(name: string): Promise<OfflineDraftView> {
    const { draft } = await this.#call<{ draft: OfflineDraftView }>(
      "GET",
      `/admin/delegations/${encodeURIComponent(name)}/draft`,
    );
    return draft;
  }

  /** Submits one owner's signature over the draft named by `sha256`; published once the threshold is met. */
  signDelegationDraft(
    name: string,
    sha256: string,
    signature: Signature,
  ): Promise<{ draft: OfflineDraftView; published: { version: number; versions: PublishedVersions } | null }> {
    return this.#call("POST", `/admin/delegations/${encodeURIComponent(name)}/signatures`, { sha256, signature });
  }

  /**
   * The drafts of an offline delegation's roles its owners have to sign (with bins inside it: one per bin
   * with changes waiting); `renew`: every role's, to re-sign them before they expire.
   */
  async delegationDrafts(name: string, renew = false): Promise<OfflineDraftView[]> {
    const { drafts } = await this.#call<{ drafts: OfflineDraftView[] }>(
      "GET",
      `/admin/delegations/${encodeURIComponent(name)}/drafts${renew ? "?renew=true" : ""}`,
    );
    return drafts;
  }

  /** Submits one owner's signatures over several drafts of a delegation's roles; those at their threshold are published together. */
  signDelegationDrafts(
    name: string,
    signatures: Array<{ role: string; sha256: string; signature: Signature }>,
  ): Promise<{
    drafts: OfflineDraftView[];
    published: { roles: Array<{ role: string; version: number }>; versions: PublishedVersions } | null;
  }> {
    return this.#call("POST", `/admin/delegations/${encodeURIComponent(name)}/drafts/signatures`, { signatures });
  }

  /** Removes a delegation with none nested under it; its targets go back to whichever role claims them. */
  removeDelegation(
    name: string,
  ): Promise<{ removed: string; versions: PublishedVersions } | { ceremony: CeremonyView }> {
    return this.#call("DELETE", `/admin/delegations/${encodeURIComponent(name)}`);
  }

  /** This repository's sealed secrets against the key-encryption keys. */
  kekStatus(): Promise<KekStatus> {
    return this.#call("GET", "/admin/kek");
  }

  /** Re-seals up to `budget` of this repository's secrets under the current KEK (call again until done). */
  resealSecrets(budget?: number): Promise<KekStatus & { resealed: number; done: boolean }> {
    return this.#call("POST", "/admin/kek/reseal", budget === undefined ? {} : { budget });
  }

  /** Every repository's sealed secrets against the key-encryption keys. */
  serviceKekStatus(): Promise<ServiceKekStatus> {
    return this.#call("GET", "/admin/kek", undefined, {}, this.#serviceUrl);
  }

  /** Re-seals up to `budget` secrets across every repository (call again until done). */
  serviceReseal(budget?: number): Promise<ServiceKekStatus & { resealed: number; done: boolean }> {
    return this.#call("POST", "/admin/kek/reseal", budget === undefined ? {} : { budget }, {}, this.#serviceUrl);
  }

  get #serviceUrl(): string {
    return this.#options.baseUrl.replace(/\/$/, "");
  }

  async #call<T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
    base = this.repoUrl,
  ): Promise<T> {
    const doFetch = this.#options.fetch ?? fetch;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#options.token}`, ...extraHeaders };
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) {
      payload = body as Uint8Array<ArrayBuffer>;
      headers["Content-Type"] = "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const response = await doFetch(base + path, { method, headers, body: payload });
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

/** Every repository's KEK status, as GET /admin/kek answers. */
export interface ServiceKekStatus {
  current: string | null;
  remaining: number;
  repositories: Array<KekStatus & { repository: string }>;
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

/**
 * Signs a draft (a ceremony's root, or an offline role's next version as
 * `{draft: view.signed, canonical}`) with a key, offline: the signature covers
 * the canonical JSON of the draft as this machine computes it, and is refused
 * if that differs from the bytes the service says it will publish.
 */
export async function signDraft(
  ceremony: { draft: unknown; canonical: CeremonyView["canonical"] },
  signer: Signer,
): Promise<Signature> {
  const bytes = canonicalBytes(ceremony.draft);
  if (fromUtf8(bytes) !== ceremony.canonical) {
    throw new Error("the draft's canonical bytes differ from what the service will publish; not signing");
  }
  return { keyid: signer.keyid, sig: toHex(await signer.sign(bytes)) };
}
