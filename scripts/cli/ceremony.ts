/**
 * `tuf-edge ceremony`: root ceremonies opened on the service (online-key
 * rotations, root changes, root refreshes, emergencies): list, show, sign,
 * cancel, and the offline path: export (a ceremony file), sign FILE (on a
 * machine with no network), bytes (for a signer outside this CLI), submit.
 * Signing happens here, over the canonical bytes this machine computes from
 * the draft; the summary shown is computed here too, from the published
 * trusted root, and must agree with the service's. This file is the
 * commands; what they do is in ceremony-online.ts (a ceremony on the
 * service) and ceremony-offline.ts (a ceremony file).
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { CeremonyView } from "../../src/repository-api.ts";
import { type BytesFlags, type FileSignFlags, signFile, submitFile, writeCeremonyBytes } from "./ceremony-offline.ts";
import { checkDraft, exportCeremony, fingerprints, signCeremony } from "./ceremony-online.ts";
import { adminClient } from "./config.ts";
import { usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { readPublicKey } from "./keyfile.ts";
import { ceremonyIdArgument, collect, settingsOf } from "./options.ts";
import { out, outJson, table } from "./output.ts";
import { describeCeremony } from "./root-view.ts";

/** Signatures against each threshold, for the list: "1/2, 1/2" (root), "+ targets 1/2". */
function signedColumn(p: CeremonyView["progress"]): string {
  const parts: string[] = [];
  if (p.trustedRoot && p.draftRoot)
    parts.push(`${p.trustedRoot.signed}/${p.trustedRoot.threshold}, ${p.draftRoot.signed}/${p.draftRoot.threshold}`);
  if (p.targets) parts.push(`targets ${p.targets.signed}/${p.targets.threshold}`);
  return parts.join(", ");
}

export function registerCeremony(program: Command): void {
  const ceremony = program.command("ceremony").description("root ceremonies on the service: list, show, sign, cancel");
  ceremony.addHelpText(
    "after",
    examples([
      "tuf-edge ceremony list",
      "tuf-edge ceremony show 0123456789abcdef",
      "tuf-edge ceremony sign 0123456789abcdef --key root-a.json",
    ]),
  );

  ceremony
    .command("list")
    .description("ceremonies, newest first")
    .option("--json", "print them as JSON")
    .addHelpText("after", examples(["tuf-edge ceremony list", "tuf-edge ceremony list --json | jq '.[0].id'"]))
    .action(listCeremonies);

  ceremony
    .command("show")
    .description(
      "what a ceremony's draft changes (keys added and removed, thresholds, expiry), its signatures and events",
    )
    .argument("<id>", "the ceremony id (16 hex characters)")
    .option("--json", "print the ceremony as JSON (draft, canonical bytes, summary, progress, events)")
    .addHelpText(
      "after",
      examples(["tuf-edge ceremony show 0123456789abcdef", "tuf-edge ceremony show 0123456789abcdef --json"]),
    )
    .action(showCeremony);

  ceremony
    .command("export")
    .description(
      "write an open ceremony to a file for offline signing: the draft, its canonical bytes, roots 1..N and what changes",
    )
    .argument("<id>", "the ceremony id")
    .option("--out <file>", "the ceremony file to write (default ceremony-<id>.json)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony export 0123456789abcdef --out ceremony.json",
        "tuf-edge ceremony sign ceremony.json --key root-a.json --trusted-root packages.1.root.json   # offline",
        "tuf-edge ceremony submit ceremony.json",
      ]),
    )
    .action(async (id: string, flags: { out?: string; json?: boolean }, command: Command) => {
      const path = flags.out ?? `ceremony-${id}.json`;
      const verified = await exportCeremony(settingsOf(command), ceremonyIdArgument(id), path);
      if (flags.json)
        return outJson({ ceremonyFile: path, id, fingerprint: verified.fingerprint, summary: verified.summary });
      out(`Wrote ${path}: ceremony ${id}, canonical SHA-256 ${verified.fingerprint}`);
      out(
        `Next: on each key holder's machine   tuf-edge ceremony sign ${path} --key KEY.json --trusted-root ROOT.json`,
      );
      out(`Then, from any machine:              tuf-edge ceremony submit ${path}`);
    });

  ceremony
    .command("sign")
    .description(
      "sign a ceremony: by id on the service, or a ceremony file offline (no network needed); over canonical bytes computed here",
    )
    .argument("<id-or-file>", "the ceremony id (16 hex characters), or a file from `ceremony export`")
    .option("--key <file>", "a root key file (repeatable)", collect, [])
    .option("--passphrase-file <file>", "passphrase for the key files (else TUF_EDGE_PASSPHRASE, else prompts)")
    .option(
      "--trusted-root <file>",
      "offline: your own copy of a trusted root; the file's root chain must start from it",
    )
    .option(
      "--signature <file>",
      "offline: add a signature made elsewhere (e.g. a hardware token) over `ceremony bytes` output (a root draft, or a targets draft: a targets-change file, or `--targets` of a root-change file); DER for ECDSA",
    )
    .option(
      "--public-key <file>",
      "with --signature: the public key (key file or `keys show --json` output) that made it",
    )
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony sign 0123456789abcdef --key root-a.json",
        "tuf-edge ceremony sign 0123456789abcdef --key a.json --key b.json --yes",
        "tuf-edge ceremony sign ceremony.json --key root-a.json --trusted-root packages.1.root.json   # offline",
        "tuf-edge ceremony sign ceremony.json --signature sig.der --public-key root-hw.pub.json       # offline",
        "tuf-edge ceremony sign acme-change.json --signature sig.der --public-key sec-hw.pub.json     # a targets draft",
      ]),
    )
    .action(ceremonySign);

  ceremony
    .command("submit")
    .description("submit the signatures in a ceremony file (checked locally first) to the ceremony on the service")
    .argument("<file>", "the ceremony file")
    .option("--json", "print the ceremony as JSON")
    .addHelpText("after", examples(["tuf-edge ceremony submit ceremony.json"]))
    .action(async (path: string, flags: { json?: boolean }, command: Command) => submitFile(path, flags, command));

  ceremony
    .command("bytes")
    .description(
      "write the exact bytes to sign (checked first) from a ceremony file, for a signer outside this CLI (a hardware token)",
    )
    .argument("<file>", "the ceremony file")
    .requiredOption("--out <file>", "where to write the bytes")
    .option("--trusted-root <file>", "your own copy of a trusted root; the file's root chain must start from it")
    .option(
      "--targets",
      "a root-change file with a targets part: write the targets draft's bytes (for a targets key), not root N+1's",
    )
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony bytes ceremony.json --out draft.bin --trusted-root packages.1.root.json",
        "openssl dgst -sha256 -sign root-hw.pem -out sig.der draft.bin",
        "tuf-edge ceremony sign ceremony.json --signature sig.der --public-key root-hw.pub.json",
        "tuf-edge ceremony bytes rekey.json --targets --out targets.bin   # the targets part, for a targets key",
      ]),
    )
    .action((path: string, flags: BytesFlags) => writeCeremonyBytes(path, flags));

  ceremony
    .command("cancel")
    .description("cancel an open ceremony (nothing is published; a key generated for it is destroyed)")
    .argument("<id>", "the ceremony id")
    .requiredOption("--reason <text>", "why (recorded in the audit log)")
    .option("--json", "print the ceremony as JSON")
    .addHelpText(
      "after",
      examples(['tuf-edge ceremony cancel 0123456789abcdef --reason "wrong threshold in the draft"']),
    )
    .action(async (id: string, flags: { reason: string; json?: boolean }, command: Command) => {
      const view = await adminClient(settingsOf(command)).cancelCeremony(ceremonyIdArgument(id), flags.reason);
      if (flags.json) return outJson({ id: view.id, state: view.state });
      out(`ceremony ${view.id}: ${view.state}`);
    });
}

