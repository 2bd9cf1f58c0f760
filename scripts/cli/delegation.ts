/**
 * `tuf-edge delegation`: named targets roles for namespaces (admin token).
 * A delegation is checked here with the service's own schema, so a wrong
 * name, pattern or bins count is a usage error (exit 2) before any request.
 */
import type { Command } from "commander";
import { z } from "zod";
import { DelegationNameSchema, DelegationSpecSchema } from "../../src/schemas/delegations.ts";
import { adminClient } from "./config.ts";
import { usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { collect, intOption, settingsOf } from "./options.ts";
import { out, outJson, table } from "./output.ts";

interface AddFlags {
  path?: string[];
  hashPrefix?: string[];
  parent?: string;
  terminating?: boolean;
  bins?: string;
  position?: string;
  json?: boolean;
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
    ]),
  );

  delegation
    .command("add")
    .description("add an online delegation; the targets it claims move into it; returns once published")
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
    .option("--terminating", "clients look nowhere else for the paths it claims")
    .option("--bins <n>", "hash bins inside it: a power of two from 2 to 16384")
    .option("--position <n>", "its place among its parent's delegations (0: searched first; default last)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge delegation add acme --path '@acme/*'",
        "tuf-edge delegation add shard-0 --hash-prefix 0 --hash-prefix 1",
        "tuf-edge delegation add first --path 'pkg/*' --terminating --position 0",
      ]),
    )
    .action(async (name: string, flags: AddFlags, command: Command) => {
      const bins = intOption("--bins", flags.bins, 2, 16_384);
      const position = intOption("--position", flags.position, 0, 255);
      const spec = DelegationSpecSchema.safeParse({
        name: nameArgument(name),
        ...(flags.path ? { paths: flags.path } : {}),
        ...(flags.hashPrefix ? { path_hash_prefixes: flags.hashPrefix } : {}),
        ...(flags.parent ? { parent: flags.parent } : {}),
        terminating: flags.terminating === true,
        ...(bins !== undefined ? { bins } : {}),
        ...(position !== undefined ? { position } : {}),
      });
      if (!spec.success) throw usageError(z.prettifyError(spec.error), "give --path or --hash-prefix (not both)");
      const result = await adminClient(settingsOf(command)).addDelegation(spec.data);
      if (flags.json) return outJson(result);
      out(
        `delegation ${name} added under ${result.delegation.parent}; published: targets v${result.versions.targets}, timestamp v${result.versions.timestamp}`,
      );
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
      out(
        `delegation ${name} removed; published: targets v${result.versions.targets}, timestamp v${result.versions.timestamp}`,
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
}
