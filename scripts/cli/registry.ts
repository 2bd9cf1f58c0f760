/**
 * `tuf-edge registry`: the registries allowed to push, and their webhook
 * credentials (admin token). A new HMAC secret is printed once, never stored here.
 */
import { writeFile } from "node:fs/promises";
import * as ed from "@noble/ed25519";
import type { Command } from "commander";
import { toBase64 } from "../../src/lib/bytes.ts";
import { adminClient, type Settings } from "./config.ts";
import { CliError, EXIT, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { warnIfCommittable } from "./keyfile.ts";
import { intOption, registryNameArgument, settingsOf } from "./options.ts";
import { info, out, outJson, table } from "./output.ts";

interface AddFlags {
  ed25519PublicKey?: string;
  overlap?: string;
  json?: boolean;
}

async function addCredential(settings: Settings, name: string, flags: AddFlags, mode: "add" | "rotate") {
  const client = adminClient(settings);
  const { registries } = await client.registries();
  const exists = registries.some((r) => r.name === name);
  if (mode === "add" && exists)
    throw new CliError(
      EXIT.refused,
      `registry "${name}" already exists`,
      `rotate its credential with: tuf-edge registry rotate ${name}`,
    );
  if (mode === "rotate" && !exists)
    throw new CliError(EXIT.refused, `no registry "${name}"`, `add it with: tuf-edge registry add ${name}`);
  const overlapSeconds = intOption("--overlap", flags.overlap, 0, 30 * 86_400);
  const credential = flags.ed25519PublicKey
    ? {
        kind: "ed25519" as const,
        publicKey: flags.ed25519PublicKey,
        ...(overlapSeconds !== undefined ? { overlapSeconds } : {}),
      }
    : { kind: "hmac" as const, ...(overlapSeconds !== undefined ? { overlapSeconds } : {}) };
  const added = await client.addRegistryCredential(name, credential);
  if (flags.json)
    return outJson({ registry: name, credential: added.credential, ...(added.secret ? { secret: added.secret } : {}) });
  out(
    `registry ${name}: ${mode === "add" ? "added" : "new"} ${added.credential.kind} credential ${added.credential.id}`,
  );
  if (added.secret) {
    info(
      "The webhook secret follows. It is shown once: store it in the registry's secret store (TUF_EDGE_REGISTRY_SECRET).",
    );
    out(added.secret);
  }
  if (mode === "rotate") info(`Older credentials stay valid for ${overlapSeconds ?? 86_400} s, then expire.`);
}

export function registerRegistry(program: Command): void {
  const registry = program
    .command("registry")
    .description("registries that may push target events, and their webhook credentials");
  registry.addHelpText(
    "after",
    examples([
      "tuf-edge registry add npm-mirror",
      "tuf-edge registry list",
      "tuf-edge registry rotate npm-mirror --overlap 3600",
    ]),
  );

  const addLike = (name: "add" | "rotate", description: string, sample: string[]) =>
    registry
      .command(name)
      .description(description)
      .argument("<name>", "registry name (lower-case letters, digits, '.', '_', '-')")
      .option("--ed25519-public-key <whpk>", "use an Ed25519 public key (whpk_…) instead of an HMAC secret")
      .option("--overlap <seconds>", "how long older credentials stay valid (default 86400)")
      .option("--json", "print the credential (and the secret) as JSON")
      .addHelpText("after", examples(sample))
      .action(async (registryName: string, flags: AddFlags, command: Command) =>
        addCredential(settingsOf(command), registryNameArgument(registryName), flags, name),
      );

  addLike("add", "add a registry; prints its HMAC webhook secret once (or registers an Ed25519 public key)", [
    "tuf-edge registry add npm-mirror",
    "tuf-edge registry keygen --out mirror.key && tuf-edge registry add npm-mirror --ed25519-public-key whpk_…",
  ]);
  addLike("rotate", "give a registry a new credential; older ones stay valid for --overlap seconds", [
    "tuf-edge registry rotate npm-mirror",
    "tuf-edge registry rotate npm-mirror --overlap 0   # old secret leaked: stop it now",
  ]);

  registry
    .command("list")
    .description("registries and their credentials (ids and kinds; secrets are never shown)")
    .option("--json", "print them as JSON")
    .addHelpText("after", examples(["tuf-edge registry list", "tuf-edge registry list --json"]))
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { registries } = await adminClient(settingsOf(command)).registries();
      if (flags.json) return outJson(registries);
      if (!registries.length) return out("no registries");
      out(
        table(
          ["REGISTRY", "CREDENTIAL", "KIND", "VALID UNTIL"],
          registries.flatMap((r) => r.credentials.map((c) => [r.name, c.id, c.kind, c.notAfter ?? "-"])),
        ),
      );
    });

  registry
    .command("revoke")
    .description("revoke one credential of a registry at once")
    .argument("<name>", "registry name")
    .argument("<credential-id>", "the credential id (from registry list)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", examples(["tuf-edge registry revoke npm-mirror cred_0123…"]))
    .action(async (name: string, id: string, flags: { json?: boolean }, command: Command) => {
      registryNameArgument(name);
      const result = await adminClient(settingsOf(command)).revokeRegistryCredential(name, id);
      if (flags.json) return outJson(result);
      out(`registry ${name}: credential ${id} revoked`);
    });

  registry
    .command("keygen")
    .description(
      "make an Ed25519 webhook key pair for a registry: the secret (whsk_…) to a file (mode 0600), the public key (whpk_…) printed",
    )
    .requiredOption("--out <file>", "where to write the secret key (never overwritten)")
    .option("--json", "print the public key as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge registry keygen --out mirror.key",
        "TUF_EDGE_REGISTRY_SECRET=$(cat mirror.key) tuf-edge push --file events.json",
      ]),
    )
    .action(async (flags: { out: string; json?: boolean }) => {
      const seed = ed.utils.randomSecretKey();
      const publicKey = `whpk_${toBase64(await ed.getPublicKeyAsync(seed))}`;
      try {
        await writeFile(flags.out, `whsk_${toBase64(seed)}\n`, { mode: 0o600, flag: "wx" });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST")
          throw usageError(`${flags.out} already exists; not overwriting`);
        throw error;
      }
      warnIfCommittable(flags.out, "a registry's secret key");
      if (flags.json) return outJson({ secretFile: flags.out, publicKey });
      out(publicKey);
      info(
        `secret key written to ${flags.out} (use it as TUF_EDGE_REGISTRY_SECRET); register the public key with: tuf-edge registry add NAME --ed25519-public-key ${publicKey}`,
      );
    });
}
