/**
 * `tuf-edge rotate`: open root ceremonies.
 *   rotate online-key [--emergency]   the service generates a new online key; root N+1 names it
 *   rotate root --draft FILE          an operator's draft of root N+1 (its signed part)
 *   rotate root --add-key/--remove-key/--threshold/--expires   the draft built from the current root
 *   rotate root --targets-key/--targets-threshold   protected mode: the keys that sign targets
 *   rotate root --refresh             the same root with a later expiry
 * With --key the new ceremony is signed at once (see `ceremony sign`).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { CeremonyView } from "../../src/repository-api.ts";
import { formatExpires } from "../../src/tuf/metadata.ts";
import { parseRoot, type Root } from "../../src/tuf/root.ts";
import { TufError } from "../../src/tuf/errors.ts";
import { adminClient, type Settings } from "./config.ts";
import { fetchRoot, showCeremony, signCeremony } from "./ceremony-online.ts";
import { failed, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { readPublicKey, type PassphraseOptions } from "./keyfile.ts";
import { collect, DEFAULT_EXPIRES, durationOption, intOption, settingsOf } from "./options.ts";
import { color, info, out, outJson } from "./output.ts";
import { confirmOrAbort } from "./prompt.ts";
import { describeChange } from "./root-view.ts";

interface SignFlags extends PassphraseOptions {
  key: string[];
  yes?: boolean;
  json?: boolean;
}

/** Key files that will sign are read before anything is opened: a missing one is a usage error, and no ceremony is left open. */
async function checkKeyFiles(files: string[]): Promise<void> {
  for (const file of files) await readPublicKey(file);
}

async function currentRoot(settings: Settings): Promise<Root> {
  const status = await adminClient(settings).status();
  if (!status.bootstrapped || !status.roles.root) throw failed(`repository "${settings.repo}" is not bootstrapped yet`);
  const root = await fetchRoot(settings, status.roles.root.version);
  if (!root) throw failed(`root v${status.roles.root.version} is not published`);
  return root;
}

async function afterOpen(settings: Settings, view: CeremonyView, flags: SignFlags): Promise<void> {
  let final = view;
  if (flags.key.length)
    final = await signCeremony(settings, adminClient(settings), view, flags.key, { ...flags, yes: true });
  if (flags.json)
    return outJson({
      id: final.id,
      kind: final.kind,
      state: final.state,
      rootVersion: final.rootVersion,
      progress: final.progress,
      summary: final.summary,
    });
  if (!flags.key.length) await showCeremony(settings, view);
  out(`ceremony ${final.id} (${final.kind} to root v${final.rootVersion}): ${final.state}`);
  if (final.state === "awaiting-signatures") {
    const need = final.progress.trustedRoot;
    const targets = final.progress.targets;
    out(
      `Root key holders sign with: tuf-edge ceremony sign ${final.id} --key KEY.json   (${need?.signed} of ${need?.threshold} so far${targets ? `; targets key holders too: ${targets.signed} of ${targets.threshold}` : ""})`,
    );
    out(
      `Or offline: tuf-edge ceremony export ${final.id} --out ceremony-${final.id}.json, then \`ceremony sign FILE\` on each key holder's machine and \`ceremony submit FILE\``,
    );
  }
}

/** Root N+1 from root N with keys added or removed and a new threshold or expiry. */
async function buildDraft(
  trusted: Root,
  flags: {
    addKey: string[];
    removeKey: string[];
    threshold?: string;
    expires?: string;
    targetsKey?: string[];
    targetsThreshold?: string;
  },
): Promise<Root> {
  const draft = structuredClone(trusted) as Root;
  draft.version = trusted.version + 1;
  draft.expires = formatExpires(
    new Date(Date.now() + durationOption("--expires", flags.expires ?? DEFAULT_EXPIRES.root) * 1000),
  );
  for (const file of flags.addKey) {
    const { keyid, key } = await readPublicKey(file);
    if (draft.roles.root.keyids.includes(keyid)) throw usageError(`${file} (${keyid}) is already a root key`);
    draft.keys[keyid] = key;
    draft.roles.root.keyids.push(keyid);
  }
  for (const spec of flags.removeKey) {
    const keyid = /^[0-9a-f]{64}$/.test(spec) ? spec : (await readPublicKey(spec)).keyid;
    if (!draft.roles.root.keyids.includes(keyid))
      throw usageError(`${spec} is not a root key of root v${trusted.version}`);
    draft.roles.root.keyids = draft.roles.root.keyids.filter((k) => k !== keyid);
    const used = (["targets", "snapshot", "timestamp"] as const).some((r) => draft.roles[r].keyids.includes(keyid));
    if (!used) delete draft.keys[keyid];
  }
  await changeTargetsKeys(trusted, draft, flags);
  const threshold = intOption("--threshold", flags.threshold, 1, 64);
  if (threshold !== undefined) draft.roles.root.threshold = threshold;
  if (draft.roles.root.keyids.length === 0) throw usageError("the draft would have no root keys");
  if (draft.roles.root.threshold > draft.roles.root.keyids.length) {
    throw usageError(
      `threshold ${draft.roles.root.threshold} is more than the ${draft.roles.root.keyids.length} root key(s) of the draft; pass --threshold`,
    );
  }
  return draft;
}

