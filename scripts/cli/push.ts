/**
 * `tuf-edge push` and `tuf-edge upload`: what a registry sends, signed with
 * its webhook credential (Standard Webhooks; TUF_EDGE_REGISTRY_SECRET).
 *   push --file events.json         a batch of events (JSON array, {events: […]} or JSON lines)
 *   push add|remove|yank|unyank …   one kind of event from flags
 *   push task ID                    an accepted batch's state
 *   upload FILE --path P            an artifact's bytes, stored under their SHA-256 and listed
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { z } from "zod";
import type { RegistryClient } from "../lib/registry-client.ts";
import { MAX_EVENTS, type TargetEvent, TargetEventSchema } from "../../src/schemas/webhook.ts";
import type { TaskView } from "../../src/repository-api.ts";
import { adminClient, registryClient, type Settings } from "./config.ts";
import { usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { intOption, settingsOf } from "./options.ts";
import { info, out, outJson } from "./output.ts";

interface SendFlags {
  async?: boolean;
  json?: boolean;
}

function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`).join("; ");
}

function parseCustom(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text);
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new TypeError("not an object");
    return value;
  } catch (error) {
    throw usageError(`--custom must be a JSON object: ${(error as Error).message}`);
  }
}

export function readEventsFile(path: string): TargetEvent[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: unknown[];
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith("[") || trimmed.startsWith('{"events"') || /^\{\s*"events"/.test(trimmed)) {
      const json = JSON.parse(trimmed) as unknown;
      raw = Array.isArray(json) ? json : ((json as { events?: unknown[] }).events ?? []);
    } else {
      raw = trimmed
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
    }
  } catch (error) {
    throw usageError(`${path} is not JSON or JSON lines: ${(error as Error).message}`);
  }
  if (!raw.length) throw usageError(`${path} holds no events`);
  return raw.map((event, i) => {
    const parsed = TargetEventSchema.safeParse(event);
    if (!parsed.success) throw usageError(`${path}: event ${i + 1} is not valid: ${zodMessage(parsed.error)}`);
    return parsed.data;
  });
}

/** What a task waits for when offline roles' owners must sign part of it. */
function awaiting(task: TaskView): string {
  return task.awaitingOwners?.length
    ? ` (for the owners of ${task.awaitingOwners.join(", ")} to sign: tuf-edge delegation draft ${task.awaitingOwners[0]})`
    : "";
}

async function send(client: RegistryClient, events: TargetEvent[], flags: SendFlags) {
  const results = [];
  for (let i = 0; i < events.length; i += MAX_EVENTS) {
    const batch = events.slice(i, i + MAX_EVENTS);
    const result = await client.push(batch, { async: Boolean(flags.async) });
    results.push({ events: batch.length, status: result.status, duplicate: result.duplicate, task: result.task });
    if (!flags.json) {
      const t = result.task;
      out(
        `${batch.length} event(s): task ${t.id} ${t.state}${t.versions ? ` (timestamp v${t.versions.timestamp})` : ""}${awaiting(t)}${result.duplicate ? " (duplicate delivery: nothing applied again)" : ""}`,
      );
    }
  }
  if (flags.json) outJson(results.length === 1 ? results[0] : results);
  else if (flags.async) info("Poll with: tuf-edge push task TASK_ID");
}

function sendOptions(command: Command): Command {
  return command
    .option("--async", "answer once accepted (202) instead of once published; poll with `push task`")
    .option("--json", "print the result as JSON");
}

type AddFlags = SendFlags & { length: string; sha256?: string; sha512?: string; custom?: string };
type UploadFlags = SendFlags & { path: string; custom?: string; admin?: boolean };

