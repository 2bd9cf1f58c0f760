/**
 * `tuf-edge ceremony`: root ceremonies opened on the service (online-key
 * rotations, root changes, root refreshes): list, show, sign, cancel.
 * Signing happens here, over the canonical bytes this machine computes from
 * the draft; the summary shown is computed here too, from the published
 * trusted root, and must agree with the service's.
 */
import type { Command } from "commander";
import type { AdminClient } from "../lib/admin-client.ts";
import { signDraft } from "../lib/admin-client.ts";
import type { CeremonyView } from "../../src/repository-api.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { sha256Hex } from "../../src/tuf/encoding.ts";
import { TufError } from "../../src/tuf/errors.ts";
import { parseEnvelope } from "../../src/tuf/metadata.ts";
import { diffRoots } from "../../src/tuf/root-diff.ts";
import { parseRoot, type Root } from "../../src/tuf/root.ts";
import { adminClient, guardedFetch, repoBaseUrl, requireUrl, type Settings } from "./config.ts";
import { CliError, EXIT, failed, keyError, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { loadSigner, readPublicKey, type PassphraseOptions } from "./keyfile.ts";
import { collect, settingsOf } from "./options.ts";
import { color, info, out, outJson, table } from "./output.ts";
import { confirmOrAbort } from "./prompt.ts";
import { describeCeremony, trustedRootKeyids } from "./root-view.ts";

/** Root `version` as published (its signed part), or null if not there. */
export async function fetchRoot(settings: Settings, version: number): Promise<Root | null> {
  const response = await guardedFetch(requireUrl(settings))(`${repoBaseUrl(settings)}/metadata/${version}.root.json`);
  if (response.status === 404) return null;
  if (!response.ok) throw failed(`GET ${version}.root.json answered ${response.status}`);
  return parseRoot(parseEnvelope(new Uint8Array(await response.arrayBuffer()), "root").signed);
}

/** JSON with object keys and array items in a fixed order, to compare two summaries. */
function normalized(value: unknown): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v))
      return v
        .map(walk)
        .map((x) => JSON.stringify(x))
        .sort();
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, walk((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(walk(value));
}

/** Checks the draft locally: it parses, and the service's summary is what this machine computes. */
async function checkDraft(settings: Settings, view: CeremonyView): Promise<void> {
  let draft: Root;
  try {
    draft = await parseRoot(view.draft);
  } catch (error) {
    if (error instanceof TufError) throw failed(`the draft root of ceremony ${view.id} is not valid: ${error.message}`);
    throw error;
  }
  const trusted = await fetchRoot(settings, view.rootVersion - 1);
  if (!trusted) throw failed(`root v${view.rootVersion - 1} is not published; cannot compare the draft with it`);
  const local = diffRoots(trusted, draft);
  if (normalized(local) !== normalized(view.summary)) {
    throw failed(
      `the service's summary of ceremony ${view.id} differs from what this machine computes against root v${trusted.version}; not signing`,
    );
  }
}

export async function showCeremony(view: CeremonyView): Promise<void> {
  for (const line of describeCeremony(view)) info(line);
  info(`  canonical SHA-256 ${await sha256Hex(canonicalBytes(view.draft))}  (compare with the other signers)`);
}

/**
 * Signs an open ceremony with each key file and submits the signatures.
 * Refuses keys that are not root keys of the trusted root or of the draft
 * before asking for any passphrase.
 */
export async function signCeremony(
  settings: Settings,
  client: AdminClient,
  view: CeremonyView,
  keyFiles: string[],
  flags: PassphraseOptions & { yes?: boolean; json?: boolean },
): Promise<CeremonyView> {
  if (view.state !== "awaiting-signatures")
    throw new CliError(EXIT.refused, `ceremony ${view.id} is ${view.state}; nothing to sign`);
  const eligible = new Set([...trustedRootKeyids(view), ...view.draft.roles.root.keyids]);
  for (const file of keyFiles) {
    const { keyid } = await readPublicKey(file);
    if (!eligible.has(keyid)) {
      throw keyError(
        `${file} (keyid ${keyid}) is not a root key of root v${view.rootVersion - 1} or of the draft v${view.rootVersion}; nothing was signed`,
      );
    }
  }
  await checkDraft(settings, view);
  if (!flags.json || !flags.yes) await showCeremony(view);
  if (
    !(await confirmOrAbort(`Sign root v${view.rootVersion} (${view.kind}) with ${keyFiles.join(", ")}?`, flags.yes))
  ) {
    throw failed("cancelled; nothing was signed");
  }
  let current = view;
  for (const file of keyFiles) {
    const signer = await loadSigner(file, flags);
    const signature = await signDraft(current, signer);
    const { ceremony, versions } = await client.submitSignature(current.id, signature);
    current = ceremony;
    const p = ceremony.progress;
    info(
      `signed with ${file}: ${p.trustedRoot.signed}/${p.trustedRoot.threshold} of the trusted root's keys, ${p.draftRoot.signed}/${p.draftRoot.threshold} of the draft's`,
    );
    if (ceremony.state === "published") {
      info(
        color.green(
          `root v${ceremony.rootVersion} is published${versions ? ` (timestamp v${versions.timestamp})` : ""}`,
          process.stderr,
        ),
      );
      break;
    }
  }
  return current;
}

export function registerCeremony(program: Command): void {
  const ceremony = program.command("ceremony").description("root ceremonies on the service: list, show, sign, cancel");
  ceremony.addHelpText(
    "after",
    examples([
      "tuf-edge ceremony list",
      "tuf-edge ceremony show 0123456789abcdef",
      "tuf-edge ceremony sign 0123456789abcdef --key root-a.json",
    ]),
  );

  ceremony
    .command("list")
    .description("ceremonies, newest first")
    .option("--json", "print them as JSON")
    .addHelpText("after", examples(["tuf-edge ceremony list", "tuf-edge ceremony list --json | jq '.[0].id'"]))
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { ceremonies } = await adminClient(settingsOf(command)).ceremonies();
      if (flags.json) return outJson(ceremonies.map(({ draft: _d, canonical: _c, events: _e, ...rest }) => rest));
      if (!ceremonies.length) return out("no ceremonies");
      out(
        table(
          ["ID", "KIND", "ROOT", "STATE", "SIGNED", "OPENED", "EXPIRES/CLOSED"],
          ceremonies.map((c) => [
            c.id,
            c.kind,
            `v${c.rootVersion}`,
            c.state,
            `${c.progress.trustedRoot.signed}/${c.progress.trustedRoot.threshold}, ${c.progress.draftRoot.signed}/${c.progress.draftRoot.threshold}`,
            c.openedAt,
            c.state === "awaiting-signatures" ? c.expiresAt : (c.closedAt ?? ""),
          ]),
        ),
      );
    });

  ceremony
    .command("show")
    .description(
      "what a ceremony's draft changes (keys added and removed, thresholds, expiry), its signatures and events",
    )
    .argument("<id>", "the ceremony id (16 hex characters)")
    .option("--json", "print the ceremony as JSON (draft, canonical bytes, summary, progress, events)")
    .addHelpText(
      "after",
      examples(["tuf-edge ceremony show 0123456789abcdef", "tuf-edge ceremony show 0123456789abcdef --json"]),
    )
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const view = await adminClient(settingsOf(command)).ceremony(id);
      if (flags.json) return outJson(view);
      for (const line of describeCeremony(view)) out(line);
      out(`  canonical SHA-256 ${await sha256Hex(canonicalBytes(view.draft))}`);
      if (view.events.length) {
        out("  events:");
        for (const e of view.events)
          out(`    ${e.at}  ${e.kind}${e.keyid ? `  ${e.keyid.slice(0, 16)}…` : ""}  ${e.detail}`);
      }
    });

  ceremony
    .command("sign")
    .description("sign a ceremony's draft with root key files (locally, over canonical bytes computed here) and submit")
    .argument("<id>", "the ceremony id")
    .option("--key <file>", "a root key file (repeatable)", collect, [])
    .option("--passphrase-file <file>", "passphrase for the key files (else TUF_EDGE_PASSPHRASE, else prompts)")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print the ceremony after signing as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony sign 0123456789abcdef --key root-a.json",
        "tuf-edge ceremony sign 0123456789abcdef --key a.json --key b.json --yes",
      ]),
    )
    .action(
      async (
        id: string,
        flags: PassphraseOptions & { key: string[]; yes?: boolean; json?: boolean },
        command: Command,
      ) => {
        if (!flags.key.length) throw usageError("--key is required");
        const settings = settingsOf(command);
        const client = adminClient(settings);
        const view = await signCeremony(settings, client, await client.ceremony(id), flags.key, flags);
        if (flags.json)
          return outJson({ id: view.id, state: view.state, rootVersion: view.rootVersion, progress: view.progress });
        out(`ceremony ${view.id}: ${view.state}`);
      },
    );

  ceremony
    .command("cancel")
    .description("cancel an open ceremony (nothing is published; a key generated for it is destroyed)")
    .argument("<id>", "the ceremony id")
    .requiredOption("--reason <text>", "why (recorded in the audit log)")
    .option("--json", "print the ceremony as JSON")
    .addHelpText(
      "after",
      examples(['tuf-edge ceremony cancel 0123456789abcdef --reason "wrong threshold in the draft"']),
    )
    .action(async (id: string, flags: { reason: string; json?: boolean }, command: Command) => {
      const view = await adminClient(settingsOf(command)).cancelCeremony(id, flags.reason);
      if (flags.json) return outJson({ id: view.id, state: view.state });
      out(`ceremony ${view.id}: ${view.state}`);
    });
}
