/**
 * Every version of a delegated role is served and logged as the bins are: for
 * each version of every role the snapshot lists (online delegations, their
 * bins, the owners' offline versions, `targets` and the catch-all `bins` as
 * they change), its consistent-snapshot name serves the bytes immutable with
 * their SHA-256 as a strong ETag, and the transparency log has a
 * `metadata.publish` entry naming its role, version, length and that SHA-256,
 * read from the public log's entry bundle.
 */
import { describe, expect, it } from "vitest";
import { fromUtf8, toHex, utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { decodeEntry, type MetadataEntry } from "../../src/log/entry.ts";
import { decodeEntryBundle } from "../../src/log/tiles.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { applied, BASE, bootstrapped, getJson, inDays, rootSigners, targetEntry, workerFetch } from "./helpers.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

/** Version `version` of an offline role listing `paths`, signed by `owner`. */
async function signedBy(owner: Signer, version: number, paths: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const targets: Record<string, unknown> = {};
  for (const path of paths) targets[path] = { length: path.length, hashes: (await targetEntry(path)).hashes };
  const expires = inDays(30);
  const signed = { _type: "targets", spec_version: "1.0.31", version, expires, targets };
  return utf8(
    JSON.stringify({
      signatures: [{ keyid: owner.keyid, sig: toHex(await owner.sign(canonicalBytes(signed))) }],
      signed,
    }),
  );
}

describe("delegated roles' files", () => {
  it("every version of every delegated role, online or signed by its owners, is served immutable and is a metadata.publish entry of its bytes", async () => {
    const repo = "dlg-log";
    const { client } = await bootstrapped(repo, { bins: 4 });
    const [owner] = (await rootSigners(1)) as unknown as [Signer];
    await client.addDelegation({ name: "web", paths: ["web/*"] });
    await client.addDelegation({ name: "big", paths: ["big/*"], bins: 2 });
    await client.changeTargets({ add: [await targetEntry("web/a.tgz"), await targetEntry("big/b.tgz")] });
    applied(
      await client.addDelegation({
        name: "owned",
        paths: ["owned/*"],
        signing: "offline",
        keys: [owner.key],
        threshold: 1,
        metadata: fromUtf8(await signedBy(owner, 1, [])),
      }),
    );
    await client.submitDelegationMetadata("owned", await signedBy(owner, 2, ["owned/c.tgz"]));
    await client.removeDelegation("web");
    // The roles and versions to find, then one more round: its timestamp commits to a log that holds
    // the entries of every round before it (a round logs its files as it commits, after its timestamp).
    const published = async () => {
      const { json: timestamp } = await getJson(`/${repo}/metadata/timestamp.json`);
      const version = timestamp.signed.meta["snapshot.json"].version;
      return { timestamp, snapshot: (await getJson(`/${repo}/metadata/${version}.snapshot.json`)).json };
    };
    const { snapshot } = await published();
    await client.changeTargets({ add: [await targetEntry("other/d.tgz")] });
    const { timestamp } = await published();
    const size: number = timestamp.signed["x-tuf-edge-log"].size;
    expect(size).toBeLessThan(256); // one partial entry bundle holds them all
    const bundle = await workerFetch(`${BASE}/${repo}/log/tile/entries/000.p/${size}`);
    const logged = decodeEntryBundle(new Uint8Array(await bundle.arrayBuffer()))
      .map(decodeEntry)
      .filter((e): e is MetadataEntry => e.type === "metadata.publish");
    const roles = Object.keys(snapshot.signed.meta).map((file) => file.replace(/\.json$/, ""));
    expect(roles).toEqual(
      expect.arrayContaining(["targets", "bins", "web", "big", "big.bins-0", "big.bins-1", "owned"]),
    );
    let checked = 0;
    for (const role of roles) {
      for (let version = 1; version <= snapshot.signed.meta[`${role}.json`].version; version++) {
        const response = await workerFetch(`${BASE}/${repo}/metadata/${version}.${role}.json`);
        const bytes = new Uint8Array(await response.arrayBuffer());
        const sha256 = await sha256Hex(bytes);
        expect(response.headers.get("Cache-Control"), `${version}.${role}.json`).toBe(IMMUTABLE);
        expect(response.headers.get("ETag"), `${version}.${role}.json`).toBe(`"${sha256}"`);
        const expected = {
          type: "metadata.publish",
          repository: repo,
          role,
          version,
          length: bytes.length,
          sha256,
        };
        expect(logged, `${version}.${role}.json`).toContainEqual(expected);
        checked++;
      }
    }
    // web: added, re-signed with its target, re-signed empty when removed; owned: the owners' two versions.
    expect(snapshot.signed.meta["web.json"].version).toBe(3);
    expect(snapshot.signed.meta["owned.json"].version).toBe(2);
    expect(checked).toBeGreaterThan(roles.length);
  });
});
