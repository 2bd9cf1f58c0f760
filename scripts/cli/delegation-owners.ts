/**
 * The `tuf-edge delegation` commands of an offline delegation's owners:
 * init (the first versions of one with hash bins), sign (with key files, or a
 * signature made elsewhere over `bytes` output), draft (the service's draft
 * of the next version, checked here), bytes, and submit. Sign, init and
 * bytes need no service.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { DelegationNameSchema } from "../../src/schemas/delegations.ts";
import { toHex } from "../../src/lib/bytes.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import {
  addExternalSignature,
  describeDraft,
  fetchCheckedDraft,
  readRoleFile,
  submitSignatures,
  writeRoleFile,
} from "./delegation-draft.ts";
import {
  describeDrafts,
  draftsSet,
  fetchCheckedDrafts,
  initRoleSet,
  readRoleSet,
  signRoleSet,
  submitRoleSetSignatures,
  writeRoleSet,
} from "./delegation-bins.ts";
import { adminClient } from "./config.ts";
import { usageError } from "./exit.ts";
import { checkExternalFlags } from "./external-signature.ts";
import { examples } from "./help.ts";
import { loadSigner, type PassphraseOptions } from "./keyfile.ts";
import { collect, intOption, settingsOf } from "./options.ts";
import { info, out, outJson } from "./output.ts";

export /** The bytes of a file named on the command line (a usage error if it cannot be read). */
function readArgumentFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * Signs an offline role's file with each key (its signature over the
 * canonical JSON of `signed`, replacing any earlier one by the same key) and
 * writes the envelope back. FILE is an envelope or its bare `signed` part.
 */
