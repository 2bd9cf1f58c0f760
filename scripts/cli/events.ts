/**
 * `tuf-edge events`: the repository's audit log (GET /{repo}/admin/events),
 * newest first: ceremony steps, key changes, registry credentials, failed
 * publishes and refreshes, key-encryption key re-seals.
 */
import type { Command } from "commander";
import { adminClient } from "./config.ts";
import { examples } from "./help.ts";
import { EventKindSchema, MAX_EVENTS } from "../../src/schemas/admin.ts";
import { usageError } from "./exit.ts";
import { intOption, settingsOf } from "./options.ts";
import { out, outJson, shortId, table } from "./output.ts";

export function registerEvents(program: Command): void {
  program
    .command("events")
    .description("the audit log: ceremony steps, key changes, registry credentials, failures (newest first)")
    .option("--limit <n>", `how many of the newest events (1 to ${MAX_EVENTS}, default 50)`)
    .option("--kind <kind>", "only events of this kind (e.g. signature-accepted, publish-failed); --limit counts those")
    .option("--json", "print the events as JSON")
    .addHelpText(
      "after",
      examples(["tuf-edge events", "tuf-edge events --limit 200 --kind publish-failed", "tuf-edge events --json"]),
    )
    .action(async (flags: { limit?: string; kind?: string; json?: boolean }, command: Command) => {
      const limit = intOption("--limit", flags.limit, 1, MAX_EVENTS) ?? 50;
      const kind = flags.kind === undefined ? undefined : EventKindSchema.safeParse(flags.kind);
      if (kind && !kind.success) throw usageError(`--kind: ${kind.error.issues[0]?.message}, not "${flags.kind}"`);
      // The repository filters by kind: --limit counts the events of that kind.
      const { events: shown } = await adminClient(settingsOf(command)).events(limit, kind?.data);
      if (flags.json) return outJson(shown);
      if (!shown.length) return out("no events");
      out(
        table(
          ["AT", "KIND", "KEY", "DETAIL"],
          shown.map((e) => [e.at, e.kind, e.keyid ? shortId(e.keyid) : "", e.detail]),
        ),
      );
    });
}
