/**
 * `tuf-edge delegation`: named targets roles for namespaces (admin token).
 * A delegation is checked here with the service's own schema, so a wrong
 * name, pattern or bins count is a usage error (exit 2) before any request.
 */
import type { Command } from "commander";
import { z } from "zod";
import type { CeremonyView, DelegationsView } from "../../src/repository-api.ts";
import { DelegationSpecSchema } from "../../src/schemas/delegations.ts";
import { targetsDiffLines } from "../../src/tuf/targets-diff.ts";
import { statusRow } from "./delegation-draft.ts";
import { envelopeText, readRoleSet } from "./delegation-bins.ts";
import { nameArgument, readArgumentFile, registerOwnerCommands } from "./delegation-owners.ts";
import { adminClient } from "./config.ts";
import { usageError } from "./exit.ts";
import { readPublicKey } from "./keyfile.ts";
import { examples } from "./help.ts";
import { confirmOrAbort } from "./prompt.ts";
import { collect, intOption, settingsOf } from "./options.ts";
import { out, outJson, shortId, table } from "./output.ts";
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
    .action(addDelegation);

  registerOwnerCommands(delegation);

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
    .action(delegationStatus);

  delegation
    .command("show")
    .description("the delegations, in the order a client's search meets them")
    .option("--json", "print them as JSON")
    .addHelpText("after", examples(["tuf-edge delegation show", "tuf-edge delegation show --json"]))
    .action(showDelegations);

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
    .action(protect);

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

/** `delegation add`: the spec checked with the service's schema (a usage error before any request), then added. */
async function addDelegation(name: string, flags: AddFlags, command: Command): Promise<void> {
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
}

/** `delegation status`: how targets is signed, and each offline delegation as its owners need it. */
async function delegationStatus(flags: { json?: boolean }, command: Command): Promise<void> {
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
}

/** `delegation show`: the delegations, in the order a client's search meets them. */
async function showDelegations(flags: { json?: boolean }, command: Command): Promise<void> {
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
}

/** `delegation protect`: opens the ceremony that hands top-level targets to offline keys, once confirmed. */
async function protect(
  flags: { key?: string[]; threshold?: string; yes?: boolean; json?: boolean },
  command: Command,
): Promise<void> {
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
