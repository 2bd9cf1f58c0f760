/**
 * Interactive prompts (@inquirer/prompts) on stderr, so that stdout stays
 * data. Only on a terminal: without one, commands need their flags (and
 * --yes for anything that changes trust). Loaded on first use: most runs never prompt.
 */
import { usageError } from "./exit.ts";

const context = () => ({ input: process.stdin, output: process.stderr });

export function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Reads a secret without echoing it. */
export async function askSecret(message: string): Promise<string> {
  const { password } = await import("@inquirer/prompts");
  return password({ message, mask: false }, context());
}

/**
 * Asks for a line. With `validate`, a wrong answer shows why under the
 * prompt and the prompt asks again with an empty line (earlier answers stay).
 */
export async function ask(
  message: string,
  options: { default?: string; validate?: (value: string) => true | string | Promise<true | string> } = {},
): Promise<string> {
  const { input } = await import("@inquirer/prompts");
  return input(
    {
      message,
      theme: { validationFailureMode: "clear" },
      ...(options.default !== undefined ? { default: options.default } : {}),
      ...(options.validate ? { validate: options.validate } : {}),
    },
    context(),
  );
}

/**
 * Asks to go on with something that changes trust; `yes` (--yes) skips the
 * question. Without a terminal and without --yes it refuses (exit 2).
 */
export async function confirmOrAbort(message: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!interactive())
    throw usageError("this changes trust and needs a confirmation", "run it in a terminal, or pass --yes");
  const { confirm } = await import("@inquirer/prompts");
  return confirm({ message, default: false }, context());
}
