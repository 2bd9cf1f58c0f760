/** `tuf-edge status [--watch SECONDS]`: roles, online key, ceremonies, registries, health. */
import type { Command } from "commander";
import type { RepositoryStatus } from "../../src/repository-api.ts";
import { adminClient, guardedFetch, repoBaseUrl, requireUrl, type Settings } from "./config.ts";
import { EXIT, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { intOption, settingsOf } from "./options.ts";
import { color, humanDuration, out, table } from "./output.ts";
import { collectOperations, type OperationsView, renderOperations } from "./operations-view.ts";

interface Health {
  status: string;
  repositories: Array<{
    repository: string;
    status: string;
    timestamp?: { version: number; expires: string; secondsLeft: number };
    warnings?: string[];
  }>;
}

export interface StatusReport {
  url: string;
  repository: string;
  status: RepositoryStatus;
  health: Health["repositories"][number] | null;
  ceremonies: Array<{
    id: string;
    kind: string;
    rootVersion: number;
    state: string;
    expiresAt: string;
    progress: unknown;
  }>;
  registries: Array<{ name: string; credentials: Array<{ id: string; kind: string; notAfter: string | null }> }>;
  /** Live figures from the metrics endpoint and key-encryption key status (operations-view.ts). */
  operations: OperationsView | null;
  /** Operator-facing problems: expired or expiring roles, failures, warnings. */
  warnings: string[];
  healthy: boolean;
}

async function collectReport(settings: Settings): Promise<StatusReport> {
  const client = adminClient(settings);
  const [status, ceremonies, registries, operations] = await Promise.all([
    client.status(),
    client.ceremonies(),
    client.registries(),
    collectOperations(settings),
  ]);
  // Health is read from the status the repository publishes, which the status call above brought up to date.
  const healthResponse = await guardedFetch(requireUrl(settings))(`${repoBaseUrl(settings)}/health`);
  const health = ((await healthResponse.json().catch(() => null)) as Health | null)?.repositories?.[0] ?? null;
  const now = Date.now();
  const warnings = [...status.warnings];
  if (status.lastFailure)
    warnings.push(`last publish failed at ${status.lastFailure.at}: ${status.lastFailure.detail}`);
  for (const [role, r] of Object.entries(status.roles)) {
    if (r && Date.parse(r.expires) <= now) warnings.push(`${role} expired at ${r.expires}`);
  }
  if (status.pendingChanges) warnings.push("changes are stored but not yet published");
  const healthy = status.bootstrapped && (health?.status === "ok" || health?.status === "warning");
  return {
    url: requireUrl(settings),
    repository: status.repository,
    status,
    health,
    ceremonies: ceremonies.ceremonies
      .filter((c) => c.state === "awaiting-signatures")
      .map((c) => ({
        id: c.id,
        kind: c.kind,
        rootVersion: c.rootVersion,
        state: c.state,
        expiresAt: c.expiresAt,
        progress: c.progress,
      })),
    registries: registries.registries,
    operations,
    warnings: [...new Set(warnings)],
    healthy,
  };
}

function render(report: StatusReport): string[] {
  const { status } = report;
  const now = Date.now();
  const lines = [
    color.bold(`${report.repository} at ${report.url}`) +
      `  ${report.healthy ? color.green("healthy") : color.red(report.health?.status ?? "unhealthy")}`,
  ];
  if (!status.bootstrapped) return [...lines, "not bootstrapped: run `tuf-edge bootstrap`"];
  lines.push(
    `targets: ${status.targetsCount}   hash bins: ${status.bins}   online key: ${status.onlineKeyId ?? "none"}`,
  );
  const rows = (["root", "targets", "snapshot", "timestamp", "bins"] as const).map((name) => {
    const r = status.roles[name];
    if (!r) return [name, "-", "-", "-", "-"];
    const left = Date.parse(r.expires) - now;
    const label = name === "bins" && "name" in r ? `bins (first: ${r.name})` : name;
    return [
      label,
      `v${r.version}`,
      r.expires,
      left <= 0 ? color.red(`expired ${humanDuration(left)}`) : humanDuration(left),
      r.nextResign
        ? `${r.nextResign} (in ${humanDuration(Date.parse(r.nextResign) - now)})`
        : name === "root"
          ? "by ceremony"
          : "-",
    ];
  });
  lines.push("", table(["ROLE", "VERSION", "EXPIRES", "TIME LEFT", "NEXT RE-SIGN"], rows), "");
  lines.push(report.ceremonies.length ? "open ceremonies:" : "open ceremonies: none");
  for (const c of report.ceremonies)
    lines.push(
      `  ${c.id}  ${c.kind} to root v${c.rootVersion}, draft expires ${c.expiresAt}  (tuf-edge ceremony show ${c.id})`,
    );
  lines.push(report.registries.length ? "registries:" : "registries: none");
  for (const r of report.registries)
    lines.push(
      `  ${r.name}: ${r.credentials.map((c) => `${c.kind} ${c.id}${c.notAfter ? ` (valid until ${c.notAfter})` : ""}`).join(", ") || "no credentials"}`,
    );
  if (report.operations) lines.push(...renderOperations(report.operations));
  if (status.nextAlarm) lines.push(`next scheduled work: ${status.nextAlarm}`);
  if (status.importHoldUntil)
    lines.push(`an import's stored batches publish at its end, or at ${status.importHoldUntil} at the latest`);
  lines.push(report.warnings.length ? color.yellow("warnings:") : "warnings: none");
  for (const w of report.warnings) lines.push(color.yellow(`  ! ${w}`));
  return lines;
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description(
      "the repository at a glance: roles (version, expiry, time left, next re-sign), online key, open ceremonies, registries, health, live operations (publish rounds, pushes, queue, log, re-seal progress)",
    )
    .option("--watch <seconds>", "refresh every SECONDS until interrupted")
    .option("--json", "print the report as JSON (with --watch: one JSON document per line)")
    .addHelpText(
      "after",
      `${examples(["tuf-edge status", "tuf-edge status --watch 10", "tuf-edge status --json | jq .status.roles.timestamp"])}\nExits 1 when the repository is not healthy (not bootstrapped, or its timestamp has expired).\n`,
    )
    .action(async (flags: { watch?: string; json?: boolean }, command: Command) => {
      const settings = settingsOf(command);
      const watch = intOption("--watch", flags.watch, 1, 86_400);
      if (flags.watch !== undefined && watch === undefined) throw usageError("--watch needs a number of seconds");
      for (;;) {
        const report = await collectReport(settings);
        if (flags.json)
          process.stdout.write(watch ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`);
        else {
          if (watch && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
          for (const line of render(report)) out(line);
          if (watch) out(color.dim(`\nrefreshing every ${watch}s; Ctrl-C to stop (${new Date().toISOString()})`));
        }
        if (!watch) {
          if (!report.healthy) process.exitCode = EXIT.failure;
          return;
        }
        await new Promise((r) => setTimeout(r, watch * 1000));
      }
    });
}
