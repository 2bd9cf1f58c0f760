/**
 * `tuf-edge bootstrap`: root v1 and the repository's settings.
 *   bootstrap                 a wizard on a terminal, or all by flags (--key, --public-key, --threshold, --bins, --yes)
 *   bootstrap --out FILE      an unsigned or partially signed ceremony file, for air-gapped signing
 *   bootstrap sign FILE --key K   adds a signature offline (verifies the others first)
 *   bootstrap submit FILE     verifies every signature locally, then bootstraps
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { AdminClient } from "../lib/admin-client.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { fromUtf8, toHex } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { formatExpires, parseEnvelope, serialize, type Envelope } from "../../src/tuf/metadata.ts";
import { draftRoot, type Root } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { adminClient, guardedFetch, repoBaseUrl, requireRepo, requireUrl, type Settings } from "./config.ts";
import {
  addSignatures,
  type BootstrapFile,
  CEREMONY_FILE_FORMAT,
  type VerifiedCeremony,
  readCeremonyFile,
  verifyCeremonyFile,
  writeCeremonyFile,
} from "./ceremony-file.ts";
import { CliError, EXIT, failed, keyError, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { loadSigner, readPublicKey, type PassphraseOptions } from "./keyfile.ts";
import { collect, DEFAULT_EXPIRES, settingsOf } from "./options.ts";
import { color, info, out, outJson, shortId } from "./output.ts";
import { confirmOrAbort, interactive } from "./prompt.ts";
import { describeRoot } from "./root-view.ts";
import { type BootstrapFlags, describeSettings, planFromFlags, rootKeys, settingsOfPlan } from "./bootstrap-plan.ts";
import { wizard } from "./bootstrap-wizard.ts";

async function signEnvelope(root: Root, signers: Signer[], existing: Envelope<Root>["signatures"] = []) {
  const message = canonicalBytes(root);
  const signatures = existing.filter((s) => !signers.some((x) => x.keyid === s.keyid));
  for (const signer of signers) signatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
  return signatures;
}

/** Submits root v1, then writes the served 1.root.json (checked to be the root that was signed) to `rootOut`. */
async function submit(
  settings: Settings,
  client: AdminClient,
  envelope: Envelope<Root>,
  bootstrapSettings: Record<string, unknown>,
  rootOut: string,
) {
  const { versions } = await client.bootstrap(envelope, bootstrapSettings);
  const url = `${repoBaseUrl(settings)}/metadata/1.root.json`;
  const response = await guardedFetch(requireUrl(settings))(url);
  let bytes = serialize(envelope).bytes;
  if (response.ok) {
    const served = new Uint8Array(await response.arrayBuffer());
    const parsed = parseEnvelope(served, "root");
    if (fromUtf8(canonicalBytes(parsed.signed)) !== fromUtf8(canonicalBytes(envelope.signed))) {
      throw failed(`the served ${url} is not the root that was signed`);
    }
    bytes = served as Uint8Array<ArrayBuffer>;
  }
  await writeFile(rootOut, bytes);
  return versions;
}

async function ensureNotBootstrapped(client: AdminClient, repo: string) {
  const status = await client.status();
  if (status.bootstrapped)
    throw new CliError(
      EXIT.refused,
      `repository "${repo}" is already bootstrapped (root v${status.roles.root?.version ?? "?"}); a repository is bootstrapped once`,
    );
}