/**
 * Protected-delegations mode: the keys that sign targets in root N+1 (all of
 * them, `--targets-key`) and their threshold; keys no role uses any more leave
 * the draft. The service drafts the next targets for the new keys to sign.
 */
async function changeTargetsKeys(
  trusted: Root,
  draft: Root,
  flags: { targetsKey?: string[]; targetsThreshold?: string },
): Promise<void> {
  const files = flags.targetsKey ?? [];
  const threshold = intOption("--targets-threshold", flags.targetsThreshold, 1, 64);
  if (files.length === 0 && threshold === undefined) return;
  const keyids = files.length ? [] : [...draft.roles.targets.keyids];
  for (const file of files) {
    const { keyid, key } = await readPublicKey(file);
    if (keyids.includes(keyid)) throw usageError(`${file} (${keyid}) is given twice`);
    draft.keys[keyid] = key;
    keyids.push(keyid);
  }
  draft.roles.targets = { keyids, threshold: threshold ?? Math.min(trusted.roles.targets.threshold, keyids.length) };
  if (draft.roles.targets.threshold > keyids.length)
    throw usageError(
      `--targets-threshold ${draft.roles.targets.threshold} is more than the ${keyids.length} targets key(s)`,
    );
  for (const keyid of trusted.roles.targets.keyids) {
    const used = (["root", "targets", "snapshot", "timestamp"] as const).some((r) =>
      draft.roles[r].keyids.includes(keyid),
    );
    if (!used) delete draft.keys[keyid];
  }
}

function readDraft(path: string): unknown {
  let json: { signed?: unknown };
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw usageError(`cannot read the draft ${path}: ${(error as Error).message}`);
  }
  return json?.signed ?? json;
}

type OnlineKeyFlags = SignFlags & { emergency?: boolean; reason?: string };
type RootFlags = SignFlags & {
  draft?: string;
  addKey: string[];
  removeKey: string[];
  threshold?: string;
  expires?: string;
  refresh?: boolean;
  targetsKey: string[];
  targetsThreshold?: string;
};

export function registerRotate(program: Command): void {
  const rotate = program
    .command("rotate")
    .description("open root ceremonies: rotate the online key, change root keys or thresholds, refresh root");
  rotate.addHelpText(
    "after",
    examples([
      "tuf-edge rotate online-key",
      'tuf-edge rotate online-key --emergency --reason "key exposed" --key a.json --key b.json --yes',
      "tuf-edge rotate root --add-key d.pub.json --remove-key b.pub.json --threshold 2",
    ]),
  );

  const signOptions = (command: Command) =>
    command
      .option("--key <file>", "sign the new ceremony at once with this root key file (repeatable)", collect, [])
      .option("--passphrase-file <file>", "passphrase for the key files")
      .option("-y, --yes", "do not ask for confirmation")
      .option("--json", "print the ceremony as JSON");

  signOptions(
    rotate
      .command("online-key")
      .description(
        "open an online-key rotation: the service generates a new online key; root N+1 names it once root key holders sign",
      )
      .option("--emergency", "cancel any open ceremony and start now (suspected compromise)")
      .option("--reason <text>", "why (recorded in the audit log)"),
  )
    .addHelpText(
      "after",
      examples([
        "tuf-edge rotate online-key --reason quarterly",
        'tuf-edge rotate online-key --emergency --reason "token leaked in CI logs"',
        "tuf-edge rotate online-key --key root-a.json --key root-b.json --yes   # open and sign at once",
      ]),
    )
    .action(rotateOnlineKey);

  signOptions(
    rotate
      .command("root")
      .description(
        "open a root change (root keys, threshold, expiry; in protected-delegations mode the targets keys) from a draft file or from flags, or a root refresh",
      )
      .option("--draft <file>", "the operator's draft of root N+1 (its signed part, or an envelope)")
      .option("--add-key <file>", "add a root key: key file or public key JSON (repeatable)", collect, [])
      .option("--remove-key <keyid-or-file>", "remove a root key (repeatable)", collect, [])
      .option("--threshold <n>", "the new root threshold")
      .option(
        "--targets-key <file>",
        "protected-delegations mode: a key that signs targets in root N+1 (repeatable; the complete new set); the next targets is drafted for the new keys to sign",
        collect,
        [],
      )
      .option("--targets-threshold <n>", "protected-delegations mode: how many targets keys must sign")
      .option("--expires <duration>", `validity of root N+1 (default ${DEFAULT_EXPIRES.root})`)
      .option("--refresh", "re-sign the same root with a later expiry (a root-refresh ceremony)"),
  )
    .addHelpText(
      "after",
      examples([
        "tuf-edge rotate root --add-key root-d.pub.json --remove-key root-b.pub.json --threshold 2",
        "tuf-edge rotate root --draft root-3-draft.json",
        "tuf-edge rotate root --targets-key sec-a.pub.json --targets-key sec-hw.pub.json --targets-threshold 2   # protected mode",
        "tuf-edge rotate root --refresh",
      ]),
    )
    .action(rotateRoot);
}

