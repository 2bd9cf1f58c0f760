/**
 * Root key files: a TUF public key in the clear and the private key (PKCS#8)
 * encrypted with a passphrase: scrypt (node:crypto) derives an AES-256-GCM
 * key; the keyid is authenticated data, so a file whose public part was
 * swapped does not decrypt. Files are written with mode 0600.
 *
 * Keys: Ed25519 (keytype/scheme "ed25519", public key hex) and ECDSA P-256
 * (keytype "ecdsa", scheme "ecdsa-sha2-nistp256", public key SPKI PEM,
 * signatures DER), as securesystemslib, tuf-js and go-tuf expect.
 */
import {
  type KeyObject,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scrypt,
  sign as nodeSign,
} from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { basename, dirname, resolve } from "node:path";
import { promisify } from "node:util";
import { ECDSA_P256, ED25519, type Key, KeySchema, ecdsaP256Key, ed25519Key, keyId } from "../../src/tuf/key.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { CliError, EXIT, keyError, usageError } from "./exit.ts";
import { warn } from "./output.ts";
import { askSecret, interactive } from "./prompt.ts";

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;

export const KEY_FILE_FORMAT = "tuf-edge-key/1";
export type KeyType = "ed25519" | "ecdsa-p256";

/** scrypt cost: 64 MiB and about a quarter of a second per unlock. */
const SCRYPT = { N: 2 ** 16, r: 8, p: 1 };

export interface KeyFile {
  format: typeof KEY_FILE_FORMAT;
  keyid: string;
  key: Key;
  encryption: {
    kdf: "scrypt";
    N: number;
    r: number;
    p: number;
    salt: string;
    cipher: "aes-256-gcm";
    iv: string;
    tag: string;
  };
  /** The PKCS#8 DER private key, encrypted, base64. */
  private: string;
  created: string;
}

/** A signer over a node:crypto private key. */
export class KeyObjectSigner implements Signer {
  readonly key: Key;
  readonly keyid: string;
  readonly #private: KeyObject;

  constructor(privateKey: KeyObject, key: Key, keyid: string) {
    this.#private = privateKey;
    this.key = key;
    this.keyid = keyid;
  }

