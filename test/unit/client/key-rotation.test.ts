/**
 * Spec §5.3.11 in tuf-edge's TUF client: when a new root rotates the
 * timestamp and snapshot keys, the files the old keys signed are no longer
 * trusted, so a repository that lost its online key can start its versions
 * again (fast-forward recovery); without a rotation, the same lower version
 * is a rollback. Repositories made here with tuf-edge's own signing code.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/lib/digest.ts";
import type { TrustedFiles } from "../../../src/tuf/client/trusted-metadata.ts";
import { type FetchFile, updateMetadata } from "../../../src/tuf/client/updater.ts";
import { TufError } from "../../../src/tuf/errors.ts";
import { formatExpires, sign } from "../../../src/tuf/metadata.ts";
import { draftRoot } from "../../../src/tuf/root.ts";
import type { Ed25519Signer } from "../../../src/tuf/signer.ts";
import { snapshot } from "../../../src/tuf/snapshot.ts";
import { binTargets } from "../../../src/tuf/targets.ts";
import { timestamp } from "../../../src/tuf/timestamp.ts";
import { ed25519Signers } from "../helpers.ts";

const NOW = new Date("2030-01-01T00:00:00Z");
const EXPIRES = formatExpires(new Date("2031-01-01T00:00:00Z"));

async function rootFile(version: number, rootKey: Ed25519Signer, online: Ed25519Signer) {
  const signed = await draftRoot({
    version,
    expires: EXPIRES,
    rootKeys: [rootKey.key],
    rootThreshold: 1,
    onlineKey: online.key,
  });
  return (await sign(signed, [rootKey])).bytes;
}

/** timestamp v`version` → snapshot v`version` → targets v1, signed by `online`. */
async function online(version: number, key: Ed25519Signer): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const targets = await sign(binTargets(1, EXPIRES, {}), [key]);
  const snap = await sign(snapshot(version, EXPIRES, [["targets", 1]]), [key]);
  const ts = await sign(
    timestamp(version, EXPIRES, { version, length: snap.bytes.length, sha256: await sha256Hex(snap.bytes) }),
    [key],
  );
  return new Map([
    ["timestamp.json", ts.bytes],
    [`${version}.snapshot.json`, snap.bytes],
    ["1.targets.json", targets.bytes],
  ]);
}

function serving(files: Map<string, Uint8Array<ArrayBuffer>>): FetchFile {
  return async (kind, name) => (kind === "metadata" ? (files.get(name) ?? null) : null);
}

async function update(trusted: TrustedFiles, files: Map<string, Uint8Array<ArrayBuffer>>) {
  return updateMetadata(trusted, NOW, serving(files), () => {}).catch((error: TufError) => error);
}

describe("root rotation of the online keys (spec §5.3.11)", () => {
  it("trusts a lower timestamp version signed by the new keys, and refuses it without a rotation", async () => {
    const [rootKey, oldKey, newKey] = await ed25519Signers(11, 12, 13);
    const v1 = await rootFile(1, rootKey, oldKey);
    const before = await updateMetadata({ root: v1 }, NOW, serving(await online(10, oldKey)), () => {});
    expect(before.report).toMatchObject({ timestampVersion: 10, snapshotVersion: 10 });
    const trusted = before.state.files();

    // Root v2 rotates the online key; the repository starts again at version 3.
    const rotated = new Map([["2.root.json", await rootFile(2, rootKey, newKey)], ...(await online(3, newKey))]);
    const after = await update(trusted, rotated);
    expect(after).not.toBeInstanceOf(TufError);
    expect(after instanceof TufError ? null : after.report).toMatchObject({
      rootVersion: 2,
      timestampVersion: 3,
      snapshotVersion: 3,
      changed: ["root", "timestamp", "snapshot", "targets"],
    });

    // Root v2 keeps the online key: version 3 is a rollback from 10.
    const kept = new Map([["2.root.json", await rootFile(2, rootKey, oldKey)], ...(await online(3, oldKey))]);
    const refused = await update(trusted, kept);
    expect(refused).toBeInstanceOf(TufError);
    expect((refused as TufError).message).toBe("timestamp v3 is older than the trusted v10");
  });
});