async function runBootstrap(flags: BootstrapFlags, command: Command) {
  const settings = settingsOf(command);
  const repo = requireRepo(settings);
  const useWizard = flags.wizard || (flags.key.length + flags.publicKey.length === 0 && interactive());
  const plan = planFromFlags(useWizard ? await wizard(flags) : flags);
  const client = adminClient(settings);
  const { keys, labels } = await rootKeys(plan);
  if (!flags.out && plan.keyFiles.length < plan.threshold) {
    throw usageError(
      `${plan.keyFiles.length} key(s) can sign here but the threshold is ${plan.threshold}`,
      "pass more --key files, or write a ceremony file with --out and collect signatures with `tuf-edge bootstrap sign`",
    );
  }
  await ensureNotBootstrapped(client, repo);
  const signers: Signer[] = [];
  for (const file of plan.keyFiles) signers.push(await loadSigner(file, flags));
  const online = await client.onlineKey();
  const root = await draftRoot({
    version: 1,
    expires: formatExpires(new Date(Date.now() + plan.expiry.root * 1000)),
    rootKeys: keys,
    rootThreshold: plan.threshold,
    onlineKey: online.key,
  });
  const signatures = await signEnvelope(root, signers);
  const bootstrapSettings = settingsOfPlan(plan);
  const fingerprint = await sha256Hex(canonicalBytes(root));

  if (flags.out) {
    const unsigned: BootstrapFile = {
      format: CEREMONY_FILE_FORMAT,
      kind: "bootstrap",
      url: requireUrl(settings),
      repository: repo,
      created: new Date().toISOString(),
      settings: bootstrapSettings,
      signed: root,
      signatures: [],
      settingsSignatures: [],
    };
    const file = await addSignatures(await verifyCeremonyFile(flags.out, unsigned), signers);
    await writeCeremonyFile(flags.out, file);
    if (flags.json)
      return outJson({
        ceremonyFile: flags.out,
        fingerprint,
        signedBy: file.signatures.map((s) => s.keyid),
        threshold: plan.threshold,
      });
    out(
      `Wrote ${flags.out}: root v1 for "${repo}", ${file.signatures.length} of ${plan.threshold} signature(s), fingerprint ${fingerprint}`,
    );
    out(`Next: on each key holder's machine   tuf-edge bootstrap sign ${flags.out} --key KEY.json`);
    out(`Then, online:                         tuf-edge bootstrap submit ${flags.out}`);
    return;
  }

  if (!flags.json || !flags.yes) {
    info(color.bold(`\nBootstrap of repository "${repo}" at ${requireUrl(settings)}`, process.stderr));
    for (const line of describeRoot(root, labels)) info(`  ${line}`);
    for (const line of describeSettings(bootstrapSettings)) info(line);
    info(`  signed by ${signatures.length} of ${plan.threshold} needed; canonical SHA-256 ${fingerprint}\n`);
  }
  if (
    !(await confirmOrAbort(
      `Publish root v1 and bootstrap "${repo}"? This fixes the root keys clients will trust.`,
      flags.yes,
    ))
  ) {
    throw failed("cancelled; nothing was submitted");
  }
  const rootOut = flags.rootOut ?? `${repo}.1.root.json`;
  const versions = await submit(settings, client, { signed: root, signatures }, bootstrapSettings, rootOut);
  if (flags.json)
    return outJson({
      repository: repo,
      rootVersion: 1,
      rootFile: rootOut,
      fingerprint,
      onlineKeyId: online.keyid,
      versions,
    });
  out(`${color.green("Bootstrapped")} "${repo}": root v1 published, timestamp v${versions.timestamp}.`);
  out(`Trusted root written to ${rootOut}: give clients these exact bytes as their root.json.`);
}

/** The lines every step of an offline bootstrap shows: the root, the signed settings, and what is not signed. */
function describeFile(verified: VerifiedCeremony<BootstrapFile>): string[] {
  const { file, root, progress } = verified;
  return [
    ...describeRoot(root).map((line) => `  ${line}`),
    ...describeSettings(file.settings).map((line) => `${line}  (signed)`),
    `  repository "${file.repository}" (signed); service ${file.url} (not signed: submit checks the repository there)`,
    `  signed by ${progress.draft.signed} of ${progress.draft.threshold} needed (of ${progress.draft.of} root keys); canonical SHA-256 ${verified.fingerprint}\n`,
  ];
}

async function readBootstrapFile(path: string): Promise<VerifiedCeremony<BootstrapFile>> {
  const verified = await verifyCeremonyFile(path, readCeremonyFile(path));
  if (verified.file.kind !== "bootstrap")
    throw usageError(`${path} is a root-change ceremony file: use \`tuf-edge ceremony sign ${path}\``);
  return verified as VerifiedCeremony<BootstrapFile>;
}

