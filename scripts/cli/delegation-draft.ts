/**
 * The owners' side of an offline delegation's pending changes
 * (docs/operators.md §12): `delegation draft` fetches the service's draft of
 * the role's next version and checks it here (its canonical bytes, and that
 * it is the published version with exactly the listed changes applied)
 * before writing it as an envelope to sign; `delegation bytes` writes the
 * exact bytes for a signer outside this CLI (a hardware token), whose
 * signature `delegation sign --signature` adds; `delegation submit
 * --signatures` sends a file's signatures one at a time; `delegation status`
 * shows every offline role's version, expiry, pending changes and draft.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { AdminClient } from "../lib/admin-client.ts";
import type { DelegationView, OfflineDraftView, PublishedVersions } from "../../src/repository-api.ts";
import { fromUtf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import type { Signature } from "../../src/tuf/metadata.ts";
import { type PendingChange, withChanges } from "../../src/tuf/offline-draft.ts";
import type { TargetFile } from "../../src/tuf/targets.ts";
import { guardedFetch, repoBaseUrl, requireUrl, type Settings } from "./config.ts";
import { failed, usageError } from "./exit.ts";
import { info, shortId } from "./output.ts";
import { readExternalSignature, requireSigns, withSignature } from "./external-signature.ts";

/** A role file as the owners sign it: an envelope (signatures may be empty) or a bare signed part. */
interface RoleFile {
  signed: Record<string, unknown> & { _type?: unknown; version?: unknown };
  signatures: Signature[];
}

export function readRoleFile(file: string): RoleFile {
  let json: { signed?: RoleFile["signed"]; signatures?: Signature[] };
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) throw usageError(`${file} is not JSON: ${error.message}`);
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const signed = (json.signed ?? json) as RoleFile["signed"];
  if (signed._type !== "targets") throw usageError(`${file}: a delegated role's "signed" has _type "targets"`);
  return { signed, signatures: json.signed ? (json.signatures ?? []) : [] };
}

export async function writeRoleFile(file: string, role: RoleFile): Promise<void> {
  await writeFile(file, `${JSON.stringify({ signatures: role.signatures, signed: role.signed }, null, 2)}\n`);
}

/**
 * Fetches the draft and checks it against what this machine computes: its
 * canonical bytes and SHA-256, and that it is the published version (fetched
 * from the repository's metadata) with version + 1, a new expiry, and
 * exactly the changes it lists applied. Refuses (exit 1) if anything differs.
 */
export async function fetchCheckedDraft(settings: Settings, client: AdminClient, name: string) {
  return checkedDraft(settings, await client.delegationDraft(name));
}

/** checks a draft the service made (of a delegation, or of one of its bins) as fetchCheckedDraft says. */
export async function checkedDraft(settings: Settings, draft: OfflineDraftView): Promise<OfflineDraftView> {
  const name = draft.delegation;
  const canonical = canonicalBytes(draft.signed);
  if (fromUtf8(canonical) !== draft.canonical || (await sha256Hex(canonical)) !== draft.sha256)
    throw failed(`the draft of ${name}: its canonical bytes or SHA-256 differ from what this machine computes`);
  const url = `${repoBaseUrl(settings)}/metadata/${draft.publishedVersion}.${name}.json`;
  const response = await guardedFetch(requireUrl(settings))(url);
  if (!response.ok) throw failed(`GET ${url} answered ${response.status}: cannot compare the draft with it`);
  const published = (JSON.parse(await response.text()) as { signed: Record<string, unknown> }).signed;
  const targets = withChanges(
    published.targets as Record<string, TargetFile>,
    draft.changes.map(({ id: _i, actor: _a, task: _t, at: _at, ...change }) => change as PendingChange),
  );
  const expected = { ...published, version: draft.version, expires: draft.expires, targets };
  if (fromUtf8(canonicalBytes(expected)) !== draft.canonical) {
    throw failed(
      `the draft of ${name} is not published version ${draft.publishedVersion} with the changes it lists applied; not signing`,
    );
  }
  return draft;
}

