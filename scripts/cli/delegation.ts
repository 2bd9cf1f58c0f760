/**
 * `tuf-edge delegation`: named targets roles for namespaces (admin token).
 * A delegation is checked here with the service's own schema, so a wrong
 * name, pattern or bins count is a usage error (exit 2) before any request.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import {
  addExternalSignature,
  describeDraft,
  fetchCheckedDraft,
  readRoleFile,
  statusRow,
  submitSignatures,
  writeRoleFile,
} from "./delegation-draft.ts";
import {
  describeDrafts,
  draftsSet,
  envelopeText,
  fetchCheckedDrafts,
  initRoleSet,
  readRoleSet,
  signRoleSet,
  submitRoleSetSignatures,
  writeRoleSet,
} from "./delegation-bins.ts";
import type { Command } from "commander";
import { z } from "zod";
import { DelegationNameSchema, DelegationSpecSchema } from "../../src/schemas/delegations.ts";
import { toHex } from "../../src/lib/bytes.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { adminClient } from "./config.ts";
import { usageError } from "./exit.ts";
import { checkExternalFlags } from "./external-signature.ts";
import { loadSigner, type PassphraseOptions, readPublicKey } from "./keyfile.ts";
import { examples } from "./help.ts";
import { confirmOrAbort } from "./prompt.ts";
import { collect, intOption, settingsOf } from "./options.ts";
import { info, out, outJson, shortId, table } from "./output.ts";
import type { CeremonyView, DelegationsView } from "../../src/repository-api.ts";
import { targetsDiffLines } from "../../src/tuf/targets-diff.ts";
import { expiresIn } from "./root-view.ts";

interface AddFlags {
  path?: string[];
  hashPrefix?: string[];
  parent?: string;
  terminating?: boolean;
  bins?: string;
  position?: string;
  offline?: boolean;
  ownerKey?: string[];
  threshold?: string;
  metadata?: string;
  json?: boolean;
}

/** The bytes of a file named on the command line (a usage error if it cannot be read). */
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

/** What an operator does next when a change of targets became a ceremony (protected-delegations mode). */
function printProposed(ceremony: CeremonyView, what: string): void {
  const progress = ceremony.progress.targets;
  out(
    `${what} needs the targets key holders' approval: ceremony ${ceremony.id} (${ceremony.kind}) is open; nothing changed yet`,
  );
  if (ceremony.targets) for (const line of targetsDiffLines(ceremony.targets.summary)) out(`  ${line}`);
  out(
    `Each targets key holder reviews and signs:  tuf-edge ceremony sign ${ceremony.id} --key KEY.json   (${progress?.signed ?? 0} of ${progress?.threshold ?? "?"} so far)`,
  );
  out(
    `It is published when ${progress?.threshold ?? "the threshold of"} sign; to abandon it: tuf-edge ceremony cancel ${ceremony.id} --reason "…"`,
  );
}

function nameArgument(name: string): string {
  const parsed = DelegationNameSchema.safeParse(name);
  if (!parsed.success) throw usageError(`"${name}": ${parsed.error.issues[0]?.message ?? "not a delegation name"}`);
  return name;
}

