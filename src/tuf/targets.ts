/**
 * The targets role and its delegations (spec §4.5). tuf-edge's top-level
 * targets delegates every path to hash bins (TAP 15 succinct_roles), and each
 * bin lists the targets whose path hashes into it.
 */
import { z } from "zod";
import type { RoleDelegations } from "./delegations.ts";
import type { HashBins } from "./hash-bins.ts";
import type { Key } from "./key.ts";
import { SPEC_VERSION } from "./metadata.ts";

/** Lower-case hex of a SHA-256 digest. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;
export const Sha256Hex = z.string().regex(SHA256_HEX, "sha256 is 64 lower-case hex characters");
export const Sha512Hex = z.string().regex(/^[0-9a-f]{128}$/, "sha512 is 128 lower-case hex characters");

export const HashesSchema = z
  .object({ sha256: Sha256Hex.optional(), sha512: Sha512Hex.optional() })
  .strict()
  .refine((h) => h.sha256 !== undefined || h.sha512 !== undefined, "at least one of sha256 and sha512 is required");

export type Hashes = z.infer<typeof HashesSchema>;

export interface TargetFile {
  length: number;
  hashes: Hashes;
  custom?: Record<string, unknown>;
}

/**
 * A target file's fields in canonical JSON's order (custom, hashes, length),
 * so that JSON.stringify serves it in the order it is signed in; hashes
 * sha256 first (clients prefix target file names with the first one).
 */
export function targetFile(length: number, hashes: Hashes, custom?: Record<string, unknown>): TargetFile {
  const ordered: Hashes = {};
  if (hashes.sha256) ordered.sha256 = hashes.sha256;
  if (hashes.sha512) ordered.sha512 = hashes.sha512;
  return custom === undefined ? { hashes: ordered, length } : { custom, hashes: ordered, length };
}

export interface SuccinctRoles {
  keyids: string[];
  threshold: number;
  bit_length: number;
  name_prefix: string;
}

export interface Delegations {
  keys: Record<string, Key>;
  succinct_roles: SuccinctRoles;
  roles?: never;
}

export interface Targets {
  _type: "targets";
  spec_version: string;
  version: number;
  expires: string;
  targets: Record<string, TargetFile>;
  delegations?: Delegations | RoleDelegations;
}

/** Top-level targets: no targets of its own, every path delegated to the bins. */
export function topLevelTargets(
  version: number,
  expires: string,
  bins: HashBins,
  binKeys: Record<string, Key>,
  threshold = 1,
): Targets & { delegations: Delegations } {
  return {
    _type: "targets",
    spec_version: SPEC_VERSION,
    version,
    expires,
    targets: {},
    delegations: {
      keys: binKeys,
      succinct_roles: {
        keyids: Object.keys(binKeys),
        threshold,
        bit_length: bins.bitLength,
        name_prefix: bins.namePrefix,
      },
    },
  };
}

/** A bin: the targets whose paths hash into it. */
export function binTargets(version: number, expires: string, targets: Record<string, TargetFile>): Targets {
  return { _type: "targets", spec_version: SPEC_VERSION, version, expires, targets };
}

/** A targets role with its own targets and, if it delegates, its delegations (named roles or succinct bins). */
export function delegatingTargets(
  version: number,
  expires: string,
  targets: Record<string, TargetFile>,
  delegations?: Delegations | RoleDelegations,
): Targets {
  const signed = binTargets(version, expires, targets);
  return delegations ? { ...signed, delegations } : signed;
}
