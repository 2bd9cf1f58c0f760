/**
 * What the Worker and a repository's Durable Object say to each other over
 * RPC. Expected refusals come back as values (a `Failure` the Worker turns
 * into a problem+json response); only unexpected faults are thrown.
 */
import type { Envelope } from "./tuf/metadata.ts";
import type { Key } from "./tuf/key.ts";
import type { Hashes } from "./tuf/targets.ts";

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
  | "conflict";

export interface Failure {
  ok: false;
  status: 400 | 404 | 409 | 422;
  code: FailureCode;
  detail: string;
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
}

export interface RoleStatus {
  version: number;
  expires: string;
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
}
