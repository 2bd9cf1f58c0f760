/**
 * `tuf-edge kek status` and `tuf-edge kek rotate`: the key-encryption key
 * (KEY_ENCRYPTION_KEY) that seals every repository's online keys, webhook
 * secrets and log keys. `rotate` re-seals them all under the current KEK,
 * a bounded number per request, showing progress; it is resumable (run it
 * again after an interruption) and refused, before anything changes, if a
 * sealed value names a KEK the service does not hold.
 */
import type { Command } from "commander";
import { AdminClient, type ServiceKekStatus } from "../lib/admin-client.ts";
import { guardedFetch, requireUrl, type Settings } from "./config.ts";
import { EXIT, failed, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { intOption, settingsOf } from "./options.ts";
import { color, info, out, outJson, table } from "./output.ts";
import { progressBar } from "./progress-bar.ts";

function serviceClient(s: Settings): AdminClient {
  const baseUrl = requireUrl(s);
  if (!s.adminToken) {
    throw usageError(
      "no admin token",
      'set TUF_EDGE_ADMIN_TOKEN, pass --admin-token-file, or put "adminToken" in .tuf-edge.json (mode 0600)',
    );
  }
  // Service-wide calls do not name a repository.
  return new AdminClient({ baseUrl, repo: s.repo ?? "-", token: s.adminToken, fetch: guardedFetch(baseUrl) });
}

const sealedTotal = (status: ServiceKekStatus) =>
  status.repositories.reduce((n, r) => n + Object.values(r.sealedUnder).reduce((a, b) => a + b, 0), 0);

function renderStatus(status: ServiceKekStatus): void {
  out(`current key-encryption key: ${status.current ?? "(no repositories)"}`);
  const rows = status.repositories.map((r) => [
    r.repository,
    Object.entries(r.sealedUnder)
      .map(([id, n]) => `${id}: ${n}`)
      .join(", ") || "-",
    String(r.remaining),
    r.unconfigured.length ? color.red(r.unconfigured.join(", ")) : "-",
  ]);
  out(table(["REPOSITORY", "SEALED UNDER", "TO RE-SEAL", "UNCONFIGURED KEK"], rows));
  out(status.remaining === 0 ? "every sealed value is under the current key" : `${status.remaining} to re-seal`);
}

export function registerKek(program: Command): void {
  const kek = program
    .command("kek")
    .description("the key-encryption key that seals online keys, webhook secrets and log keys: status and rotation");
  kek
    .command("status")
    .description("which key-encryption keys every repository's sealed secrets are under")
    .option("--json", "print the status as JSON")
    .addHelpText("after", examples(["tuf-edge kek status", "tuf-edge kek status --json | jq .remaining"]))
    .action(async (flags: { json?: boolean }, command: Command) => {
      const status = await serviceClient(settingsOf(command)).serviceKekStatus();
      if (flags.json) outJson(status);
      else renderStatus(status);
      if (status.repositories.some((r) => r.unconfigured.length > 0)) process.exitCode = EXIT.failure;
    });
  kek
    .command("rotate")
    .description(
      "re-seal every repository's secrets under the current key-encryption key (set KEY_ENCRYPTION_KEY's new current key first)",
    )
    .option("--budget <n>", "sealed values re-sealed per request, 1-1000", "100")
    .option("--json", "print the final status as JSON")
    .addHelpText(
      "after",
      `${examples(["tuf-edge kek rotate", "tuf-edge kek rotate --budget 10 --json"])}
Resumable: interrupted, run it again and it continues. Refused (exit 4) before
anything changes if a sealed value names a key KEY_ENCRYPTION_KEY does not hold.
When it reports that every value is under the current key, the other keys can
be removed from KEY_ENCRYPTION_KEY. Guide: docs/operators.md, "Rotating the key-encryption key".
`,
    )
    .action(async (flags: { budget: string; json?: boolean }, command: Command) => {
      const budget = intOption("--budget", flags.budget, 1, 1000);
      if (budget === undefined) throw usageError("--budget needs a number from 1 to 1000");
      const client = serviceClient(settingsOf(command));
      const before = await client.serviceKekStatus();
      const total = sealedTotal(before);
      const bar = progressBar("re-sealing", total, flags.json === true);
      bar.update(total - before.remaining);
      let after: ServiceKekStatus & { resealed: number; done: boolean };
      let requests = 0;
      do {
        after = await client.serviceReseal(budget);
        requests++;
        bar.update(total - after.remaining);
        // Nothing moved although values remain: something else is wrong (a concurrent rotation?); stop rather than spin.
        if (!after.done && after.resealed === 0) {
          bar.stop();
          throw failed(`${after.remaining} value(s) could not be re-sealed; run \`tuf-edge kek status\``);
        }
      } while (!after.done);
      bar.stop();
      if (flags.json) {
        outJson({ ...after, requests });
        return;
      }
      info(`re-sealed ${total - after.remaining - (total - before.remaining)} value(s) in ${requests} request(s)`);
      out(
        `every sealed value in ${after.repositories.length} repositor${after.repositories.length === 1 ? "y" : "ies"} is under key-encryption key "${after.current}": other keys can now be removed from KEY_ENCRYPTION_KEY`,
      );
    });
}
