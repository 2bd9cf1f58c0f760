/**
 * tuf-edge's own TUF client (src/tuf/client) against real metadata of
 * Sigstore's public-good TUF repository (test/fixtures/sigstore-tuf): the
 * root chain v5 → v15 (keyids that are not tuf-edge's key hashes, legacy and
 * current ECDSA key types), timestamp → snapshot → targets → trusted_root.json,
 * and the attacks the specification's client workflow refuses, each leaving
 * the trusted state as it was.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/lib/digest.ts";
import { fromUtf8, utf8 } from "../../../src/lib/bytes.ts";
import { type TrustedFiles, TrustedMetadata } from "../../../src/tuf/client/trusted-metadata.ts";
import { defined } from "../../../scripts/lib/defined.ts";
import { downloadTarget, findTarget, updateMetadata } from "../../../src/tuf/client/updater.ts";
import type { TufError } from "../../../src/tuf/errors.ts";
import { formatExpires, sign } from "../../../src/tuf/metadata.ts";
import { parseRoot } from "../../../src/tuf/root.ts";
import { ed25519Signers } from "../helpers.ts";
import { FIRST_ROOT, root, STATES, type State, serve, stateFile } from "./sigstore-repository.ts";

const PUBLIC_GOOD_SHA256 = "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66";
const NPM_KEYS_SHA256 = "160677eb6e1c7083c89b166b20f8fe4e837fb71181506aff1991b80b89184f7d";
const OLDER_SHA256 = "f44a1b88128e55ebfb62189becbc0fa48d4ec9915c65ac54ba0e46a008b12d5b";

/** Runs one update of `trusted` against a served state at `now`; returns what was persisted. */
async function update(trusted: TrustedFiles, state: State, now: Date, edits?: Record<string, Uint8Array<ArrayBuffer>>) {
  const { fetchFile, asked } = await serve(state, edits ? { edits } : {});
  let persisted = trusted;
  try {
    const save = (files: TrustedFiles) => {
      persisted = files;
    };
    const { state: client, report } = await updateMetadata(trusted, now, fetchFile, save);
    const info = await findTarget(client, "trusted_root.json", fetchFile, save);
    if (!info) throw new Error("trusted_root.json is not listed");
    const trustedRoot = await downloadTarget(client, "trusted_root.json", info, fetchFile);
    return { ok: true as const, report, persisted, trustedRoot, asked };
  } catch (error) {
    return { ok: false as const, error: error as TufError, persisted, asked };
  }
}

/** The state a client holds after updating from the pinned root v5 to the 2025-07-02 repository. */
async function trustedAt2025(): Promise<TrustedFiles> {
  const result = await update({ root: root(FIRST_ROOT) }, "2025-07-02", STATES["2025-07-02"].during);
  if (!result.ok) throw result.error;
  return result.persisted;
}

function edited(bytes: Uint8Array, change: (json: { signed: Record<string, unknown>; signatures: unknown }) => void) {
  const json = JSON.parse(fromUtf8(bytes));
  change(json);
  return utf8(JSON.stringify(json));
}

