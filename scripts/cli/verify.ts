/**
 * `tuf-edge verify`: be a TUF client (tuf-js's Updater) from a pinned root:
 * walk the root chain, refresh timestamp, snapshot, targets and the hash
 * bins, resolve a target, optionally download it (length and hashes checked).
 * Any failure exits non-zero with the reason.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { CliError, EXIT, failed, isNetworkError, describeNetworkCause, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { settingsOf } from "./options.ts";
import { out, outJson } from "./output.ts";
import { requireRepo, requireUrl } from "./config.ts";

interface VerifyFlags {
  root: string;
  target: string;
  download?: string;
  metadataDir?: string;
  metadataUrl?: string;
  targetsUrl?: string;
  json?: boolean;
}

/** What went wrong, in words, from tuf-js's error classes. */
export function explainTufError(error: unknown, target: string): CliError {
  if (error instanceof CliError) return error;
  if (isNetworkError(error))
    return new CliError(EXIT.unreachable, `cannot reach the repository: ${describeNetworkCause(error)}`);
  const e = error as Error & { statusCode?: number };
  const name = e?.constructor?.name ?? "Error";
  const reasons: Record<string, string> = {
    ExpiredMetadataError: "expired metadata",
    UnsignedMetadataError: "bad signature (not signed by a threshold of trusted keys)",
    BadVersionError: "bad version (a rollback or a version that does not follow)",
    EqualVersionError: "bad version (a rollback or a version that does not follow)",
    LengthOrHashMismatchError: "length or hash mismatch",
    DownloadLengthMismatchError: "length or hash mismatch (more bytes than expected)",
    DownloadHTTPError: `download failed (HTTP ${e.statusCode ?? "?"})`,
    ValueError: "invalid metadata",
    RepositoryError: "repository error",
  };
  const reason = reasons[name] ?? name;
  return failed(`verification of "${target}" failed: ${reason}: ${e.message}`);
}

async function versionOf(dir: string, role: string): Promise<number | null> {
  try {
    return (JSON.parse(await readFile(join(dir, `${role}.json`), "utf8")) as { signed: { version: number } }).signed
      .version;
  } catch {
    return null;
  }
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description(
      "act as a TUF client (tuf-js) from a pinned trusted root: walk the root chain, refresh, resolve a target, optionally download it",
    )
    .requiredOption("--root <file>", "the pinned trusted root (e.g. the root v1 written by bootstrap)")
    .requiredOption("--target <path>", "the target path to resolve")
    .option("--download <dir>", "download the target into DIR (its length and hashes are checked)")
    .option("--metadata-dir <dir>", "keep the client's metadata here across runs (default: a fresh temporary folder)")
    .option("--metadata-url <url>", "metadata base URL (default <url>/<repo>/metadata)")
    .option("--targets-url <url>", "targets base URL (default <url>/<repo>/targets)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `${examples([
        "tuf-edge verify --root demo.1.root.json --target hello/hello-world.txt",
        "tuf-edge verify --root demo.1.root.json --target pkg/app-1.0.tgz --download ./downloads --json",
      ])}
Exits 1 with the reason when verification fails (expired, bad signature, rollback,
length or hash mismatch, target not listed), 3 when the repository is unreachable.
`,
    )
    .action(async (flags: VerifyFlags, command: Command) => {
      let base: string | undefined;
      if (!flags.metadataUrl || (!flags.targetsUrl && flags.download)) {
        const settings = settingsOf(command);
        base = `${requireUrl(settings)}/${requireRepo(settings)}`;
      }
      const metadataBaseUrl = flags.metadataUrl ?? `${base}/metadata`;
      const targetBaseUrl = flags.targetsUrl ?? `${base}/targets`;
      let pinned: { signed?: { _type?: string; version?: number } };
      try {
        pinned = JSON.parse(await readFile(flags.root, "utf8"));
      } catch (error) {
        throw usageError(`cannot read the trusted root ${flags.root}: ${(error as Error).message}`);
      }
      if (pinned?.signed?._type !== "root") throw usageError(`${flags.root} is not a TUF root`);

      const temporary = !flags.metadataDir;
      const metadataDir = flags.metadataDir ?? (await mkdtemp(join(tmpdir(), "tuf-edge-verify-")));
      try {
        await mkdir(metadataDir, { recursive: true });
        if (temporary || (await versionOf(metadataDir, "root")) === null)
          await copyFile(flags.root, join(metadataDir, "root.json"));
        if (flags.download) await mkdir(flags.download, { recursive: true });
        const { Updater } = await import("tuf-js");
        const updater = new Updater({
          metadataDir,
          metadataBaseUrl,
          targetBaseUrl,
          ...(flags.download ? { targetDir: flags.download } : {}),
          config: { fetchTimeout: 30_000, fetchRetry: false },
        });
        let downloaded: string | undefined;
        let info: Awaited<ReturnType<typeof updater.getTargetInfo>>;
        try {
          await updater.refresh();
          info = await updater.getTargetInfo(flags.target);
          if (!info) {
            throw failed(
              `target "${flags.target}" is not in the repository (the metadata verified: timestamp v${await versionOf(metadataDir, "timestamp")})`,
            );
          }
          if (flags.download)
            downloaded = await updater.downloadTarget(info, resolve(flags.download, basename(flags.target)));
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404 && info)
            throw failed(
              `"${flags.target}" is listed and verified (length ${info.length}), but its bytes are not hosted by this tuf-edge repository (404 at the targets URL): it is a metadata-only target, whose bytes stay on the registry's own storage`,
              "download the bytes from the registry, then check them against the length and hashes printed by `tuf-edge verify --json`",
            );
          throw explainTufError(error, flags.target);
        }
        const result = {
          target: flags.target,
          length: info.length,
          hashes: info.hashes,
          ...(info.custom && Object.keys(info.custom).length ? { custom: info.custom } : {}),
          trustedRoot: { pinnedVersion: pinned.signed.version ?? null, version: await versionOf(metadataDir, "root") },
          timestamp: await versionOf(metadataDir, "timestamp"),
          snapshot: await versionOf(metadataDir, "snapshot"),
          ...(downloaded ? { downloaded } : {}),
        };
        if (flags.json) return outJson({ verified: true, ...result });
        out(
          `verified "${flags.target}": ${info.length} bytes, ${Object.entries(info.hashes)
            .map(([a, h]) => `${a} ${h}`)
            .join(", ")}`,
        );
        out(
          `  root chain v${result.trustedRoot.pinnedVersion} → v${result.trustedRoot.version}, timestamp v${result.timestamp}, snapshot v${result.snapshot}`,
        );
        if (downloaded) out(`  downloaded to ${downloaded} (length and hashes checked)`);
      } finally {
        if (temporary) await rm(metadataDir, { recursive: true, force: true });
      }
    });
}
