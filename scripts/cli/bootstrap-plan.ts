/**
 * What `tuf-edge bootstrap` is asked to make: root v1's keys and threshold,
 * and the repository's settings (hash bins, validities, how long replaced
 * versions stay), from the flags (or the wizard's answers: bootstrap-wizard.ts),
 * each checked before anything is signed or sent.
 */
import type { Key } from "../../src/tuf/key.ts";
import { usageError } from "./exit.ts";
import { type PassphraseOptions, readPublicKey } from "./keyfile.ts";
import { DEFAULT_EXPIRES, durationOption, intOption } from "./options.ts";
import { humanDuration, parseDuration } from "./output.ts";

export interface BootstrapFlags extends PassphraseOptions {
  key: string[];
  publicKey: string[];
  threshold?: string;
  bins?: string;
  rootExpires?: string;
  targetsExpires?: string;
  binsExpires?: string;
  snapshotExpires?: string;
  timestampExpires?: string;
  retainSuperseded?: string;
  out?: string;
  rootOut?: string;
  yes?: boolean;
  json?: boolean;
  wizard?: boolean;
}

export interface Plan {
  keyFiles: string[];
  publicKeyFiles: string[];
  threshold: number;
  bins: number;
  expiry: { root: number; targets: number; bins: number; snapshot: number; timestamp: number };
  /** Seconds a replaced metadata version stays in R2 (0: for good); the service's default if not given. */
  retainSuperseded?: number;
}

function binsOption(text: string): number {
  const problem = binsProblem(text);
  if (problem) throw usageError(`--bins: ${problem}`);
  return Number(text);
}

/** A retention ("1d", "12h", seconds, or 0 for good): the service keeps a replaced version at least 10 minutes. */
function retentionOption(text: string): number {
  const seconds = text.trim() === "0" ? 0 : durationOption("--retain-superseded", text);
  if (seconds !== 0 && seconds < 600)
    throw usageError(
      `--retain-superseded: a replaced version is kept at least 10 minutes (600 s), or 0 for good, not "${text}"`,
    );
  return seconds;
}

export function planFromFlags(flags: BootstrapFlags): Plan {
  const count = flags.key.length + flags.publicKey.length;
  if (count === 0)
    throw usageError(
      "no root keys",
      "pass --key FILE (signs now) and/or --public-key FILE (signs later), or run in a terminal for the wizard",
    );
  const threshold = intOption("--threshold", flags.threshold, 1, count);
  if (threshold === undefined) throw usageError("--threshold is required: how many root keys must sign a new root");
  return {
    keyFiles: flags.key,
    publicKeyFiles: flags.publicKey,
    threshold,
    bins: binsOption(flags.bins ?? "256"),
    expiry: {
      root: durationOption("--root-expires", flags.rootExpires ?? DEFAULT_EXPIRES.root),
      targets: durationOption("--targets-expires", flags.targetsExpires ?? DEFAULT_EXPIRES.targets),
      bins: durationOption("--bins-expires", flags.binsExpires ?? DEFAULT_EXPIRES.bins),
      snapshot: durationOption("--snapshot-expires", flags.snapshotExpires ?? DEFAULT_EXPIRES.snapshot),
      timestamp: durationOption("--timestamp-expires", flags.timestampExpires ?? DEFAULT_EXPIRES.timestamp),
    },
    ...(flags.retainSuperseded === undefined ? {} : { retainSuperseded: retentionOption(flags.retainSuperseded) }),
  };
}

/** The hash bin count: a power of two from 2 to 16,384; else why not. */
export function binsProblem(text: string): string | null {
  const n = Number(text);
  return Number.isInteger(n) && n >= 2 && n <= 16_384 && (n & (n - 1)) === 0
    ? null
    : `the number of hash bins is a power of two from 2 to 16384 (e.g. 256), not "${text}"`;
}

/** A validity ("365d", "12h", seconds): null if valid, else why not. */
export function durationProblem(text: string): string | null {
  try {
    return parseDuration(text) > 0 ? null : "a validity is longer than 0 seconds";
  } catch (error) {
    return (error as Error).message;
  }
}

export function settingsOfPlan(plan: Plan): Record<string, unknown> {
  return {
    bins: plan.bins,
    expiry: plan.expiry,
    ...(plan.retainSuperseded === undefined ? {} : { retainSuperseded: plan.retainSuperseded }),
  };
}

export async function rootKeys(plan: Plan): Promise<{ keys: Key[]; labels: Record<string, string> }> {
  const keys: Key[] = [];
  const labels: Record<string, string> = {};
  for (const [file, role] of [
    ...plan.keyFiles.map((f) => [f, "signs now"]),
    ...plan.publicKeyFiles.map((f) => [f, "signs later"]),
  ] as Array<[string, string]>) {
    const { keyid, key } = await readPublicKey(file);
    const earlier = labels[keyid];
    if (earlier) throw usageError(`${file} is the same key as ${earlier.split("  ")[0]}`);
    labels[keyid] = `${file}  ${role}`;
    keys.push(key);
  }
  return { keys, labels };
}

export function describeSettings(settings: Record<string, unknown>): string[] {
  const e = settings.expiry as Plan["expiry"] | undefined;
  const lines = [`  hash bins: ${settings.bins ?? 256}`];
  if (e)
    lines.push(
      `  validity: targets ${humanDuration(e.targets * 1000)}, bins ${humanDuration(e.bins * 1000)}, snapshot ${humanDuration(e.snapshot * 1000)}, timestamp ${humanDuration(e.timestamp * 1000)} (re-signed automatically)`,
    );
  const retain = settings.retainSuperseded;
  lines.push(
    `  replaced metadata versions: ${typeof retain !== "number" ? "deleted after 1 day (the default)" : retain === 0 ? "kept for good" : `deleted after ${humanDuration(retain * 1000)}`}`,
  );
  return lines;
}
