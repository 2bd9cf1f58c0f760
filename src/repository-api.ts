/**
 * What the Worker and a repository's Durable Object say to each other over
 * RPC. Expected refusals come back as values (a `Failure` the Worker turns
 * into a problem+json response); only unexpected faults are thrown.
 */
import type { Envelope } from "./tuf/metadata.ts";
import type { Key } from "./tuf/key.ts";
import type { Hashes } from "./tuf/targets.ts";
import type { RootDiff } from "./tuf/root-diff.ts";
import type { TargetsDiff } from "./tuf/targets-diff.ts";
import type { DelegationSpec } from "./schemas/delegations.ts";

export type { DelegationSpec };

export interface TargetEntry {
  path: string;
  length: number;
  hashes: Hashes;
  custom?: Record<string, unknown> | undefined;
}

/** The versions a publish produced. */
export interface PublishedVersions {
  targets: number;
  snapshot: number;
  timestamp: number;
}

export type FailureCode =
  | "not_bootstrapped"
  | "already_bootstrapped"
  | "invalid_root"
  | "invalid_settings"
  | "not_found"
  | "ceremony_closed"
  | "ceremony_open"
  | "not_a_root_key"
  | "publish_pending"
  | "invalid_request"
  | "invalid_signature"
  | "stale_timestamp"
  | "wrong_repository"
  | "immutable_target"
  | "unknown_target"
  | "attestation_rejected"
  | "duplicate_predicate_type"
  | "kek_not_configured"
  | "kek_unknown"
  | "kek_unseal_failed"
  | "too_many_credentials"
  | "registry_required"
  | "delivery_conflict"
  | "quarantined_target"
  | "not_quarantined"
  | "upload_in_progress"
  | "upload_expired"
  | "delegation_exists"
  | "unknown_delegation"
  | "delegation_has_bins"
  | "delegation_has_delegations"
  | "delegation_too_deep"
  | "too_many_delegations"
  | "ambiguous_delegation"
  | "delegation_change_too_large"
  | "offline_namespace"
  | "online_delegation"
  | "bad_version"
  | "path_not_claimed"
  | "invalid_metadata"
  | "threshold_not_met"
  | "expired"
  | "stale_draft"
  | "invalid_signature"
  | "draft_too_large"
  | "pending_changes"
  | "not_a_signer"
  | "draft_stale"
  | "already_protected"
  | "not_protected";