async function runSign(path: string, flags: PassphraseOptions & { key: string[]; yes?: boolean; json?: boolean }) {
  if (!flags.key.length) throw usageError("--key is required");
  const verified = await readBootstrapFile(path);
  const { root, file } = verified;
  const fresh: string[] = [];
  for (const keyFile of flags.key) {
    const { keyid } = await readPublicKey(keyFile);
    if (!root.roles.root.keyids.includes(keyid)) {
      throw keyError(`${keyFile} (keyid ${keyid}) is not one of the root keys of this root v1; nothing was signed`);
    }
    if (verified.signedBy.includes(keyid))
      info(`${keyFile} (keyid ${shortId(keyid)}) already signed ${path}; not signing again`);
    else fresh.push(keyFile);
  }
  const report = (signedBy: string[]) =>
    flags.json
      ? outJson({
          ceremonyFile: path,
          fingerprint: verified.fingerprint,
          signedBy,
          threshold: root.roles.root.threshold,
        })
      : out(`${path}: ${signedBy.length} of ${root.roles.root.threshold} signature(s).`);
  if (!fresh.length) return report(verified.signedBy);
  if (!flags.json || !flags.yes) {
    info(color.bold(`\nSign root v1 of "${file.repository}"`, process.stderr));
    for (const line of describeFile(verified)) info(line);
  }
  if (!(await confirmOrAbort("Sign this root v1 and these settings?", flags.yes)))
    throw failed("cancelled; nothing was signed");
  const signers: Signer[] = [];
  for (const keyFile of fresh) signers.push(await loadSigner(keyFile, flags));
  const signed = await addSignatures(verified, signers);
  await writeCeremonyFile(path, signed);
  if (!flags.json) info(`Signed ${path} with ${signers.map((s) => shortId(s.keyid)).join(", ")}.`);
  report(signed.signatures.map((s) => s.keyid));
}

async function runSubmit(path: string, flags: { yes?: boolean; json?: boolean; rootOut?: string }, command: Command) {
  const verified = await readBootstrapFile(path);
  const { root, file } = verified;
  if (!verified.complete) {
    throw failed(
      `${path} has ${verified.progress.draft.signed} of the ${verified.progress.draft.threshold} signatures root v1 needs`,
      `collect more with \`tuf-edge bootstrap sign ${path} --key KEY.json\``,
    );
  }
  const settings = settingsOf(command);
  const repo = requireRepo({ ...settings, repo: settings.repo ?? file.repository });
  if (repo !== file.repository) throw usageError(`${path} is for repository "${file.repository}", not "${repo}"`);
  const effective = { ...settings, repo, url: settings.url ?? file.url };
  const client = adminClient(effective);
  await ensureNotBootstrapped(client, repo);
  const online = await client.onlineKey();
  if (!root.roles.timestamp.keyids.includes(online.keyid)) {
    throw failed(
      `${path} names online key ${root.roles.timestamp.keyids[0]}, but the repository's online key is ${online.keyid}; start again with \`tuf-edge bootstrap --out\``,
    );
  }
  if (!flags.json || !flags.yes) {
    info(color.bold(`\nSubmit root v1 of "${repo}" to ${requireUrl(effective)}`, process.stderr));
    for (const line of describeFile(verified)) info(line);
  }
  if (!(await confirmOrAbort(`Publish root v1 and bootstrap "${repo}"?`, flags.yes)))
    throw failed("cancelled; nothing was submitted");
  const rootOut = flags.rootOut ?? `${repo}.1.root.json`;
  const versions = await submit(
    effective,
    client,
    { signed: root, signatures: file.signatures },
    file.settings,
    rootOut,
  );
  if (flags.json)
    return outJson({
      repository: repo,
      rootVersion: 1,
      rootFile: rootOut,
      fingerprint: verified.fingerprint,
      onlineKeyId: online.keyid,
      versions,
    });
  out(
    `${color.green("Bootstrapped")} "${repo}": root v1 published, timestamp v${versions.timestamp}. Trusted root written to ${rootOut}.`,
  );
}

