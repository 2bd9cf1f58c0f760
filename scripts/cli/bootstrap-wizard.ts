/**
 * The bootstrap wizard: on a terminal, `tuf-edge bootstrap` asks for what
 * its flags did not give, one question at a time, each answer checked as it
 * is given.
 */
import { type BootstrapFlags, binsProblem, durationProblem } from "./bootstrap-plan.ts";
import { readKeyFile, readPublicKey } from "./keyfile.ts";
import { DEFAULT_EXPIRES } from "./options.ts";
import { color, info } from "./output.ts";
import { ask } from "./prompt.ts";

const list = (text: string) => text.split(/[,\s]+/).filter(Boolean);

/** Key files that can sign (encrypted private keys): null if every one is, else why not. */
async function signingKeysProblem(files: string[]): Promise<string | null> {
  if (!files.length) return "at least one key file";
  const seen = new Set<string>();
  for (const file of files) {
    try {
      const { keyid } = readKeyFile(file);
      if (seen.has(keyid)) return `${file} is the same key as another one in the list`;
      seen.add(keyid);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return null;
}

/** Public keys (or key files) that do not sign now: null if all are usable and new, else why not. */
async function publicKeysProblem(files: string[], signing: string[]): Promise<string | null> {
  const seen = new Set<string>();
  for (const file of signing) seen.add((await readPublicKey(file)).keyid);
  for (const file of files) {
    try {
      const { keyid } = await readPublicKey(file);
      if (seen.has(keyid)) return `${file} is a key already given`;
      seen.add(keyid);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return null;
}

/**
 * Asks for what the flags did not give. Each answer is checked as it is
 * given (key files readable, bins a power of two, validities, threshold in
 * range) and asked again if it is wrong, keeping every earlier answer.
 */
export async function wizard(flags: BootstrapFlags): Promise<BootstrapFlags> {
  info(color.bold("Bootstrap a tuf-edge repository: root v1 and its settings.", process.stderr));
  info("Root keys sign root metadata only; keep them offline. Press Enter for the default in brackets.\n");
  const check = (problem: (text: string) => string | null | Promise<string | null>) => async (text: string) =>
    (await problem(text)) ?? (true as const);
  const keys = flags.key.length
    ? flags.key
    : list(
        await ask("Root key files that sign now (space-separated):", {
          validate: check((t) => signingKeysProblem(list(t))),
        }),
      );
  const publicKeys = flags.publicKey.length
    ? flags.publicKey
    : list(
        await ask("More root keys that will not sign now (public key or key files, optional):", {
          default: "",
          validate: check((t) => publicKeysProblem(list(t), keys)),
        }),
      );
  const count = keys.length + publicKeys.length;
  const threshold =
    flags.threshold ??
    (await ask(`Root threshold (signatures needed, of ${count} keys):`, {
      default: String(Math.min(2, count)),
      validate: check((t) => {
        const n = Number(t);
        return Number.isInteger(n) && n >= 1 && n <= count ? null : `a whole number from 1 to ${count}`;
      }),
    }));
  const bins =
    flags.bins ??
    (await ask("Number of hash bins (power of two, 2 to 16384):", { default: "256", validate: check(binsProblem) }));
  const validity = async (given: string | undefined, message: string, fallback: string) =>
    given ?? (await ask(message, { default: fallback, validate: check(durationProblem) }));
  const rootExpires = await validity(flags.rootExpires, "Root validity:", DEFAULT_EXPIRES.root);
  const targetsExpires = await validity(flags.targetsExpires, "Targets validity:", DEFAULT_EXPIRES.targets);
  const binsExpires = await validity(flags.binsExpires, "Hash bins validity:", DEFAULT_EXPIRES.bins);
  const snapshotExpires = await validity(flags.snapshotExpires, "Snapshot validity:", DEFAULT_EXPIRES.snapshot);
  const timestampExpires = await validity(flags.timestampExpires, "Timestamp validity:", DEFAULT_EXPIRES.timestamp);
  return {
    ...flags,
    key: keys,
    publicKey: publicKeys,
    threshold,
    bins,
    rootExpires,
    targetsExpires,
    binsExpires,
    snapshotExpires,
    timestampExpires,
  };
}