async function signRoleFile(file: string, keyFiles: string[], options: PassphraseOptions) {
  const { signed, signatures: earlier } = readRoleFile(file);
  const message = canonicalBytes(signed);
  const signatures = new Map(earlier.map((s) => [s.keyid, s]));
  for (const keyFile of keyFiles) {
    const signer = await loadSigner(keyFile, options);
    signatures.set(signer.keyid, { keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
  }
  await writeRoleFile(file, { signed, signatures: [...signatures.values()] });
  return { file, version: signed.version, keyids: [...signatures.keys()] };
}

export function nameArgument(name: string): string {
  const parsed = DelegationNameSchema.safeParse(name);
  if (!parsed.success) throw usageError(`"${name}": ${parsed.error.issues[0]?.message ?? "not a delegation name"}`);
  return name;
}

interface InitFlags {
  bins: string;
  ownerKey: string[];
  threshold?: string;
  expiresDays?: string;
  out: string;
  json?: boolean;
}
type SignFlags = PassphraseOptions & { key?: string[]; signature?: string; publicKey?: string; json?: boolean };

/** Adds the owners' commands to `delegation` (in the order its help lists them). */
export function registerOwnerCommands(delegation: Command): void {
  delegation
    .command("init")
    .description(
      "write the first versions of an offline delegation with hash bins for its owners to sign (no service needed): its role, delegating to the bins with the owners' keys and threshold (TAP 15 succinct_roles), and each bin, empty, in one role set file",
    )
    .argument("<name>", "the delegation to add")
    .requiredOption("--bins <n>", "hash bins inside it: a power of two from 2 to 16")
    .requiredOption("--owner-key <file>", "an owner's key file or public key (repeatable)", collect)
    .option("--threshold <n>", "how many owner keys sign each version (default 1)")
    .option("--expires-days <n>", "days until the first versions expire (default 365)")
    .requiredOption("--out <file>", "where to write the role set")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation init big --bins 16 --owner-key a.key --owner-key b.pub.json --threshold 2 --out big-1.json",
        "tuf-edge delegation sign big-1.json --key a.key     # every role of the set, one command per owner",
        "tuf-edge delegation add big --path 'big/*' --offline --bins 16 --owner-key a.key --owner-key b.pub.json --threshold 2 --metadata big-1.json",
      ]),
    )
    .action(initDelegation);

  delegation
    .command("sign")
    .description(
      "sign an offline delegation's role file with owner keys (offline: no service needed); FILE is rewritten as the signed envelope",
    )
    .argument(
      "<file>",
      "the role: an envelope (a draft written by `delegation draft --out`), or its bare signed part ({_type: targets, version, expires, targets}); or a role set (`delegation init`, or the drafts of a delegation with bins): every role in it is signed",
    )
    .option("--key <file>", "an owner's key file (repeatable)", collect)
    .option("--passphrase-file <file>", "passphrase for the key files (else TUF_EDGE_PASSPHRASE, else prompts)")
    .option(
      "--signature <file>",
      "add a signature made elsewhere (e.g. a hardware token) over `delegation bytes` output; DER for ECDSA",
    )
    .option(
      "--public-key <file>",
      "with --signature: the public key (key file or `keys show --json` output) that made it",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation sign acme-2.json --key owner-a.key --key owner-b.key",
        "tuf-edge delegation sign acme-next.json --signature sig.der --public-key owner-hw.pub.json",
      ]),
    )
    .action(signOffline);

  delegation
    .command("draft")
    .description(
      "the draft of an offline delegation's next version: its published targets with the changes waiting for the owners applied; checked here against the published version before it is shown or written",
    )
    .argument("<name>", "the offline delegation")
    .option("--out <file>", "write it as an envelope to sign (`delegation sign`), with the signatures collected so far")
    .option(
      "--renew",
      "with hash bins inside it: draft every role (the role and each bin), pending changes or not, to re-sign them before they expire",
    )
    .option("--json", "print the draft as JSON (with bins: the list of drafts)")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation draft acme",
        "tuf-edge delegation draft acme --out acme-next.json",
        "tuf-edge delegation draft big --out big-next.json     # bins inside: one draft per bin with changes, in one set file",
        "tuf-edge delegation draft big --renew --out big-renew.json",
      ]),
    )
    .action(draftDelegation);

  delegation
    .command("bytes")
    .description(
      "write the exact bytes to sign (the canonical JSON of the file's signed part), for a signer outside this CLI (a hardware token)",
    )
    .argument("<file>", "a role file (a draft written by `delegation draft --out`)")
    .requiredOption("--out <file>", "where to write the bytes")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation bytes acme-next.json --out acme-next.bin",
        "tuf-edge delegation sign acme-next.json --signature sig.der --public-key owner-hw.pub.json",
      ]),
    )
    .action(async (file: string, flags: { out: string }) => {
      if (readRoleSet(file))
        throw usageError(
          `${file} holds several roles: bytes for a hardware token are written per role file (not built for role sets)`,
        );
      const bytes = canonicalBytes(readRoleFile(file).signed);
      await writeFile(flags.out, bytes);
      out(`${flags.out}: ${bytes.length} bytes to sign`);
    });

  delegation
    .command("submit")
    .description(
      "submit an offline delegation's next version (the file's exact bytes); returns once published, or says why it was refused",
    )
    .argument("<name>", "the delegation")
    .argument("<file>", "the signed envelope")
    .option(
      "--signatures",
      "submit the file's signatures over the service's draft (`delegation draft --out`), one at a time; published once the threshold is met. A role set (bins inside the delegation): all its signatures in one request, the drafts at threshold published together",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation submit acme acme-2.json",
        "tuf-edge delegation submit acme acme-next.json --signatures",
      ]),
    )
    .action(submitDelegation);
}

/** `delegation init`: an offline delegation with bins, its version 1 and its empty bins, written for the owners to sign. */
async function initDelegation(name: string, flags: InitFlags): Promise<void> {
  const bins = intOption("--bins", flags.bins, 2, 16) as number;
  if (!Number.isInteger(Math.log2(bins))) throw usageError("--bins is a power of two");
  const threshold = intOption("--threshold", flags.threshold, 1, 32) ?? 1;
  const days = intOption("--expires-days", flags.expiresDays, 1, 3650) ?? 365;
  const expires = new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
  const set = await initRoleSet(nameArgument(name), flags.ownerKey, threshold, bins, expires);
  await writeRoleSet(flags.out, set);
  if (flags.json) return outJson({ file: flags.out, delegation: name, roles: set.roles.map((r) => r.role), expires });
  out(
    `${flags.out}: ${name} version 1 and ${bins} empty bins (${set.roles[1]?.role} … ${set.roles.at(-1)?.role}), expiring ${expires}`,
  );
  info(`each owner signs every role of it: tuf-edge delegation sign ${flags.out} --key …`);
}