export function registerBootstrap(program: Command): void {
  // `bootstrap` alone (or with flags) runs the default subcommand "new": the
  // parent has no options of its own, so `bootstrap sign FILE --key K` gives --key to sign.
  const bootstrap = program
    .command("bootstrap")
    .description(
      "create root v1 and bootstrap the repository (a wizard on a terminal, or flags), or run an offline ceremony with a ceremony file",
    )
    .addHelpText(
      "after",
      examples([
        "tuf-edge bootstrap                                         # the wizard",
        "tuf-edge bootstrap --key a.json --key b.json --public-key c.pub.json --threshold 2 --bins 256 --yes",
        "tuf-edge bootstrap --public-key a.pub.json --public-key b.pub.json --threshold 2 --out ceremony.json",
        "tuf-edge bootstrap sign ceremony.json --key a.json        # on the air-gapped machine",
        "tuf-edge bootstrap submit ceremony.json",
      ]) + "\nRun `tuf-edge bootstrap new --help` for every option of the wizard / flags form.\n",
    );

  bootstrap
    .command("new", { isDefault: true })
    .description(
      "build, sign and submit root v1 (the wizard on a terminal when no keys are given), or write a ceremony file with --out",
    )
    .option("--key <file>", "a root key file that signs now (repeatable)", collect, [])
    .option(
      "--public-key <file>",
      "a root key that does not sign now: key file or public key JSON (repeatable)",
      collect,
      [],
    )
    .option("--threshold <n>", "root keys needed to sign a new root")
    .option("--bins <n>", "number of hash bins, a power of two (default 256)")
    .option("--root-expires <duration>", `root v1 validity (default ${DEFAULT_EXPIRES.root})`)
    .option("--targets-expires <duration>", `targets validity (default ${DEFAULT_EXPIRES.targets})`)
    .option("--bins-expires <duration>", `hash bins validity (default ${DEFAULT_EXPIRES.bins})`)
    .option("--snapshot-expires <duration>", `snapshot validity (default ${DEFAULT_EXPIRES.snapshot})`)
    .option("--timestamp-expires <duration>", `timestamp validity (default ${DEFAULT_EXPIRES.timestamp})`)
    .option(
      "--retain-superseded <duration>",
      "how long a replaced metadata version (snapshot, bins, targets) stays in R2 before it is deleted (default 1d; 0 keeps every version)",
    )
    .option("--out <file>", "write a ceremony file for offline signing instead of submitting")
    .option("--root-out <file>", "where to write the published root v1 (default <repo>.1.root.json)")
    .option("--passphrase-file <file>", "passphrase for the key files (else TUF_EDGE_PASSPHRASE, else prompts)")
    .option("--wizard", "ask for every setting not given as a flag, even when keys are given")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge bootstrap",
        "tuf-edge bootstrap --key a.json --key b.json --public-key c.pub.json --threshold 2 --bins 256 --yes",
        "tuf-edge bootstrap --public-key a.pub.json --public-key b.pub.json --threshold 2 --out ceremony.json",
      ]),
    )
    .action(async (flags: BootstrapFlags, command: Command) => runBootstrap(flags, command));

  bootstrap
    .command("sign")
    .description(
      "add signatures to a bootstrap ceremony file, offline (every signature already in it is verified first)",
    )
    .argument("<file>", "the ceremony file (updated in place)")
    .option("--key <file>", "a root key file to sign with (repeatable)", collect, [])
    .option("--passphrase-file <file>", "passphrase for the key files")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print the result as JSON")
    .addHelpText("after", examples(["tuf-edge bootstrap sign ceremony.json --key root-a.json"]))
    .action(async (path: string, flags: PassphraseOptions & { key: string[]; yes?: boolean; json?: boolean }) =>
      runSign(path, flags),
    );

  bootstrap
    .command("submit")
    .description("verify a signed ceremony file locally and bootstrap the repository with it")
    .argument("<file>", "the ceremony file")
    .option("--root-out <file>", "where to write the published root v1 (default <repo>.1.root.json)")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples(["tuf-edge bootstrap submit ceremony.json", "tuf-edge bootstrap submit ceremony.json --yes --json"]),
    )
    .action(async (path: string, flags: { yes?: boolean; json?: boolean; rootOut?: string }, command: Command) =>
      runSubmit(path, flags, command),
    );
}