export interface Failure {
  ok: false;
  status: 400 | 401 | 403 | 404 | 409 | 422 | 503;
  code: FailureCode;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

export type Result<T> = ({ ok: true } & T) | Failure;

export function failure(status: Failure["status"], code: FailureCode, detail: string): Failure {
  return { ok: false, status, code, detail };
}

export interface OnlineKeyInfo {
  keyid: string;
  key: Key;
}

export interface BootstrapRequest {
  root: Envelope<unknown>;
  settings?: unknown;
}

export interface TargetsChange {
  add?: TargetEntry[];
  remove?: string[];
  /**
   * "deferred": a batch of an import (with respond-async): stored and
   * acknowledged, published when the import ends (POST /admin/publish) or
   * after a pause in its batches, not by a round of its own.
   */
  publish?: "now" | "deferred";
}

export interface RoleStatus {
  version: number;
  expires: string;
  /** When it will be re-signed (online roles). */
  nextResign?: string;
}

export interface RepositoryStatus {
  repository: string;
  bootstrapped: boolean;
  onlineKeyId: string | null;
  targetsCount: number;
  bins: number;
  roles: {
    root: RoleStatus | null;
    targets: RoleStatus | null;
    snapshot: RoleStatus | null;
    timestamp: RoleStatus | null;
    /** The bin that expires first. */
    bins: (RoleStatus & { name: string }) | null;
  };
  /** Changes accepted but not yet in a published timestamp. */
  pendingChanges: boolean;
  /** The open ceremony, if any. */
  openCeremony: { id: string; kind: CeremonyKind; rootVersion: number; expiresAt: string } | null;
  /** When the repository's alarm will next run. */
  nextAlarm: string | null;
  /**
   * While an import's batches wait for its end (`"publish": "deferred"`): when
   * they are published at the latest if no batch and no POST …/admin/publish
   * comes first (30 s after the latest batch). Null otherwise.
   */
  importHoldUntil: string | null;
  /** The last failed publish or refresh, if it has not been followed by a success. */
  lastFailure: { at: string; detail: string } | null;
  /** Why publishing cannot proceed now (a signing key that does not unseal), with the problem code pushes get. */
  publishingBlocked: { code: string; detail: string } | null;
  /** Warnings an operator should act on (e.g. root expiring soon). */
  warnings: string[];
}

/** A root's `signed` part, as plain data (unrecognised fields travel too, untyped). */
export interface RootData {
  _type: "root";
  spec_version: string;
  version: number;
  expires: string;
  consistent_snapshot: boolean;
  keys: Record<string, { keytype: string; scheme: string; keyval: { public: string } }>;
  roles: Record<"root" | "targets" | "snapshot" | "timestamp", { keyids: string[]; threshold: number }>;
}

/**
 * Root ceremonies (a new root N+1), and in protected-delegations mode
 * (docs/operators.md §12) the ceremonies that draft the next top-level
 * targets: `protect-delegations` (root N+1 hands `targets` to offline keys,
 * with the first offline targets), `delegation-change` (a delegation added
 * to or removed from `targets`), `targets-refresh` (the same targets with a
 * later expiry). In protected mode an `online-key-rotation` drafts both.
 */
export type CeremonyKind =
  | "online-key-rotation"
  | "root-change"
  | "root-refresh"
  | "protect-delegations"
  | "delegation-change"
  | "targets-refresh";

/** Valid signatures so far against a threshold. */
export interface ThresholdProgress {
  signed: number;
  threshold: number;
}

/** The next top-level targets version a ceremony drafts, as its signers see it. */
export interface TargetsDraftView {
  version: number;
  /** The exact bytes to sign: the canonical JSON of the draft's `signed` part, as UTF-8 text (which parses as JSON). */
  canonical: string;
  /** What the draft changes against the published targets (`baseVersion`). */
  baseVersion: number;
  summary: TargetsDiff;
  /** The keys that sign `targets` (in the root in force once the ceremony is published) and how many must. */
  keyids: string[];
  threshold: number;
  signatures: Array<{ keyid: string; sig: string }>;
  /** What publishing it does to the delegations, in words. */
  change: string;
}

/** A ceremony as key holders see it: what to sign and how far it got. */
export interface CeremonyView {
  id: string;
  kind: CeremonyKind;
  state: "awaiting-signatures" | "published" | "cancelled" | "expired";
  /** The root version the ceremony publishes; with no root draft, the root in force. */
  rootVersion: number;
  openedAt: string;
  expiresAt: string;
  closedAt: string | null;
  /** The draft root's `signed` part; null when the ceremony changes no root. */
  draft: RootData | null;
  /** The exact bytes to sign: the canonical JSON of `draft`, as UTF-8 text (null with no root draft). */
  canonical: string | null;
  /** What the draft changes against the current root (null with no root draft). */
  summary: RootDiff | null;
  /** Signatures over the root draft. */
  signatures: Array<{ keyid: string; sig: string }>;
  /** Valid signatures so far against each threshold the ceremony must meet (null or absent: not needed). */
  progress: {
    trustedRoot: ThresholdProgress | null;
    draftRoot: ThresholdProgress | null;
    targets?: ThresholdProgress;
  };
  /** The next top-level targets version, when the ceremony publishes one (protected-delegations mode). */
  targets: TargetsDraftView | null;
  events: Array<{ at: string; kind: string; keyid: string | null; detail: string }>;
}

/** An accepted batch of events, as its submitter polls it. */
export interface TaskView {
  id: string;
  /** awaiting-owners: some of its changes are for offline roles, and wait for their owners' signatures. */
  state: "queued" | "publishing" | "published" | "awaiting-owners";
  /** The offline roles whose owners have not yet signed a version that carries its changes. */
  awaitingOwners?: string[];
  registry: string;
  events: number;
  createdAt: string;
  /** Once published: the versions of the round that first carried the change (later rounds carry it too). */
  versions?: PublishedVersions;
  /** Why the last publish attempt failed, while the change waits for the retry. */
  lastError?: string;
}

/** The outcome of a registry push. */
export interface PushResult {
  ok: true;
  /** 200: published (the caller waited); 202: accepted, poll the task. */
  status: 200 | 202;
  task: TaskView;
  /** This delivery id was seen before; nothing was applied again. */
  duplicate: boolean;
  /**
   * Milliseconds from the call's start in the repository's object to its
   * answer being ready there: the push's checks, its group's turn and its
   * transaction (the commit the answer then waits for is not in it).
   */
  objectMs?: number;
}

export interface SignedPush {
  id: string;
  timestamp: string;
  signature: string;
  /** The exact signed body (for uploads: the manifest). */
  body: string;
  /** The registry the sender says it is (from the URL); only its credentials are tried. */
  registry?: string;
  respondAsync: boolean;
}

/** Where a repository's sealed secrets stand against the key-encryption keys (durable-objects/kek-reseal.ts). */
export interface KekStatus {
  /** The KEK new values are sealed under. */
  current: string;
  /** How many sealed values each KEK id holds. */
  sealedUnder: Record<string, number>;
  /** Values still to re-seal (under a KEK other than the current one). */
  remaining: number;
  /** KEK ids that sealed values name but KEY_ENCRYPTION_KEY does not hold. */
  unconfigured: string[];
}

/** A delegation, as the admin API shows it (durable-objects/delegations.ts). */
export interface DelegationView {
  name: string;
  parent: string;
  terminating: boolean;
  signing: "online" | "offline";
  /** An offline delegation's owners' keyids and threshold, and its newest version. */
  keyids?: string[];
  threshold?: number;
  version?: number;
  paths?: string[];
  path_hash_prefixes?: string[];
  /** Hash bins inside it, if it has them. */
  bins?: number;
  /** Its published version's expiry (GET /delegations; in the offline queue's view: an offline role's), and an offline role's changes waiting for its owners. */
  expires?: string;
  pending?: number;
  /** The draft of its next version, once one was made: its version, hash and signatures collected. */
  draft?: { version: number; sha256: string; signatures: string[]; frozen: boolean };
  /** An offline delegation with bins: the drafts of its bins' next versions (src/tuf/offline-bins.ts). */
  binDrafts?: Array<{ role: string; version: number; sha256: string; signatures: string[]; frozen: boolean }>;
}

/** A change accepted for an offline role's path, waiting for its owners (durable-objects/offline-queue.ts). */
export interface PendingChangeView {
  id: number;
  type: "targets.add" | "targets.remove" | "targets.yank" | "targets.unyank" | "attestations.add";
  path: string;
  length?: number;
  hashes?: Record<string, string>;
  custom?: Record<string, unknown>;
  reason?: string;
  /** attestations.add: the bundle's SHA-256, its predicate type, media type and signer, as the entry will list it. */
  sha256?: string;
  predicate_type?: string | null;
  media_type?: string;
  publisher?: Record<string, unknown>;
  actor: string;
  task?: string;
  at: string;
}

/**
 * The draft of an offline role's next version, for its owners to sign
 * (docs/operators.md §12). It carries open JSON (the signed part, custom
 * fields), which RPC's types cannot express: the object sends it as JSON text.
 */
export interface OfflineDraftView {
  /** The role drafted: the delegation, or one of its bins (`<name>.bins-XX`). */
  delegation: string;
  /** The published version the draft follows, and the draft's own. */
  publishedVersion: number;
  version: number;
  expires: string;
  /** The draft's `signed` part, and the exact bytes to sign: its canonical JSON, as UTF-8 text. */
  signed: Record<string, unknown>;
  canonical: string;
  /** SHA-256 of `canonical`: names the draft a signature is for. */
  sha256: string;
  /** The changes since the published version that this draft carries. */
  changes: PendingChangeView[];
  /** Changes accepted after the draft was pinned: they wait for the version after it. */
  queued: PendingChangeView[];
  keyids: string[];
  threshold: number;
  /** The owners' signatures collected over `canonical` (once there is one, the draft is frozen). */
  signatures: Array<{ keyid: string; sig: string }>;
  frozen: boolean;
}

/**
 * One owner's signatures over several drafts of an offline delegation's roles, collected
 * (the drafts, as JSON text: OfflineDraftView[]) and, for those that met the threshold, published.
 */
export type DraftsSigned = Result<{
  drafts: string;
  published: { roles: Array<{ role: string; version: number }>; versions: PublishedVersions } | null;
}>;

/** How top-level `targets` is signed (protected-delegations mode: offline, by its key holders). */
export interface TargetsSigningView {
  signing: "online" | "offline";
  version: number;
  expires: string | null;
  /** The keys that sign `targets` in the newest root, and how many must. */
  keyids: string[];
  threshold: number;
}

/** The delegations and how they are approved (GET /{repo}/admin/delegations). */
export interface DelegationsView {
  delegations: DelegationView[];
  targets: TargetsSigningView;
  /** The open ceremony that changes `targets`, if any (protected mode). */
  pending: Array<{ id: string; kind: CeremonyKind; change: string; expiresAt: string }>;
}

/** A quarantined target, as operators see it (durable-objects/quarantine.ts). */
export interface QuarantineView {
  path: string;
  length: number;
  hashes: Record<string, string>;
  reason: string;
  reference: string | null;
  /** Who quarantined it: "registry <name>" or "operator" (with the name the operator gave). */
  by: string;
  at: string;
  /** Attestations kept with it. */
  attestations: number;
  /** Whether none of its bytes are at a public key any more. */
  bytesHidden: boolean;
}

/** A repository's attestation policy, as the admin API shows it. */
export interface AttestationPolicyView {
  flavour: "generic" | "npm" | "pypi";
  predicateTypes?: string[];
  identities?: Array<{ issuer: string; subjectPattern: string }>;
  /** Whether the policy names its own trusted root (else the bundled public-good one). */
  customTrustedRoot: boolean;
}

/** An authorized upload, as the Worker needs it to stage the bytes. */
export interface StagedUpload {
  id: string;
  path: string;
  length: number;
  sha256: string;
}