export function registerDelegation(program: Command): void {
  const delegation = program
    .command("delegation")
    .description("named targets roles for namespaces, searched before the hash bins (docs/operators.md §12)");
  delegation.addHelpText(
    "after",
    examples([
      "tuf-edge delegation add acme --path '@acme/*' --terminating",
      "tuf-edge delegation add big --path 'big/*' --bins 64",
      "tuf-edge delegation add team --parent org --path 'org/team/*'",
      "tuf-edge delegation show",
      "tuf-edge delegation remove big",
      "tuf-edge delegation draft acme --out acme-next.json",
      "tuf-edge delegation sign acme-next.json --key owner-a.key",
      "tuf-edge delegation submit acme acme-next.json --signatures",
      "tuf-edge delegation status",
      "tuf-edge delegation sign acme-2.json --key owner-a.key --key owner-b.key",
      "tuf-edge delegation submit acme acme-2.json",
      "tuf-edge delegation init big --bins 16 --owner-key a.key --owner-key b.key --threshold 2 --out big-1.json",
      "tuf-edge delegation protect --yes",
    ]),
  );

  delegation
    .command("add")
    .description(
      "add a delegation, online or (--offline) signed by its owners; the targets it claims move into it; returns once published (in protected mode: the ceremony it opens)",
    )
    .argument("<name>", "1–64 of a-z, 0-9, - (not a top-level role's name, not bins or bins-…)")
    .option(
      "--path <pattern>",
      "a TUF path pattern it claims (repeatable): * and ? within a segment, [classes]",
      collect,
    )
    .option(
      "--hash-prefix <hex>",
      "a hex prefix of the SHA-256 of the paths it claims (repeatable), instead of --path",
      collect,
    )
    .option("--parent <name>", "the delegation that delegates to it (default: targets)")
    .option("--terminating", "clients look nowhere else for the paths it claims (an --offline one always is)")
    .option(
      "--bins <n>",
      "hash bins inside it: a power of two from 2 to 16384 (offline: at most 16, each signed by the owners)",
    )
    .option("--position <n>", "its place among its parent's delegations (0: searched first; default last)")
    .option("--offline", "signed by its owners (--owner-key, --threshold, --metadata), never by the service")
    .option("--owner-key <file>", "an owner's key file (its public key is read; repeatable)", collect)
    .option("--threshold <n>", "how many owner keys sign each version (default 1)")
    .option(
      "--metadata <file>",
      "its version 1, signed by the owners (tuf-edge delegation sign); with --bins, the role set of `delegation init`, signed",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation add acme --path '@acme/*'",
        "tuf-edge delegation add shard-0 --hash-prefix 0 --hash-prefix 1",
        "tuf-edge delegation add first --path 'pkg/*' --terminating --position 0",
        "tuf-edge delegation add acme --path '@acme/*' --offline --owner-key a.key --owner-key b.key --threshold 2 --metadata acme-1.json",
        "tuf-edge delegation add big --path 'big/*' --offline --bins 16 --owner-key a.key --owner-key b.key --threshold 2 --metadata big-1.json",
      ]),
    )
    .action(async (name: string, flags: AddFlags, command: Command) => {
      const bins = intOption("--bins", flags.bins, 2, 16_384);
      const position = intOption("--position", flags.position, 0, 255);
      const threshold = intOption("--threshold", flags.threshold, 1, 32) ?? 1;
      const set = flags.offline && flags.metadata ? readRoleSet(flags.metadata) : null;
      if (set && (set.delegation !== name || set.roles[0]?.role !== name))
        throw usageError(`${flags.metadata} holds the roles of delegation ${set.delegation}, not ${name}`);
      const offline = flags.offline
        ? {
            signing: "offline",
            keys: await Promise.all((flags.ownerKey ?? []).map(async (f) => (await readPublicKey(f)).key)),
            threshold,
            // A role set (delegation init): the role's version 1, then each bin's.
            ...(set
              ? {
                  metadata: envelopeText(set.roles[0] as (typeof set.roles)[0]),
                  binsMetadata: set.roles.slice(1).map(envelopeText),
                }
              : flags.metadata
                ? { metadata: readArgumentFile(flags.metadata).toString("utf8") }
                : {}),
          }
        : {};
      const spec = DelegationSpecSchema.safeParse({
        ...offline,
        name: nameArgument(name),
        ...(flags.path ? { paths: flags.path } : {}),
        ...(flags.hashPrefix ? { path_hash_prefixes: flags.hashPrefix } : {}),
        ...(flags.parent ? { parent: flags.parent } : {}),
        ...(flags.terminating ? { terminating: true } : {}),
        ...(bins !== undefined ? { bins } : {}),
        ...(position !== undefined ? { position } : {}),
      });
      if (!spec.success)
        throw usageError(
          z.prettifyError(spec.error),
          "give --path or --hash-prefix (not both); --offline needs --owner-key and --metadata (with --bins: at most 16, and the role set of `delegation init`)",
        );
      const result = await adminClient(settingsOf(command)).addDelegation(spec.data);
      if (flags.json) return outJson(result);
      if ("ceremony" in result) return printProposed(result.ceremony, `adding delegation ${name}`);
      out(
        `delegation ${name} added under ${result.delegation.parent}; published: targets v${result.versions.targets}, timestamp v${result.versions.timestamp}`,
      );
    });

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
    .action(
      async (
        name: string,
        flags: {
          bins: string;
          ownerKey: string[];
          threshold?: string;
          expiresDays?: string;
          out: string;
          json?: boolean;
        },
      ) => {
        const bins = intOption("--bins", flags.bins, 2, 16) as number;
        if (!Number.isInteger(Math.log2(bins))) throw usageError("--bins is a power of two");
        const threshold = intOption("--threshold", flags.threshold, 1, 32) ?? 1;
        const days = intOption("--expires-days", flags.expiresDays, 1, 3650) ?? 365;
        const expires = new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
        const set = await initRoleSet(nameArgument(name), flags.ownerKey, threshold, bins, expires);
        await writeRoleSet(flags.out, set);
        if (flags.json)
          return outJson({ file: flags.out, delegation: name, roles: set.roles.map((r) => r.role), expires });
        out(
          `${flags.out}: ${name} version 1 and ${bins} empty bins (${set.roles[1]?.role} … ${set.roles.at(-1)?.role}), expiring ${expires}`,
        );
        info(`each owner signs every role of it: tuf-edge delegation sign ${flags.out} --key …`);
      },
    );

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
    .action(
      async (
        file: string,
        flags: PassphraseOptions & { key?: string[]; signature?: string; publicKey?: string; json?: boolean },
      ) => {
        const set = readRoleSet(file);
        if (set) {
          if (flags.signature)
            throw usageError(
              `${file} holds several roles: --signature adds one signature to one role's file; sign a role set with --key`,
            );
          if (!flags.key?.length) throw usageError("give at least one --key");
          const result = await signRoleSet(file, set, flags.key, flags);
          if (flags.json) return outJson(result);
          for (const r of result.roles)
            out(`${file}: ${r.role} version ${r.version}, signed by ${r.keyids.length} key(s)`);
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
      },
    );

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
    .action(async (name: string, flags: { out?: string; json?: boolean; renew?: boolean }, command: Command) => {
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
      if (flags.renew)
        throw usageError(`--renew is for a delegation with hash bins; ${name}'s draft re-signs it anyway`);
      const draft = await fetchCheckedDraft(settings, client, name);
      if (flags.out) await writeRoleFile(flags.out, { signed: draft.signed, signatures: draft.signatures });
      if (flags.json) return outJson(draft);
      for (const line of describeDraft(draft)) out(line);
      if (flags.out) info(`wrote ${flags.out}: sign it with \`tuf-edge delegation sign ${flags.out} --key …\``);
    });

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
    .action(async (name: string, file: string, flags: { json?: boolean; signatures?: boolean }, command: Command) => {
      const set = readRoleSet(file);
      if (set) {
        if (!flags.signatures) throw usageError(`${file} is a role set: submit its signatures with --signatures`);
        const result = await submitRoleSetSignatures(adminClient(settingsOf(command)), nameArgument(name), file, set);
        if (flags.json) return outJson(result);
        for (const d of result.drafts)
          out(`${d.role} version ${d.version}: ${d.signatures} of ${d.threshold} signatures`);
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
    });

  delegation
    .command("remove")
    .description("remove a delegation (none may be nested under it); its targets go back to whichever role claims them")
    .argument("<name>", "the delegation")
    .option("--json", "print the result as JSON")
    .addHelpText("after", examples(["tuf-edge delegation remove big"]))
    .action(async (name: string, flags: { json?: boolean }, command: Command) => {
      const result = await adminClient(settingsOf(command)).removeDelegation(nameArgument(name));
      if (flags.json) return outJson(result);
      if ("ceremony" in result) return printProposed(result.ceremony, `removing delegation ${name}`);
      out(
        `delegation ${name} removed; published: targets v${result.versions.targets}, timestamp v${result.versions.timestamp}`,
      );
    });

  delegation
    .command("status")
    .description(
      "how targets is signed (online, or offline in protected mode) and the pending ceremony that changes it; each offline delegation as its owners need it: published version and expiry, days left, changes waiting for them, the draft and its signatures",
    )
    .option("--json", "print it as JSON")
    .addHelpText("after", examples(["tuf-edge delegation status", "tuf-edge delegation status --json"]))
    .action(async (flags: { json?: boolean }, command: Command) => {
      const view = await adminClient(settingsOf(command)).delegations();
      const rows = view.delegations.filter((d) => d.signing === "offline").map((d) => statusRow(d, Date.now()));
      if (flags.json) return outJson(rows);
      for (const line of targetsStatusLines(view)) out(line);
      if (!rows.length) return out("no offline delegations: the service signs every role");
      out(
        table(
          ["DELEGATION", "VERSION", "EXPIRES", "DAYS LEFT", "PENDING", "DRAFT", "SIGNATURES"],
          rows.map((r) => [
            r.name,
            r.version === null ? "-" : String(r.version),
            r.expires ?? "-",
            r.daysLeft === null ? "-" : String(r.daysLeft),
            String(r.pending),
            r.bins
              ? `${r.bins.drafts} bin draft(s)`
              : r.draft
                ? `v${r.draft.version}${r.draft.frozen ? " (frozen)" : ""}`
                : "-",
            r.bins ? `${r.bins.signing} being signed` : r.draft ? `${r.draft.signatures} of ${r.draft.threshold}` : "-",
          ]),
        ),
      );
    });

  delegation
    .command("show")
    .description("the delegations, in the order a client's search meets them")
    .option("--json", "print them as JSON")
    .addHelpText("after", examples(["tuf-edge delegation show", "tuf-edge delegation show --json"]))
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { delegations } = await adminClient(settingsOf(command)).delegations();
      if (flags.json) return outJson(delegations);
      if (!delegations.length) return out("no delegations: every path is in the hash bins");
      out(
        table(
          ["DELEGATION", "PARENT", "CLAIMS", "TERMINATING", "BINS", "SIGNED"],
          delegations.map((d) => [
            d.name,
            d.parent,
            d.paths ? d.paths.join(" ") : `sha256 ${d.path_hash_prefixes?.join(" ")}…`,
            d.terminating ? "yes" : "no",
            d.bins ? String(d.bins) : "-",
            d.signing,
          ]),
        ),
      );
    });
  delegation
    .command("protect")
    .description(
      "open the ceremony that makes top-level targets offline-signed (protected-delegations mode): from then on delegation changes need the targets key holders",
    )
    .option(
      "--key <file>",
      "a key that signs targets from then on (key file or public key; repeatable; default: the root keys)",
      collect,
    )
    .option("--threshold <n>", "how many of --key sign each targets version (default: the root threshold)")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print the ceremony as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation protect --yes",
        "tuf-edge delegation protect --key targets-a.pub.json --key targets-b.pub.json --threshold 2 --yes",
      ]),
    )
    .action(async (flags: { key?: string[]; threshold?: string; yes?: boolean; json?: boolean }, command: Command) => {
      const threshold = intOption("--threshold", flags.threshold, 1, 32);
      if ((threshold === undefined) !== !flags.key?.length) throw usageError("--key and --threshold come together");
      const keys = flags.key ? await Promise.all(flags.key.map(async (f) => (await readPublicKey(f)).key)) : undefined;
      if (!(await confirmOrAbort("Open a ceremony that hands top-level targets to offline keys?", flags.yes)))
        throw usageError("cancelled; nothing was opened");
      const view = await adminClient(settingsOf(command)).openCeremony({
        kind: "protect-delegations",
        ...(keys && threshold !== undefined ? { keys, threshold } : {}),
      });
      if (flags.json) return outJson(view);
      out(
        `ceremony ${view.id} (protect-delegations to root v${view.rootVersion} and targets v${view.targets?.version}) is open`,
      );
      out(
        `Root key holders sign root v${view.rootVersion}, and the targets key holders (${view.targets?.threshold} of ${view.targets?.keyids.length}) targets v${view.targets?.version}: tuf-edge ceremony sign ${view.id} --key KEY.json`,
      );
    });

  delegation
    .command("refresh")
    .description(
      "protected mode: open a targets-refresh ceremony (the same targets with a later expiry) for its key holders",
    )
    .option("--json", "print the ceremony as JSON")
    .addHelpText("after", examples(["tuf-edge delegation refresh"]))
    .action(async (flags: { json?: boolean }, command: Command) => {
      const view = await adminClient(settingsOf(command)).openCeremony({ kind: "targets-refresh" });
      if (flags.json) return outJson(view);
      printProposed(view, "refreshing targets");
    });
}

/** `delegation status`: how targets is signed and the ceremony pending to change it (protected-delegations mode). */
function targetsStatusLines(view: DelegationsView): string[] {
  const { targets } = view;
  const lines = [
    targets.signing === "offline"
      ? `targets v${targets.version}: signed OFFLINE by ${targets.threshold} of ${targets.keyids.length} key(s) ${targets.keyids.map(shortId).join(" ")} (protected delegations: changes need their ceremony)${targets.expires ? `, expires ${expiresIn(targets.expires)}` : ""}`
      : `targets v${targets.version}: signed ONLINE (delegation changes take effect at once; they protect nothing against the online key)`,
  ];
  for (const p of view.pending)
    lines.push(
      `pending: ceremony ${p.id} (${p.kind}): ${p.change}; expires ${p.expiresAt} (tuf-edge ceremony show ${p.id})`,
    );
  return lines;
}