export function registerPush(program: Command): void {
  // The parent has no options: `push --file F` runs the default subcommand "events".
  const push = program
    .command("push")
    .description(
      "send target events as a registry (signed with TUF_EDGE_REGISTRY_SECRET): from a file, or add/remove/yank/unyank",
    );
  const pushHelp = (command: Command) =>
    command.addHelpText(
      "after",
      examples([
        "tuf-edge push --file events.json",
        "tuf-edge push add pkg/app-1.0.tgz --length 1234 --sha256 9f86d0…",
        'tuf-edge push yank pkg/app-0.9.tgz --reason "CVE-2026-1234"',
        "tuf-edge push remove pkg/old-1.0.tgz pkg/old-1.1.tgz",
      ]) +
        '\nAn events file holds objects like:\n  {"type":"targets.add","path":"p","length":1,"hashes":{"sha256":"…"},"custom":{…}}\n  {"type":"targets.remove","path":"p"}  {"type":"targets.yank","path":"p","reason":"…"}  {"type":"targets.unyank","path":"p"}\n',
    );
  pushHelp(push);
  pushHelp(
    sendOptions(
      push
        .command("events", { isDefault: true })
        .description("send the events in a file (the default: `push --file F`)")
        .requiredOption(
          "--file <file>",
          'events: a JSON array, {"events": […]}, or JSON lines; sent in batches of 1,000, each all or nothing',
        ),
    ),
  ).action(async (flags: SendFlags & { file: string }, command: Command) => {
    const events = readEventsFile(flags.file);
    await send(registryClient(settingsOf(command)), events, flags);
  });

  sendOptions(
    push
      .command("add")
      .description("list a target (metadata only: the bytes stay on the registry's storage)")
      .argument("<path>", "target path")
      .requiredOption("--length <bytes>", "length in bytes")
      .option("--sha256 <hex>", "SHA-256 of the bytes")
      .option("--sha512 <hex>", "SHA-512 of the bytes")
      .option("--custom <json>", "custom metadata, a JSON object"),
  )
    .addHelpText(
      "after",
      examples([
        "tuf-edge push add pkg/app-1.0.tgz --length 1234 --sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "tuf-edge --registry npm push add pkg/app-1.0.tgz --length 1234 --sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      ]),
    )
    .action(pushAdd);

  for (const [name, description] of [
    ["remove", "remove targets"],
    ["yank", "mark targets yanked (they stay listed, with custom.yanked and the reason)"],
    ["unyank", "clear the yanked mark"],
  ] as const) {
    const sub = sendOptions(push.command(name).description(description).argument("<paths...>", "target paths"));
    if (name === "yank") sub.requiredOption("--reason <text>", "why (published in the target's custom metadata)");
    sub
      .addHelpText(
        "after",
        examples([
          name === "yank"
            ? `tuf-edge push yank pkg/app-0.9.tgz --reason "broken build"`
            : `tuf-edge push ${name} pkg/app-0.9.tgz pkg/app-0.8.tgz`,
        ]),
      )
      .action(async (paths: string[], flags: SendFlags & { reason?: string }, command: Command) => {
        const events = paths.map((path) => {
          const parsed = TargetEventSchema.safeParse({
            type: `targets.${name}`,
            path,
            ...(name === "yank" ? { reason: flags.reason } : {}),
          });
          if (!parsed.success) throw usageError(`${path}: ${zodMessage(parsed.error)}`);
          return parsed.data;
        });
        await send(registryClient(settingsOf(command)), events, flags);
      });
  }

  push
    .command("task")
    .description(
      "the state of an accepted batch: queued, publishing, published, or awaiting-owners (an offline delegation's owners must sign part of it)",
    )
    .argument("<id>", "the task id (32 hex characters)")
    .option("--json", "print the task as JSON")
    .addHelpText("after", examples(["tuf-edge push task 0123456789abcdef0123456789abcdef"]))
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const task = await registryClient(settingsOf(command)).task(id);
      if (flags.json) return outJson(task);
      out(
        `task ${task.id}: ${task.state}, ${task.events} event(s) from ${task.registry}${task.versions ? `, timestamp v${task.versions.timestamp}` : ""}${task.lastError ? `; last error: ${task.lastError}` : ""}`,
      );
    });

  program
    .command("upload")
    .description(
      "upload an artifact: stored under its SHA-256 and listed as a target (registry credential; --admin for the admin token)",
    )
    .argument("<file>", "the file to upload")
    .requiredOption("--path <target-path>", "the target path to list it under")
    .option("--custom <json>", "custom metadata, a JSON object (registry uploads)")
    .option("--admin", "upload with the admin token instead of a registry credential")
    .option("--async", "answer once stored, not once published (registry uploads)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge upload dist/app-1.0.tgz --path pkg/app-1.0.tgz",
        "tuf-edge upload README.md --path docs/README.md --admin",
      ]),
    )
    .action(upload);
}

/** `push add`: one target's event, checked with the service's schema (a usage error before any request), sent. */
async function pushAdd(path: string, flags: AddFlags, command: Command): Promise<void> {
  const custom = parseCustom(flags.custom);
  const event = {
    type: "targets.add",
    path,
    length: intOption("--length", flags.length, 0, Number.MAX_SAFE_INTEGER),
    hashes: {
      ...(flags.sha256 ? { sha256: flags.sha256 } : {}),
      ...(flags.sha512 ? { sha512: flags.sha512 } : {}),
    },
    ...(custom ? { custom } : {}),
  };
  const parsed = TargetEventSchema.safeParse(event);
  if (!parsed.success) throw usageError(zodMessage(parsed.error));
  await send(registryClient(settingsOf(command)), [parsed.data], flags);
}

/** `upload`: an artifact's bytes, with a registry credential (or --admin, or when only the admin token is set). */
async function upload(file: string, flags: UploadFlags, command: Command): Promise<void> {
  const settings: Settings = settingsOf(command);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const custom = parseCustom(flags.custom);
  if (flags.admin || (!settings.registrySecret && settings.adminToken)) {
    const result = await adminClient(settings).upload(flags.path, bytes);
    if (flags.json) return outJson({ path: flags.path, length: bytes.length, ...result });
    return out(`uploaded ${flags.path} (${bytes.length} bytes): timestamp v${result.versions.timestamp}`);
  }
  const result = await registryClient(settings).upload(flags.path, bytes, {
    async: Boolean(flags.async),
    ...(custom ? { custom } : {}),
  });
  if (flags.json)
    return outJson({
      path: flags.path,
      length: bytes.length,
      status: result.status,
      task: result.task,
      duplicate: result.duplicate,
    });
  out(
    `uploaded ${flags.path} (${bytes.length} bytes): task ${result.task.id} ${result.task.state}${result.task.versions ? `, timestamp v${result.task.versions.timestamp}` : ""}${awaiting(result.task)}`,
  );
}
