/**
 * `tuf-edge pages resend`: sends the public pages' target documents again
 * (POST /{repo}/admin/pages/resend), from a log entry or from the start,
 * after the site-documents queue dropped some or to rebuild the pages. The
 * repository sends them run after run, as after an import; `tuf-edge
 * status` shows how many log entries are still to send ("pages: …").
 */
import type { Command } from "commander";
import { adminClient } from "./config.ts";
import { examples } from "./help.ts";
import { intOption, settingsOf } from "./options.ts";
import { out, outJson } from "./output.ts";

export function registerPages(program: Command): void {
  const pages = program.command("pages").description("the public pages' documents");
  pages
    .command("resend")
    .description("send the targets' documents for the pages again, from a log entry (default: all of them)")
    .option("--from <entry>", "the first log entry whose targets' documents are sent (default 0)")
    .option("--json", "print the answer as JSON")
    .addHelpText(
      "after",
      `${examples(["tuf-edge pages resend", "tuf-edge pages resend --from 120000 --json"])}
A stored document as new as the one sent is kept, so resending never puts an
older one back. Guide: docs/operators.md, "Watching it run".
`,
    )
    .action(async (flags: { from?: string; json?: boolean }, command: Command) => {
      const from = intOption("--from", flags.from, 0, Number.MAX_SAFE_INTEGER) ?? 0;
      const answer = await adminClient(settingsOf(command)).resendPages(from);
      if (flags.json) return outJson(answer);
      out(
        `sending the pages' documents from log entry ${answer.from}: ${answer.behind} log entries to go (tuf-edge status shows them count down)`,
      );
    });
}