describe("TUF client on Sigstore's public-good repository", () => {
  it("walks the root chain from the pinned v5 and trusts timestamp, snapshot, targets and trusted_root.json", async () => {
    const result = await update({ root: root(FIRST_ROOT) }, "2025-07-02", STATES["2025-07-02"].during);
    if (!result.ok) throw result.error;
    expect(result.report).toEqual({
      rootVersion: 12,
      timestampVersion: 397,
      snapshotVersion: 159,
      targetsVersion: 11,
      changed: ["root", "root", "root", "root", "root", "root", "root", "timestamp", "snapshot", "targets"],
    });
    expect(await sha256Hex(result.trustedRoot)).toBe(OLDER_SHA256);
    // The consistent-snapshot names: versioned metadata, the target under its hash.
    expect(result.asked).toEqual([
      ...[6, 7, 8, 9, 10, 11, 12, 13].map((v) => `${v}.root.json`),
      "timestamp.json",
      "159.snapshot.json",
      "11.targets.json",
      `targets/${OLDER_SHA256}.trusted_root.json`,
    ]);
  });

  it("reads keyids as opaque names: tuf-edge's own root parser refuses these roots", async () => {
    const signed = JSON.parse(fromUtf8(root(15))).signed;
    await expect(parseRoot(signed)).rejects.toThrow(/is not the hash of its key/);
  });

  it("moves on to a newer state: roots 13 to 15, a newer timestamp and the current trusted root", async () => {
    const result = await update(await trustedAt2025(), "2026-08-21", STATES["2026-08-21"].during);
    if (!result.ok) throw result.error;
    expect(result.report).toMatchObject({
      rootVersion: 15,
      timestampVersion: 762,
      snapshotVersion: 165,
      targetsVersion: 14,
    });
    expect(await sha256Hex(result.trustedRoot)).toBe(PUBLIC_GOOD_SHA256);
  });

  it("finds a target through a delegation: registry.npmjs.org/keys.json, signed by the npm registry's role", async () => {
    const newer = await update(await trustedAt2025(), "2026-08-21", STATES["2026-08-21"].during);
    if (!newer.ok) throw newer.error;
    const { fetchFile, asked } = await serve("2026-08-21");
    let persisted = newer.persisted;
    const client = await TrustedMetadata.load(newer.persisted, STATES["2026-08-21"].during);
    const save = (files: TrustedFiles) => {
      persisted = files;
    };
    const info = await findTarget(client, "registry.npmjs.org/keys.json", fetchFile, save);
    expect(info).toEqual({ length: 2121, hashes: { sha256: NPM_KEYS_SHA256 } });
    const keys = await downloadTarget(client, "registry.npmjs.org/keys.json", defined(info), fetchFile);
    expect(await sha256Hex(keys)).toBe(NPM_KEYS_SHA256);
    expect(asked).toEqual(["8.registry.npmjs.org.json", `targets/registry.npmjs.org/${NPM_KEYS_SHA256}.keys.json`]);
    // The delegated role is trusted and persisted; a path no role lists is not found.
    expect(Object.keys(persisted.delegated ?? {})).toEqual(["registry.npmjs.org"]);
    expect(await findTarget(client, "registry.npmjs.org/other.json", fetchFile, save)).toBeNull();
    expect(await findTarget(client, "nothing.json", fetchFile, save)).toBeNull();
    expect(asked).toHaveLength(2);
  });

  it("refuses a delegated role signed by other keys than its delegation names", async () => {
    const newer = await update(await trustedAt2025(), "2026-08-21", STATES["2026-08-21"].during);
    if (!newer.ok) throw newer.error;
    // The delegated role's file with the top-level targets' signatures in place of its own.
    const forged = edited(stateFile("2026-08-21", "registry.npmjs.org.json"), (json) => {
      json.signatures = JSON.parse(fromUtf8(stateFile("2026-08-21", "targets.json"))).signatures;
    });
    const { fetchFile } = await serve("2026-08-21", { edits: { "8.registry.npmjs.org.json": forged } });
    const client = await TrustedMetadata.load(newer.persisted, STATES["2026-08-21"].during);
    const error = await findTarget(client, "registry.npmjs.org/keys.json", fetchFile, () => {}).catch(
      (e: TufError) => e,
    );
    expect(error).toMatchObject({ code: "threshold_not_met" });
    expect((error as TufError).message).toMatch(/^registry\.npmjs\.org: 0 valid signature/);
    expect(client.files().delegated).toEqual({});
  });

  it("an unchanged timestamp downloads nothing more", async () => {
    const trusted = await trustedAt2025();
    const again = await update(trusted, "2025-07-02", STATES["2025-07-02"].during);
    if (!again.ok) throw again.error;
    expect(again.report.changed).toEqual([]);
    expect(again.asked).toEqual(["13.root.json", "timestamp.json", `targets/${OLDER_SHA256}.trusted_root.json`]);
  });

  it("refuses a tampered target file: its hash is not the one targets lists", async () => {
    const tampered = stateFile("2026-08-21", "targets/trusted_root.json").slice();
    tampered.set([(tampered[100] ?? 0) ^ 1], 100);
    const result = await update(await trustedAt2025(), "2026-08-21", STATES["2026-08-21"].during, {
      "targets/trusted_root.json": tampered,
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? null : result.error.code).toBe("bad_hash");
  });

  it("refuses an expired timestamp and keeps the trusted one", async () => {
    const trusted = await trustedAt2025();
    // The 2026 timestamp expires 2026-08-28T19:25:56Z; the update starts a second later.
    const result = await update(trusted, "2026-08-21", new Date("2026-08-28T19:25:57Z"));
    expect(result.ok ? null : result.error.code).toBe("expired");
    expect(result.ok ? null : result.error.message).toMatch(/^timestamp expired at 2026-08-28T19:25:56Z/);
    expect(result.persisted.timestamp).toEqual(trusted.timestamp);
    // The roots it walked before that are kept (§5.3.7).
    expect(JSON.parse(fromUtf8(result.persisted.root)).signed.version).toBe(15);
  });

  it("refuses a rollback to an older timestamp and keeps the trusted state", async () => {
    const newer = await update(await trustedAt2025(), "2026-08-21", STATES["2026-08-21"].during);
    if (!newer.ok) throw newer.error;
    const result = await update(newer.persisted, "2025-07-02", STATES["2026-08-21"].during);
    expect(result.ok ? null : result.error.code).toBe("bad_version");
    expect(result.ok ? null : result.error.message).toBe("timestamp v397 is older than the trusted v762");
    expect(result.persisted).toEqual(newer.persisted);
  });

  it("refuses a timestamp whose signed part was changed after signing", async () => {
    const trusted = await trustedAt2025();
    const forged = edited(stateFile("2026-08-21", "timestamp.json"), (json) => {
      json.signed.expires = "2030-01-01T00:00:00Z";
    });
    const result = await update(trusted, "2026-08-21", new Date("2026-09-01T00:00:00Z"), { "timestamp.json": forged });
    expect(result.ok ? null : result.error.code).toBe("threshold_not_met");
    expect(result.persisted.timestamp).toEqual(trusted.timestamp);
  });

  it("refuses a root that the trusted root did not sign, and keeps the trusted root", async () => {
    const newer = await update(await trustedAt2025(), "2026-08-21", STATES["2026-08-21"].during);
    if (!newer.ok) throw newer.error;
    // An attacker's root v16: well-formed, signed by a threshold of its own keys, not by root v15's.
    const signers = await ed25519Signers(1, 2, 3);
    const keys = Object.fromEntries(signers.map((s) => [s.keyid, s.key]));
    const role = { keyids: Object.keys(keys), threshold: 2 };
    const forged = await sign(
      {
        _type: "root",
        spec_version: "1.0",
        version: 16,
        expires: formatExpires(new Date("2030-01-01T00:00:00Z")),
        consistent_snapshot: true,
        keys,
        roles: { root: role, targets: role, snapshot: role, timestamp: role },
      },
      signers,
    );
    const result = await update(newer.persisted, "2026-08-21", STATES["2026-08-21"].during, {
      "16.root.json": forged.bytes,
    });
    expect(result.ok ? null : result.error.code).toBe("threshold_not_met");
    expect(result.ok ? null : result.error.message).toMatch(/^root v16 \(by root v15's keys\): 0 valid signature/);
    expect(result.persisted).toEqual(newer.persisted);
  });

  it("refuses a real root served under the wrong version", async () => {
    const trusted = await trustedAt2025();
    // Root v14 is signed by keys root v12 trusts (the same maintainers), but it is not v13.
    const result = await update(trusted, "2026-08-21", STATES["2026-08-21"].during, { "13.root.json": root(14) });
    expect(result.ok ? null : result.error.message).toBe("root v13 is version 14");
    expect(result.persisted).toEqual(trusted);
  });
});
