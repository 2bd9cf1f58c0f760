/** Option parsing helpers shared by the commands. */
import type { Command } from "commander";
import { resolveSettings, type GlobalOptions, type Settings } from "./config.ts";
import { usageError } from "./exit.ts";
import { RegistryNameSchema } from "../../src/schemas/registry-name.ts";
import { parseDuration } from "./output.ts";

/** For repeatable options: --key a --key b. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Each role's validity when no flag (or wizard answer) gives one: the CLI's single list of defaults. */
export const DEFAULT_EXPIRES = { root: "365d", targets: "365d", bins: "1d", snapshot: "1d", timestamp: "1d" } as const;

export function intOption(name: string, value: string, min: number, max: number): number;
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined;
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usageError(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  return n;
}

export function durationOption(name: string, value: string): number;
export function durationOption(name: string, value: string | undefined): number | undefined;
export function durationOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    throw usageError(`${name}: ${(error as Error).message}`);
  }
}

/** The command's options merged with the global ones (--url, --repo, --config, --admin-token-file). */
export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function settingsOf(command: Command): Settings {
  return resolveSettings(globals(command));
}

/** A ceremony id (16 hex characters), checked here rather than refused by the service (exit 2, not 4). */
export function ceremonyIdArgument(id: string): string {
  if (!/^[0-9a-f]{16}$/.test(id))
    throw usageError(
      `"${id}" is not a ceremony id (16 lower-case hex characters)`,
      "list them with `tuf-edge ceremony list`",
    );
  return id;
}

/** A registry name, checked here rather than refused by the service (exit 2, not 4). */
export function registryNameArgument(name: string): string {
  const parsed = RegistryNameSchema.safeParse(name);
  if (!parsed.success) throw usageError(`"${name}": ${parsed.error.issues[0]?.message ?? "not a registry name"}`);
  return name;
}