/** `rotate online-key`: opens the rotation ceremony once confirmed (an emergency one cancels any open ceremony). */
async function rotateOnlineKey(flags: OnlineKeyFlags, command: Command): Promise<void> {
  await checkKeyFiles(flags.key);
  const settings = settingsOf(command);
  const client = adminClient(settings);
  const status = await client.status();
  if (!status.bootstrapped) throw failed(`repository "${settings.repo}" is not bootstrapped yet`);
  const open = status.openCeremony;
  const what = `${flags.emergency ? "an EMERGENCY" : "an"} online-key rotation (root v${(status.roles.root?.version ?? 0) + 1}) for "${settings.repo}"`;
  if (open)
    info(
      `${flags.emergency ? "An emergency rotation cancels" : "Note: a ceremony is open and must be completed or cancelled first:"} ceremony ${open.id} (${open.kind})`,
    );
  if (
    !(await confirmOrAbort(
      `Open ${what}? The current online key ${status.onlineKeyId?.slice(0, 16)}… is destroyed once it is published.`,
      flags.yes,
    ))
  ) {
    throw failed("cancelled; nothing was opened");
  }
  const view = await client.openCeremony({
    kind: "online-key-rotation",
    emergency: Boolean(flags.emergency),
    ...(flags.reason ? { reason: flags.reason } : {}),
  });
  await afterOpen(settings, view, flags);
}

/** `rotate root`: a root change from a draft or from flags, checked and shown before it is opened, or a root refresh. */
async function rotateRoot(flags: RootFlags, command: Command): Promise<void> {
  await checkKeyFiles(flags.key);
  const settings = settingsOf(command);
  const client = adminClient(settings);
  const changes =
    flags.addKey.length +
    flags.removeKey.length +
    flags.targetsKey.length +
    (flags.threshold ? 1 : 0) +
    (flags.targetsThreshold ? 1 : 0) +
    (flags.expires ? 1 : 0);
  if ([Boolean(flags.draft), changes > 0, Boolean(flags.refresh)].filter(Boolean).length !== 1) {
    throw usageError(
      "give exactly one of --draft FILE, --refresh, or changes (--add-key, --remove-key, --threshold, --expires, --targets-key, --targets-threshold)",
    );
  }
  let view: CeremonyView;
  if (flags.refresh) {
    if (
      !(await confirmOrAbort(`Open a root refresh for "${settings.repo}" (the same root, a later expiry)?`, flags.yes))
    )
      throw failed("cancelled; nothing was opened");
    view = await client.openCeremony({ kind: "root-refresh" });
  } else {
    const trusted = await currentRoot(settings);
    const signed = flags.draft ? readDraft(flags.draft) : await buildDraft(trusted, flags);
    let draft: Root;
    try {
      draft = await parseRoot(signed);
    } catch (error) {
      if (error instanceof TufError) throw usageError(`the draft is not a valid root: ${error.message}`);
      throw error;
    }
    if (draft.version !== trusted.version + 1)
      throw usageError(`the draft must be version ${trusted.version + 1}, not ${draft.version}`);
    if (!flags.json || !flags.yes) {
      info(color.bold(`\nRoot change for "${settings.repo}"`, process.stderr));
      for (const line of describeChange(trusted, draft)) info(`  ${line}`);
      info("");
    }
    if (!(await confirmOrAbort(`Open a ceremony for root v${draft.version}?`, flags.yes)))
      throw failed("cancelled; nothing was opened");
    view = await client.openCeremony({ kind: "root-change", signed: draft });
  }
  await afterOpen(settings, view, flags);
}
