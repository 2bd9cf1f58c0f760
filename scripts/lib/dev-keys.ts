/**
 * Development secrets and root keys for `npm start`, kept in `.dev-keys/`
 * (git-ignored) so that every start reuses the same local repository:
 *   secrets.json              ADMIN_TOKEN and KEY_ENCRYPTION_KEY
 *   <repo>/root-key-<N>.json  an Ed25519 root key in the operator CLI's key-file format
 *   <repo>/passphrase         the passphrase those key files are encrypted with
 * For development only: the passphrase sits next to the keys.
 * Files holding secrets are created with mode 0600, their folders 0700.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createPrivateKey, randomBytes } from "node:crypto";
import {
  decryptKeyFile,
  encryptKeyFile,
  generatePrivateKey,
  type KeyObjectSigner,
  readKeyFile,
  writeKeyFile,
} from "../cli/keyfile.ts";
import { randomSecrets, type LocalInstanceOptions } from "./local-instance.ts";

export type Secrets = LocalInstanceOptions["secrets"];

function checkSecrets(value: unknown, source: string): Secrets {
  const s = value as Partial<Secrets> | null;
  const kek = typeof s?.KEY_ENCRYPTION_KEY === "string" ? Buffer.from(s.KEY_ENCRYPTION_KEY, "base64") : null;
  if (typeof s?.ADMIN_TOKEN !== "string" || s.ADMIN_TOKEN.length < 16 || kek?.length !== 32) {
    throw new Error(`${source}: expected ADMIN_TOKEN (16+ characters) and KEY_ENCRYPTION_KEY (base64 of 32 bytes)`);
  }
  return { ADMIN_TOKEN: s.ADMIN_TOKEN, KEY_ENCRYPTION_KEY: s.KEY_ENCRYPTION_KEY as string };
}

/** Reads a KEY=VALUE env file, as the local instance writes one into its state folder. */
async function readEnvFile(file: string): Promise<Record<string, string>> {
  const entries = (await readFile(file, "utf8"))
    .split("\n")
    .map((line) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((m) => m !== null)
    .map((m) => [m[1], m[2]]);
  return Object.fromEntries(entries);
}

export interface LoadedSecrets {
  secrets: Secrets;
  /** "file": read from secretsFile; "state": recovered from the local state; "new": just generated. */
  origin: "file" | "state" | "new";
}

/**
 * The secrets in `secretsFile`, created on first use. When the file is gone
 * but the local state folder holds the env file of its last start, those
 * secrets are kept: the repositories' online keys are wrapped with that
 * KEY_ENCRYPTION_KEY and would be unusable under a new one.
 */
export async function loadOrCreateSecrets(secretsFile: string, stateEnvFile: string): Promise<LoadedSecrets> {
  if (existsSync(secretsFile)) {
    return { secrets: checkSecrets(JSON.parse(await readFile(secretsFile, "utf8")), secretsFile), origin: "file" };
  }
  let origin: LoadedSecrets["origin"] = "new";
  let secrets = randomSecrets();
  if (existsSync(stateEnvFile)) {
    secrets = checkSecrets(await readEnvFile(stateEnvFile), stateEnvFile);
    origin = "state";
  }
  await writeSecretFile(secretsFile, `${JSON.stringify(secrets, null, 2)}\n`);
  return { secrets, origin };
}

/** The 16-byte PKCS#8 prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed. */
const ED25519_PKCS8_PREFIX = "302e020100300506032b657004220420";

/** A key file of the format before the CLI's: the seed in the clear. */
interface LegacySeedFile {
  keyid: string;
  seed: string;
}

/**
 * `count` root signers from `<dir>/root-key-<N>.json`, in the operator CLI's
 * key-file format (scripts/cli/keyfile.ts), all encrypted with the
 * passphrase in `<dir>/passphrase` (both made on first use), so that
 * `tuf-edge ceremony sign --key .dev-keys/demo/root-key-1.json
 * --passphrase-file .dev-keys/demo/passphrase` works against `npm start`.
 * A key file of the earlier development format (a hex seed) is converted in
 * place, keeping its keyid. Returns the signers and whether any key was generated.
 */
export async function loadOrCreateRootSigners(
  dir: string,
  count: number,
): Promise<{ signers: KeyObjectSigner[]; generated: boolean }> {
  const passphrase = await loadOrCreatePassphrase(passphraseFile(dir));
  const signers: KeyObjectSigner[] = [];
  let generated = false;
  for (let n = 1; n <= count; n++) {
    const file = rootKeyFile(dir, n);
    if (existsSync(file)) {
      const saved = JSON.parse(await readFile(file, "utf8")) as Partial<LegacySeedFile>;
      if (typeof saved.seed !== "string") {
        signers.push(await decryptKeyFile(readKeyFile(file), passphrase, file));
        continue;
      }
      const privateKey = createPrivateKey({
        key: Buffer.from(ED25519_PKCS8_PREFIX + saved.seed, "hex"),
        format: "der",
        type: "pkcs8",
      });
      const converted = await encryptKeyFile(privateKey, passphrase);
      if (converted.keyid !== saved.keyid) throw new Error(`${file}: the seed does not match keyid ${saved.keyid}`);
      await writeKeyFile(file, converted, true);
      signers.push(await decryptKeyFile(converted, passphrase, file));
      continue;
    }
    const keyFile = await encryptKeyFile(generatePrivateKey("ed25519"), passphrase);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeKeyFile(file, keyFile);
    signers.push(await decryptKeyFile(keyFile, passphrase, file));
    generated = true;
  }
  return { signers, generated };
}

export function passphraseFile(dir: string): string {
  return join(dir, "passphrase");
}

/** The development key files' passphrase: random, 0600, never for a real repository. */
async function loadOrCreatePassphrase(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const passphrase = randomBytes(18).toString("base64url");
  await writeSecretFile(file, `${passphrase}\n`);
  return passphrase;
}

export function rootKeyFile(dir: string, n: number): string {
  return join(dir, `root-key-${n}.json`);
}

async function writeSecretFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600, flag: "wx" });
}
