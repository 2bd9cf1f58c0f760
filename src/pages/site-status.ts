/**
 * The documents the repository object publishes to R2 for the public pages
 * (durable-objects/site-documents.ts writes them, src/pages reads them), so
 * that no page view reaches the object:
 *   site/status.json        SiteStatus: what the signed metadata does not say
 *   site/targets/<path>     TargetLogDocument: the log entries about one target
 */
import type { RepositoryStatus } from "../repository-api.ts";

/** One transparency-log entry, as the overview's "recent changes" lists it. */
export interface RecentChange {
  index: number;
  type: string;
  path?: string;
  version?: number;
}

export interface SiteStatus {
  repository: string;
  targetsCount: number;
  bins: number;
  roles: RepositoryStatus["roles"];
  openCeremony: RepositoryStatus["openCeremony"];
  warnings: string[];
  /** Why publishing cannot proceed (a signing key that does not unseal); absent in documents written before it was recorded. */
  publishingBlocked?: RepositoryStatus["publishingBlocked"];
  /** The log size the served checkpoint signs. */
  logSize: number;
  /** Witness verifier keys (C2SP tlog-cosignature) whose cosignatures the checkpoint may carry. */
  witnesses: string[];
  /** The latest log entries that are not metadata publications, newest first. */
  recent: RecentChange[];
}

export interface TargetLogDocument {
  path: string;
  /** Every published log entry about the path, oldest first (at most the latest 100). */
  entries: Array<{ index: number; type: string }>;
}

export const SITE_STATUS = "status.json";

export function siteTargetName(path: string): string {
  return `targets/${path}`;
}