/** `delegation sign`: a role set with owners' keys, or one role's file with keys or an external signature. */
async function signOffline(file: string, flags: SignFlags): Promise<void> {
  const set = readRoleSet(file);
  if (set) {
    if (flags.signature)
      throw usageError(
        `${file} holds several roles: --signature adds one signature to one role's file; sign a role set with --key`,
      );
    if (!flags.key?.length) throw usageError("give at least one --key");
    const result = await signRoleSet(file, set, flags.key, flags);
    if (flags.json) return outJson(result);
    for (const r of result.roles) out(`${file}: ${r.role} version ${r.version}, signed by ${r.keyids.length} key(s)`);
    return;
  }
  if (flags.signature) {
    checkExternalFlags(flags);
    const result = await addExternalSignature(file, flags.signature, flags.publicKey as string);
    if (flags.json) return outJson(result);
    return out(`${file}: version ${result.version}, signed by ${result.keyids.length} key(s)`);
  }
  if (!flags.key?.length) throw usageError("give at least one --key (or --signature with --public-key)");
  const result = await signRoleFile(file, flags.key, flags);
  if (flags.json) return outJson(result);
  out(`${file}: version ${result.version}, signed by ${result.keyids.length} key(s)`);
}

/** `delegation draft`: the next version (or, with bins, every bin's draft) checked against what is published, shown and written. */
async function draftDelegation(
  name: string,
  flags: { out?: string; json?: boolean; renew?: boolean },
  command: Command,
): Promise<void> {
  const settings = settingsOf(command);
  const client = adminClient(settings);
  const view = (await client.delegations()).delegations.find((d) => d.name === nameArgument(name));
  if (view?.bins) {
    // Bins inside it: each bin is a role of its own, with its own draft (delegation-bins.ts).
    const drafts = await fetchCheckedDrafts(settings, client, name, flags.renew === true);
    if (flags.out && drafts.length) await writeRoleSet(flags.out, draftsSet(name, drafts));
    if (flags.json) return outJson(drafts);
    for (const line of describeDrafts(name, drafts)) out(line);
    if (flags.out && drafts.length)
      info(
        `wrote ${flags.out} (${drafts.length} role(s)): sign them all with \`tuf-edge delegation sign ${flags.out} --key …\``,
      );
    return;
  }
  if (flags.renew) throw usageError(`--renew is for a delegation with hash bins; ${name}'s draft re-signs it anyway`);
  const draft = await fetchCheckedDraft(settings, client, name);
  if (flags.out) await writeRoleFile(flags.out, { signed: draft.signed, signatures: draft.signatures });
  if (flags.json) return outJson(draft);
  for (const line of describeDraft(draft)) out(line);
  if (flags.out) info(`wrote ${flags.out}: sign it with \`tuf-edge delegation sign ${flags.out} --key …\``);
}

/** `delegation submit`: a role set's or a draft's signatures, or a whole signed version. */
async function submitDelegation(
  name: string,
  file: string,
  flags: { json?: boolean; signatures?: boolean },
  command: Command,
): Promise<void> {
  const set = readRoleSet(file);
  if (set) {
    if (!flags.signatures) throw usageError(`${file} is a role set: submit its signatures with --signatures`);
    const result = await submitRoleSetSignatures(adminClient(settingsOf(command)), nameArgument(name), file, set);
    if (flags.json) return outJson(result);
    for (const d of result.drafts) out(`${d.role} version ${d.version}: ${d.signatures} of ${d.threshold} signatures`);
    return out(
      result.published
        ? `published ${result.published.roles.map((r) => `${r.role} v${r.version}`).join(", ")}: timestamp v${result.published.versions.timestamp}`
        : "not published yet: more owners sign",
    );
  }
  if (flags.signatures) {
    const result = await submitSignatures(adminClient(settingsOf(command)), nameArgument(name), file);
    if (flags.json) return outJson(result);
    return out(
      result.published
        ? `delegation ${name} version ${result.published.version} published: timestamp v${result.published.versions.timestamp}`
        : `delegation ${name} version ${result.version}: ${result.signatures} of ${result.threshold} signatures collected; not published yet`,
    );
  }
  const bytes = new Uint8Array(readArgumentFile(file));
  const result = await adminClient(settingsOf(command)).submitDelegationMetadata(nameArgument(name), bytes);
  if (flags.json) return outJson(result);
  out(`delegation ${name} version ${result.version} published: timestamp v${result.versions.timestamp}`);
}
