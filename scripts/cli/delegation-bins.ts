/**
 * The owners' side of an offline delegation whose targets are in hash bins
 * it signs (docs/operators.md §12, src/tuf/offline-bins.ts). Such a
 * delegation is several roles (the role, and each bin `<name>.bins-XX`), so
 * the owners work on a **role set file**: one JSON file holding several role
 * envelopes,
 *   {"delegation": "acme", "roles": [{"role": "acme", "signatures": [], "signed": {…}}, …]}
 * - `delegation init` writes the set of first versions (the role delegating
 *   to its bins with the owners' keys, and each bin empty), to sign and send
 *   with `delegation add --metadata`;
 * - `delegation draft` writes the set of drafts the service made (one per bin
 *   with changes waiting; `--renew`: every role), each checked like a single
 *   draft against its published version;
 * - `delegation sign` signs every role of a set with each key: one command,
 *   one signature per role and key;
 * - `delegation submit --signatures` sends all of a set's signatures in one
 *   request; the drafts that reach the threshold are published together.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { AdminClient } from "../lib/admin-client.ts";
import type { OfflineDraftView } from "../../src/repository-api.ts";
import { toHex } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import type { Signature } from "../../src/tuf/metadata.ts";
import { firstVersions } from "../../src/tuf/offline-bins.ts";
import type { Key } from "../../src/tuf/key.ts";
import type { Settings } from "./config.ts";
import { checkedDraft, describeDraft } from "./delegation-draft.ts";
import { usageError } from "./exit.ts";
import { loadSigner, type PassphraseOptions, readPublicKey } from "./keyfile.ts";

/** One role of a set: its name, its signed part, and the signatures over the canonical JSON of that part. */
export interface SetRole {
  role: string;
  signed: Record<string, unknown>;
  signatures: Signature[];
}

export interface RoleSet {
  delegation: string;
  roles: SetRole[];
}

/** The role set in `file`, or null if the file is a single role (an envelope or a bare signed part). */
export function readRoleSet(file: string): RoleSet | null {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) throw usageError(`${file} is not JSON: ${error.message}`);
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const set = json as Partial<RoleSet>;
  if (typeof set !== "object" || set === null || !Array.isArray(set.roles)) return null;
  if (typeof set.delegation !== "string") throw usageError(`${file}: a role set names its "delegation"`);
  for (const r of set.roles) {
    if (typeof r?.role !== "string" || (r.signed as { _type?: unknown })?._type !== "targets")
      throw usageError(`${file}: each of "roles" is {role, signatures, signed} with a targets signed part`);
    r.signatures ??= [];
  }
  return set as RoleSet;
}

export async function writeRoleSet(file: string, set: RoleSet): Promise<void> {
  await writeFile(file, `${JSON.stringify(set, null, 2)}\n`);
}

/** The envelope's JSON text of one role of a set, as the service stores and serves it. */
export function envelopeText(role: SetRole): string {
  return JSON.stringify({ signatures: role.signatures, signed: role.signed });
}

/** `delegation init`: the unsigned first versions of offline delegation `name` with `bins` bins, owned by `ownerKeys`. */
export async function initRoleSet(
  name: string,
  ownerKeyFiles: string[],
  threshold: number,
  bins: number,
  expires: string,
): Promise<RoleSet> {
  const keys: Record<string, Key> = {};
  for (const file of ownerKeyFiles) {
    const { keyid, key } = await readPublicKey(file);
    keys[keyid] = key;
  }
  if (Object.keys(keys).length !== ownerKeyFiles.length) throw usageError("each --owner-key once");
  if (threshold > ownerKeyFiles.length) throw usageError("--threshold is at most the number of --owner-key");
  const roles = firstVersions(name, { keys, threshold }, bins, expires).map((r) => ({ ...r, signatures: [] }));
  return { delegation: name, roles };
}

/** Signs every role of the set in `file` with each key (replacing an earlier signature by the same key) and writes it back. */
export async function signRoleSet(file: string, set: RoleSet, keyFiles: string[], options: PassphraseOptions) {
  const signers = [];
  for (const keyFile of keyFiles) signers.push(await loadSigner(keyFile, options));
  for (const role of set.roles) {
    const message = canonicalBytes(role.signed);
    const signatures = new Map(role.signatures.map((s) => [s.keyid, s]));
    for (const signer of signers)
      signatures.set(signer.keyid, { keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
    role.signatures = [...signatures.values()];
  }
  await writeRoleSet(file, set);
  return {
    file,
    delegation: set.delegation,
    roles: set.roles.map((r) => ({
      role: r.role,
      version: r.signed.version,
      keyids: r.signatures.map((s) => s.keyid),
    })),
  };
}

/** The drafts of `name`'s roles its owners have to sign, each checked against its published version (exit 1 if one differs). */
export async function fetchCheckedDrafts(
  settings: Settings,
  client: AdminClient,
  name: string,
  renew: boolean,
): Promise<OfflineDraftView[]> {
  const drafts = await client.delegationDrafts(name, renew);
  const checked = [];
  for (const draft of drafts) checked.push(await checkedDraft(settings, draft));
  return checked;
}

/** The set file of `drafts`, with the signatures the service collected so far. */
export function draftsSet(name: string, drafts: readonly OfflineDraftView[]): RoleSet {
  return {
    delegation: name,
    roles: drafts.map((d) => ({ role: d.delegation, signed: d.signed, signatures: d.signatures })),
  };
}

/** What an owner reads before signing a set of drafts: each draft as `delegation draft` shows one. */
export function describeDrafts(name: string, drafts: readonly OfflineDraftView[]): string[] {
  if (!drafts.length)
    return [`delegation ${name}: nothing waits for its owners (--renew drafts every role to re-sign)`];
  return [
    `delegation ${name}: ${drafts.length} draft(s) to sign (${drafts.map((d) => d.delegation).join(", ")})`,
    ...drafts.flatMap((d) => describeDraft(d)),
  ];
}

/**
 * Sends every signature of a set file over the service's drafts in one
 * request (each role's draft named by the SHA-256 of its canonical bytes);
 * the drafts that reach the threshold are published together.
 */
export async function submitRoleSetSignatures(client: AdminClient, name: string, file: string, set: RoleSet) {
  if (set.delegation !== name) throw usageError(`${file} holds roles of delegation ${set.delegation}, not ${name}`);
  const signatures = [];
  for (const role of set.roles) {
    const sha256 = await sha256Hex(canonicalBytes(role.signed));
    for (const signature of role.signatures)
      signatures.push({ role: role.role, sha256, signature: { keyid: signature.keyid, sig: signature.sig } });
  }
  if (!signatures.length)
    throw usageError(`${file} has no signatures: sign it first (tuf-edge delegation sign ${file} --key …)`);
  const result = await client.signDelegationDrafts(name, signatures);
  return {
    delegation: name,
    submitted: signatures.length,
    drafts: result.drafts.map((d) => ({
      role: d.delegation,
      version: d.version,
      signatures: d.signatures.length,
      threshold: d.threshold,
    })),
    published: result.published,
  };
}