/** What an owner reads before signing: the version, what changes, and the hash to compare with the other owners. */
export function describeDraft(draft: OfflineDraftView): string[] {
  const lines = [
    `delegation ${draft.delegation}: version ${draft.version} (after published version ${draft.publishedVersion}), expires ${draft.expires}`,
    `  ${draft.changes.length} change(s) since version ${draft.publishedVersion}:`,
    ...draft.changes.map((c) =>
      c.type === "attestations.add"
        ? `    attest  ${c.path}  bundle sha256 ${c.sha256?.slice(0, 16)}… (${c.predicate_type ?? "no predicate type"})  by ${c.actor} at ${c.at}`
        : `    ${c.type.replace("targets.", "").padEnd(7)} ${c.path}${c.hashes?.sha256 ? `  sha256 ${c.hashes.sha256.slice(0, 16)}…` : ""}${c.reason ? `  (${c.reason})` : ""}  by ${c.actor} at ${c.at}`,
    ),
  ];
  if (draft.queued.length)
    lines.push(`  ${draft.queued.length} later change(s) wait for version ${draft.version + 1} (the draft is frozen)`);
  lines.push(
    `  signatures: ${draft.signatures.length} of ${draft.threshold}${draft.signatures.length ? ` (${draft.signatures.map((s) => shortId(s.keyid)).join(", ")})` : ""}`,
    `  canonical SHA-256 ${draft.sha256}  (compare with the other owners)`,
  );
  return lines;
}

/** Adds a signature made elsewhere (a hardware token, over `delegation bytes` output) to a role file, verified first. */
export async function addExternalSignature(file: string, signatureFile: string, publicKeyFile: string) {
  const role = readRoleFile(file);
  const external = await readExternalSignature(signatureFile, publicKeyFile);
  await requireSigns(external, canonicalBytes(role.signed), file);
  const signatures = withSignature(role.signatures, external.signature);
  await writeRoleFile(file, { ...role, signatures });
  return { file, version: role.signed.version, keyids: signatures.map((s) => s.keyid) };
}

/**
 * Submits, one at a time, the signatures in a signed draft file that the
 * service has not collected yet; the service publishes once the threshold
 * is met. The file must be the current draft (its SHA-256 names it).
 */
export async function submitSignatures(client: AdminClient, name: string, file: string) {
  const role = readRoleFile(file);
  const sha256 = await sha256Hex(canonicalBytes(role.signed));
  let draft = await client.delegationDraft(name);
  if (draft.sha256 !== sha256) {
    throw failed(
      `${file} (sha256 ${sha256}) is not the current draft of ${name} (sha256 ${draft.sha256}): fetch it again with \`tuf-edge delegation draft ${name} --out FILE\``,
    );
  }
  let published: { version: number; versions: PublishedVersions } | null = null;
  const fresh = role.signatures.filter((s) => !draft.signatures.some((x) => x.keyid === s.keyid));
  for (const signature of fresh) {
    ({ draft, published } = await client.signDelegationDraft(name, sha256, {
      keyid: signature.keyid,
      sig: signature.sig,
    }));
    info(`submitted the signature by ${shortId(signature.keyid)}: ${draft.signatures.length} of ${draft.threshold}`);
    if (published) break;
  }
  return {
    delegation: name,
    version: draft.version,
    submitted: fresh.length,
    signatures: draft.signatures.length,
    threshold: draft.threshold,
    published,
  };
}

/** One row of `delegation status`: an offline role's state, as its owners need it. */
export function statusRow(d: DelegationView, now: number) {
  const daysLeft = d.expires ? Math.floor((Date.parse(d.expires) - now) / 86_400_000) : null;
  return {
    name: d.name,
    signing: d.signing,
    version: d.version ?? null,
    expires: d.expires ?? null,
    daysLeft,
    pending: d.pending ?? 0,
    // Bins inside it: how many bin drafts exist, and how many of them are being signed.
    bins: d.binDrafts ? { drafts: d.binDrafts.length, signing: d.binDrafts.filter((b) => b.frozen).length } : null,
    draft: d.draft
      ? {
          version: d.draft.version,
          signatures: d.draft.signatures.length,
          threshold: d.threshold ?? 1,
          frozen: d.draft.frozen,
        }
      : null,
  };
}
