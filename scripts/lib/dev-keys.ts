/**
 * Development secrets and root keys for `npm start`, kept in `.dev-keys/`
 * (git-ignored) so that every start reuses the same local repository:
 *   secrets.json              ADMIN_TOKEN and KEY_ENCRYPTION_KEY
 *   <repo>/root-key-<N>.json  an Ed25519 root key (hex seed): for development only
 * Files holding secrets are created with mode 0600, their folders 0700.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fromHex, toHex } from "../../src/tuf/encoding.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
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

interface RootKeyFile {
  keytype: "ed25519";
  scheme: "ed25519";
  keyid: string;
  public: string;
  /** The 32-byte secret seed, hex. */
  seed: string;
  note: string;
}

/**
 * `count` root signers from `<dir>/root-key-<N>.json`, generating the files
 * that are missing. Returns the signers and whether any key was generated.
 */
export async function loadOrCreateRootSigners(
  dir: string,
  count: number,
): Promise<{ signers: Ed25519Signer[]; generated: boolean }> {
  const signers: Ed25519Signer[] = [];
  let generated = false;
  for (let n = 1; n <= count; n++) {
    const file = rootKeyFile(dir, n);
    if (existsSync(file)) {
      const saved = JSON.parse(await readFile(file, "utf8")) as RootKeyFile;
      const signer = await Ed25519Signer.fromSeed(fromHex(saved.seed));
      if (signer.keyid !== saved.keyid) throw new Error(`${file}: the seed does not match keyid ${saved.keyid}`);
      signers.push(signer);
      continue;
    }
    const { signer, seed } = await Ed25519Signer.generate();
    const saved: RootKeyFile = {
      keytype: "ed25519",
      scheme: "ed25519",
      keyid: signer.keyid,
      public: signer.key.keyval.public,
      seed: toHex(seed),
      note: "A development root key made by `npm start`. Never use it for a real repository.",
    };
    await writeSecretFile(file, `${JSON.stringify(saved, null, 2)}\n`);
    signers.push(signer);
    generated = true;
  }
  return { signers, generated };
}

export function rootKeyFile(dir: string, n: number): string {
  return join(dir, `root-key-${n}.json`);
}

async function writeSecretFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600, flag: "wx" });
}