/** `ceremony list`: newest first, as a table or JSON (without drafts, canonical bytes and events). */
async function listCeremonies(flags: { json?: boolean }, command: Command): Promise<void> {
  const { ceremonies } = await adminClient(settingsOf(command)).ceremonies();
  if (flags.json) return outJson(ceremonies.map(({ draft: _d, canonical: _c, events: _e, ...rest }) => rest));
  if (!ceremonies.length) return out("no ceremonies");
  out(
    table(
      ["ID", "KIND", "ROOT", "STATE", "SIGNED", "OPENED", "EXPIRES/CLOSED"],
      ceremonies.map((c) => [
        c.id,
        c.kind,
        `v${c.rootVersion}`,
        c.state,
        signedColumn(c.progress),
        c.openedAt,
        c.state === "awaiting-signatures" ? c.expiresAt : (c.closedAt ?? ""),
      ]),
    ),
  );
}

/** `ceremony show`: what the draft changes, checked here, its fingerprints, signatures and events. */
async function showCeremony(id: string, flags: { json?: boolean }, command: Command): Promise<void> {
  const settings = settingsOf(command);
  const view = await adminClient(settings).ceremony(ceremonyIdArgument(id));
  if (flags.json) return outJson(view);
  for (const line of describeCeremony(view, await checkDraft(settings, view))) out(line);
  for (const line of await fingerprints(view)) out(line);
  if (view.events.length) {
    out("  events:");
    for (const e of view.events)
      out(`    ${e.at}  ${e.kind}${e.keyid ? `  ${e.keyid.slice(0, 16)}…` : ""}  ${e.detail}`);
  }
}

/** `ceremony sign`: a ceremony file offline (ceremony-offline.ts), or a ceremony on the service by its id. */
async function ceremonySign(target: string, flags: FileSignFlags, command: Command): Promise<void> {
  if (!/^[0-9a-f]{16}$/.test(target) || existsSync(target)) return signFile(target, flags);
  if (!flags.key.length) throw usageError("--key is required");
  if (flags.signature || flags.trustedRoot)
    throw usageError("--signature and --trusted-root are for ceremony files (`ceremony export`)");
  for (const file of flags.key) await readPublicKey(file); // a missing key file is a usage error, before any request
  const settings = settingsOf(command);
  const client = adminClient(settings);
  const view = await signCeremony(settings, client, await client.ceremony(target), flags.key, flags);
  if (flags.json)
    return outJson({ id: view.id, state: view.state, rootVersion: view.rootVersion, progress: view.progress });
  out(`ceremony ${view.id}: ${view.state}`);
}