  async sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    if (this.key.scheme === ED25519.scheme) return new Uint8Array(nodeSign(null, message, this.#private));
    return new Uint8Array(nodeSign("sha256", message, { key: this.#private, dsaEncoding: "der" }));
  }
}

/** The TUF public key of a private key; only Ed25519 and P-256 are accepted. */
export function tufKeyOf(privateKey: KeyObject): Key {
  const pub = createPublicKey(privateKey);
  if (privateKey.asymmetricKeyType === "ed25519") {
    const { x } = pub.export({ format: "jwk" });
    if (!x) throw keyError("the Ed25519 public key has no x coordinate");
    return ed25519Key(Buffer.from(x, "base64url").toString("hex"));
  }
  if (privateKey.asymmetricKeyType === "ec" && privateKey.asymmetricKeyDetails?.namedCurve === "prime256v1") {
    return ecdsaP256Key(pub.export({ type: "spki", format: "pem" }).toString());
  }
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  throw keyError(
    `unsupported key type ${privateKey.asymmetricKeyType}${curve ? ` (${curve})` : ""}: use Ed25519 or ECDSA P-256`,
  );
}

export function generatePrivateKey(type: KeyType): KeyObject {
  if (type === "ed25519") return generateKeyPairSync("ed25519").privateKey;
  if (type === "ecdsa-p256") return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  throw usageError(`unknown key type "${type}" (ed25519 or ecdsa-p256)`);
}

export async function encryptKeyFile(privateKey: KeyObject, passphrase: string): Promise<KeyFile> {
  const key = tufKeyOf(privateKey);
  const keyid = await keyId(key);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const aesKey = await scryptAsync(passphrase.normalize("NFC"), salt, 32, { ...SCRYPT, maxmem: 256 * 1024 * 1024 });
  const cipher = createCipheriv("aes-256-gcm", aesKey, iv);
  cipher.setAAD(Buffer.from(`${KEY_FILE_FORMAT}\n${keyid}`));
  const der = privateKey.export({ type: "pkcs8", format: "der" });
  const ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
  der.fill(0);
  aesKey.fill(0);
  return {
    format: KEY_FILE_FORMAT,
    keyid,
    key,
    encryption: {
      kdf: "scrypt",
      ...SCRYPT,
      salt: salt.toString("base64"),
      cipher: "aes-256-gcm",
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
    },
    private: ciphertext.toString("base64"),
    created: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

export async function writeKeyFile(path: string, file: KeyFile, overwrite = false): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: overwrite ? "w" : "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw usageError(`${path} already exists; not overwriting a key file`);
    throw error;
  }
  warnIfCommittable(path, "a private key");
}

/**
 * Warns when a secret was just written inside a git work tree where it is not
 * git-ignored: one `git add -A` away from a commit. Silent outside git work
 * trees and where git is not installed.
 */
export function warnIfCommittable(path: string, what: string): void {
  const dir = dirname(resolve(path));
  const top = spawnSync("git", ["-C", dir, "rev-parse", "--show-toplevel"], { encoding: "utf8" });
  if (top.status !== 0) return;
  if (spawnSync("git", ["-C", dir, "check-ignore", "-q", resolve(path)]).status === 0) return;
  warn(
    `${path} holds ${what} and is inside the git work tree ${top.stdout.trim()}, where it is not git-ignored: move it out of the work tree, or add it to .gitignore, so that it is never committed`,
  );
}

export function readKeyFile(path: string): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw usageError(`key file ${path} does not exist`);
    throw keyError(`${path} is not a tuf-edge key file: ${(error as Error).message}`);
  }
  const file = json as Partial<KeyFile>;
  if (file?.format !== KEY_FILE_FORMAT || typeof file.private !== "string" || !file.encryption || !file.key) {
    throw keyError(`${path} is not a tuf-edge key file (format ${KEY_FILE_FORMAT})`);
  }
  return file as KeyFile;
}

/** The public key in a key file, a TUF key JSON ({keytype, scheme, keyval}) or `keys show --json` output. */
export async function readPublicKey(path: string): Promise<{ keyid: string; key: Key }> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw usageError(`key file ${path} does not exist`);
    throw keyError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const candidate = (json as { key?: unknown })?.key ?? json;
  const parsed = KeySchema.safeParse(candidate);
  if (!parsed.success) throw keyError(`${path} holds no TUF public key`);
  const key: Key = {
    keytype: parsed.data.keytype,
    scheme: parsed.data.scheme,
    keyval: { public: parsed.data.keyval.public },
  };
  const ok =
    (key.keytype === ED25519.keytype && key.scheme === ED25519.scheme) ||
    (key.keytype === ECDSA_P256.keytype && key.scheme === ECDSA_P256.scheme);
  if (!ok) throw keyError(`${path}: unsupported key ${key.keytype}/${key.scheme}`);
  const keyid = await keyId(key);
  const stated = (json as { keyid?: unknown }).keyid;
  if (typeof stated === "string" && stated !== keyid)
    throw keyError(`${path}: keyid ${stated} is not the hash of its key (${keyid}); the file was altered`);
  return { keyid, key };
}

export async function decryptKeyFile(file: KeyFile, passphrase: string, label: string): Promise<KeyObjectSigner> {
  const e = file.encryption;
  const sane =
    e.kdf === "scrypt" &&
    e.cipher === "aes-256-gcm" &&
    Number.isInteger(Math.log2(e.N)) &&
    e.N >= 2 ** 14 &&
    e.N <= 2 ** 20 &&
    e.r >= 1 &&
    e.r <= 32 &&
    e.p >= 1 &&
    e.p <= 16;
  if (!sane) throw keyError(`${label}: unsupported encryption parameters`);
  const key = await scryptAsync(passphrase.normalize("NFC"), Buffer.from(e.salt, "base64"), 32, {
    N: e.N,
    r: e.r,
    p: e.p,
    maxmem: 1024 * 1024 * 1024,
  });
  let der: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(e.iv, "base64"));
    decipher.setAAD(Buffer.from(`${KEY_FILE_FORMAT}\n${file.keyid}`));
    decipher.setAuthTag(Buffer.from(e.tag, "base64"));
    der = Buffer.concat([decipher.update(Buffer.from(file.private, "base64")), decipher.final()]);
  } catch {
    throw keyError(`wrong passphrase for ${label} (or the key file was altered)`);
  } finally {
    key.fill(0);
  }
  const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  der.fill(0);
  const tufKey = tufKeyOf(privateKey);
  const keyid = await keyId(tufKey);
  if (
    keyid !== file.keyid ||
    JSON.stringify(tufKey) !==
      JSON.stringify({ keytype: file.key.keytype, scheme: file.key.scheme, keyval: { public: file.key.keyval.public } })
  ) {
    throw keyError(`${label}: the private key does not match the public key in the file; the file was altered`);
  }
  return new KeyObjectSigner(privateKey, tufKey, keyid);
}

