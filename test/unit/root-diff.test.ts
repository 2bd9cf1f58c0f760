import { describe, expect, it } from "vitest";
import type { Key } from "../../src/tuf/key.ts";
import { draftRoot } from "../../src/tuf/root.ts";
import { diffRoots } from "../../src/tuf/root-diff.ts";
import { ed25519Signers } from "./helpers.ts";

const root = (version: number, expires: string, rootKeys: Key[], rootThreshold: number, onlineKey: Key) =>
  draftRoot({ version, expires, rootKeys, rootThreshold, onlineKey });

describe("diffRoots", () => {
  it("reports rotated keys, thresholds, version and expiry", async () => {
    const [a, b, c, online, online2] = await ed25519Signers(1, 2, 3, 4, 5);
    const from = await root(1, "2030-01-01T00:00:00Z", [a.key, b.key], 1, online.key);
    const to = await root(2, "2031-01-01T00:00:00Z", [b.key, c.key], 2, online2.key);
    const diff = diffRoots(from, to);
    expect(diff.version).toEqual({ from: 1, to: 2 });
    expect(diff.expires).toEqual({ from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z" });
    expect(diff.keysAdded.map((k) => k.keyid).sort()).toEqual([c.keyid, online2.keyid].sort());
    expect(diff.keysRemoved.map((k) => k.keyid).sort()).toEqual([a.keyid, online.keyid].sort());
    expect(diff.keysAdded[0]).toMatchObject({ keytype: "ed25519", scheme: "ed25519" });
    expect(diff.roles.root).toEqual({
      keyidsAdded: [c.keyid],
      keyidsRemoved: [a.keyid],
      threshold: { from: 1, to: 2 },
    });
    for (const role of ["targets", "snapshot", "timestamp"] as const) {
      expect(diff.roles[role]).toEqual({
        keyidsAdded: [online2.keyid],
        keyidsRemoved: [online.keyid],
        threshold: null,
      });
    }
    expect(diff.consistentSnapshot).toBeNull();
  });

  it("reports nothing but the version for a refresh", async () => {
    const [a, online] = await ed25519Signers(1, 2);
    const from = await root(3, "2030-01-01T00:00:00Z", [a.key], 1, online.key);
    const to = { ...from, version: 4, consistent_snapshot: false };
    const diff = diffRoots(from, to);
    expect(diff.keysAdded).toEqual([]);
    expect(diff.keysRemoved).toEqual([]);
    for (const role of Object.values(diff.roles)) {
      expect(role).toEqual({ keyidsAdded: [], keyidsRemoved: [], threshold: null });
    }
    expect(diff.consistentSnapshot).toEqual({ from: true, to: false });
  });
});
