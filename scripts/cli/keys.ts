/** `tuf-edge keys`: generate, show and import root key files. */
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { keyError, usageError } from "./exit.ts";
import {
  type KeyType,
  checkNewPassphrase,
  encryptKeyFile,
  generatePrivateKey,
  loadSigner,
  obtainPassphrase,
  readPublicKey,
  writeKeyFile,
} from "./keyfile.ts";
import { out, outJson } from "./output.ts";
import { examples } from "./help.ts";

function describeKey(
  file: string,
  keyid: string,
  key: { keytype: string; scheme: string; keyval: { public: string } },
  json: boolean,
) {
  if (json) return outJson({ file, keyid, key });
  out(`key file  ${file}`);
  out(`keyid     ${keyid}`);
  out(`type      ${key.keytype} (${key.scheme})`);
  out(`public    ${key.keyval.public.trim().replace(/\n/g, "\n          ")}`);
}

export function registerKeys(program: Command): void {
  const keys = program
    .command("keys")
    .description("root key files: generate, show, import (private keys are stored encrypted)");
  keys.addHelpText(
    "after",
    examples([
      "tuf-edge keys generate --type ed25519 --out root-a.json",
      "tuf-edge keys show root-a.json --json",
      "tuf-edge keys import --pem yubihsm-p256.pem --out root-c.json",
    ]),
  );

  keys
    .command("generate")
    .description(
      "generate a root key; the private key is encrypted with a passphrase (scrypt + AES-256-GCM), file mode 0600",
    )
    .requiredOption("--out <file>", "where to write the key file (never overwritten)")
    .option("--type <type>", "ed25519 or ecdsa-p256", "ed25519")
    .option(
      "--passphrase-file <file>",
      "read the new passphrase from a file (else TUF_EDGE_PASSPHRASE, else a hidden prompt)",
    )
    .option("--json", "print the public key and keyid as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge keys generate --out root-a.json                  # prompts twice for a passphrase",
        "tuf-edge keys generate --type ecdsa-p256 --out root-b.json",
        "TUF_EDGE_PASSPHRASE=… tuf-edge keys generate --out k.json --json",
      ]),
    )
    .action(async (options: { out: string; type: string; passphraseFile?: string; json?: boolean }) => {
      if (options.type !== "ed25519" && options.type !== "ecdsa-p256")
        throw usageError(`--type must be ed25519 or ecdsa-p256, not "${options.type}"`);
      const privateKey = generatePrivateKey(options.type as KeyType);
      const passphrase = await obtainPassphrase(`the new key ${options.out}`, options, true);
      checkNewPassphrase(passphrase);
      const file = await encryptKeyFile(privateKey, passphrase);
      await writeKeyFile(options.out, file);
      describeKey(options.out, file.keyid, file.key, Boolean(options.json));
    });

  keys
    .command("show")
    .description("show the public key and keyid of a key file (no passphrase needed)")
    .argument("<file>", "a tuf-edge key file, or a TUF public key JSON")
    .option("--json", "print {file, keyid, key} as JSON (usable as a public key file)")
    .addHelpText(
      "after",
      examples(["tuf-edge keys show root-a.json", "tuf-edge keys show root-a.json --json > root-a.pub.json"]),
    )
    .action(async (path: string, options: { json?: boolean }) => {
      const { keyid, key } = await readPublicKey(path);
      describeKey(path, keyid, key, Boolean(options.json));
    });

  keys
    .command("import")
    .description(
      "import an existing PEM private key (Ed25519 or ECDSA P-256, PKCS#8 / SEC1) into an encrypted key file",
    )
    .requiredOption("--pem <file>", "the PEM private key")
    .requiredOption("--out <file>", "where to write the key file (never overwritten)")
    .option("--pem-passphrase-file <file>", "passphrase of an encrypted PEM")
    .option(
      "--passphrase-file <file>",
      "the new key file's passphrase (else TUF_EDGE_PASSPHRASE, else a hidden prompt)",
    )
    .option("--json", "print the public key and keyid as JSON")
    .addHelpText(
      "after",
      examples([
        "openssl genpkey -algorithm ed25519 -out k.pem && tuf-edge keys import --pem k.pem --out root-d.json && shred -u k.pem",
        "tuf-edge keys import --pem p256.pem --out root-e.json --passphrase-file pass.txt",
      ]),
    )
    .action(
      async (options: {
        pem: string;
        out: string;
        pemPassphraseFile?: string;
        passphraseFile?: string;
        json?: boolean;
      }) => {
        let pem: string;
        try {
          pem = readFileSync(options.pem, "utf8");
        } catch (error) {
          throw usageError(`cannot read ${options.pem}: ${(error as Error).message}`);
        }
        let privateKey: ReturnType<typeof createPrivateKey>;
        try {
          const passphrase = options.pemPassphraseFile
            ? readFileSync(options.pemPassphraseFile, "utf8").replace(/\r?\n$/, "")
            : undefined;
          privateKey = createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
        } catch (error) {
          throw keyError(`${options.pem} is not a usable PEM private key: ${(error as Error).message}`);
        }
        const passphrase = await obtainPassphrase(`the new key file ${options.out}`, options, true);
        checkNewPassphrase(passphrase);
        const file = await encryptKeyFile(privateKey, passphrase);
        await writeKeyFile(options.out, file);
        describeKey(options.out, file.keyid, file.key, Boolean(options.json));
      },
    );

  keys
    .command("check")
    .description("unlock a key file to check its passphrase (signs nothing)")
    .argument("<file>", "a tuf-edge key file")
    .option("--passphrase-file <file>", "read the passphrase from a file")
    .addHelpText("after", examples(["tuf-edge keys check root-a.json"]))
    .action(async (path: string, options: { passphraseFile?: string }) => {
      const signer = await loadSigner(path, options);
      out(`${path}: passphrase OK (keyid ${signer.keyid})`);
    });
}