export interface PassphraseOptions {
  passphraseFile?: string;
}

/** The passphrase from --passphrase-file, TUF_EDGE_PASSPHRASE, or a hidden prompt. */
export async function obtainPassphrase(label: string, options: PassphraseOptions, confirmNew = false): Promise<string> {
  if (options.passphraseFile) {
    try {
      return readFileSync(options.passphraseFile, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      throw usageError(`cannot read --passphrase-file: ${(error as Error).message}`);
    }
  }
  if (process.env.TUF_EDGE_PASSPHRASE) return process.env.TUF_EDGE_PASSPHRASE;
  if (!interactive()) {
    throw new CliError(
      EXIT.usage,
      `a passphrase is needed for ${label}`,
      "run in a terminal, or set TUF_EDGE_PASSPHRASE, or pass --passphrase-file",
    );
  }
  const first = await askSecret(`Passphrase for ${label}:`);
  if (confirmNew) {
    const again = await askSecret(`Repeat the passphrase for ${label}:`);
    if (again !== first) throw usageError("the two passphrases differ");
  }
  return first;
}

export function checkNewPassphrase(passphrase: string): void {
  if (passphrase.length < 8) throw usageError("a key passphrase has at least 8 characters");
}

/** Passphrase attempts at a prompt before giving up (exit 5). */
const PROMPT_ATTEMPTS = 3;

/**
 * Loads and unlocks a key file, asking for its passphrase as needed. A wrong
 * passphrase typed at the prompt is asked again (up to three times); one from
 * --passphrase-file or TUF_EDGE_PASSPHRASE fails at once (exit 5).
 */
export async function loadSigner(path: string, options: PassphraseOptions): Promise<KeyObjectSigner> {
  const file = readKeyFile(path);
  const label = `${basename(path)} (keyid ${file.keyid.slice(0, 16)}…)`;
  const prompted = !options.passphraseFile && !process.env.TUF_EDGE_PASSPHRASE;
  for (let attempt = 1; ; attempt++) {
    try {
      return await decryptKeyFile(file, await obtainPassphrase(label, options), basename(path));
    } catch (error) {
      const wrong =
        error instanceof CliError && error.exitCode === EXIT.badKey && /wrong passphrase/.test(error.message);
      if (!prompted || !wrong || attempt >= PROMPT_ATTEMPTS) throw error;
      process.stderr.write(`${error.message}; try again (${PROMPT_ATTEMPTS - attempt} attempt(s) left)\n`);
    }
  }
}
