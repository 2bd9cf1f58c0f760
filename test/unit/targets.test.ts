import { describe, expect, it } from "vitest";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import type { Key } from "../../src/tuf/key.ts";
import { SPEC_VERSION, sign, verifyThreshold } from "../../src/tuf/metadata.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { binTargets, HashesSchema, type TargetFile, topLevelTargets } from "../../src/tuf/targets.ts";
import { fromHex } from "../../src/lib/bytes.ts";
import {
  GENERATED_SEEDS,
  GENERATED_TARGETS,
  REPOSITORY_DATA_ROOT,
  REPOSITORY_DATA_TARGETS,
} from "./fixtures/python-tuf.ts";
import { ed25519Signer, envelopeOf } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

describe("binTargets", () => {
  it("builds exactly python-tuf's generated (empty) targets, and signs it to the published signature", async () => {
    // python-tuf tests/generated_data/ed25519_metadata/targets_with_ed25519.json,
    // signed by generate_md.py with GENERATED_SEEDS[3].
    const published = envelopeOf(GENERATED_TARGETS, "targets");
    const ours = binTargets(1, "2050-01-01T00:00:00Z", {});
    expect(ours).toEqual(published.signed);
    const signer = await Ed25519Signer.fromSeed(fromHex(GENERATED_SEEDS[3]));
    expect(defined((await sign(ours, [signer])).envelope.signatures[0]).sig).toBe(defined(published.signatures[0]).sig);
  });

  it("lays out target files as python-tuf's repository_data targets.json does", async () => {
    const published = envelopeOf(REPOSITORY_DATA_TARGETS, "targets");
    const root = envelopeOf(REPOSITORY_DATA_ROOT, "root").signed as unknown as {
      keys: Record<string, Key>;
      roles: { targets: { keyids: string[]; threshold: number } };
    };
    const files = published.signed.targets as Record<string, TargetFile>;
    const ours = { ...binTargets(1, "2030-01-01T00:00:00Z", files), spec_version: "1.0.0" };
    const { delegations: _, ...withoutDelegations } = published.signed;
    expect(ours).toEqual(withoutDelegations);
    // The published file verifies, so the layout is a signed one.
    expect(await verifyThreshold(published, root.roles.targets, root.keys, "targets")).toHaveLength(1);
  });

  it("uses the current spec version", () => {
    expect(binTargets(3, "2030-01-01T00:00:00Z", {}).spec_version).toBe(SPEC_VERSION);
  });
});

describe("topLevelTargets", () => {
  it("delegates everything to succinct hash bins (TAP 15 / python-tuf Delegations.succinct_roles)", async () => {
    const online = await ed25519Signer(7);
    const bins = new HashBins(10, "bins");
    const targets = topLevelTargets(4, "2030-01-01T00:00:00Z", bins, { [online.keyid]: online.key });
    expect(targets).toEqual({
      _type: "targets",
      spec_version: SPEC_VERSION,
      version: 4,
      expires: "2030-01-01T00:00:00Z",
      targets: {},
      delegations: {
        keys: { [online.keyid]: online.key },
        succinct_roles: { keyids: [online.keyid], threshold: 1, bit_length: 10, name_prefix: "bins" },
      },
    });
    expect(Object.keys(defined(targets.delegations))).not.toContain("roles"); // roles and succinct_roles are exclusive
  });

  it("passes the threshold and every bin key", async () => {
    const [a, b] = await Promise.all([ed25519Signer(1), ed25519Signer(2)]);
    const targets = topLevelTargets(
      1,
      "2030-01-01T00:00:00Z",
      new HashBins(),
      { [a.keyid]: a.key, [b.keyid]: b.key },
      2,
    );
    expect(defined(targets.delegations).succinct_roles.threshold).toBe(2);
    expect(defined(targets.delegations).succinct_roles.keyids.sort()).toEqual([a.keyid, b.keyid].sort());
  });
});

describe("HashesSchema", () => {
  const sha256 = "65b8c67f51c993d898250f40aa57a317d854900b3a04895464313e48785440da";
  const sha512 =
    "467430a68afae8e9f9c0771ea5d78bf0b3a0d79a2d3d3b40c69fde4dd42c461448aef76fcef4f5284931a1ffd0ac096d138ba3a0d6ca83fa8d7285a47a296f77";

  it("accepts sha256, sha512 or both (python-tuf repository_data file1.txt)", () => {
    for (const h of [{ sha256 }, { sha512 }, { sha256, sha512 }]) expect(HashesSchema.safeParse(h).success).toBe(true);
  });

  it("rejects none, bad lengths, upper case and other algorithms", () => {
    for (const h of [
      {},
      { sha256: sha256.slice(1) },
      { sha256: sha256.toUpperCase() },
      { sha512: sha256 },
      { sha256, md5: "d41d8cd98f00b204e9800998ecf8427e" },
      { blake2b: sha512 },
    ]) {
      expect(HashesSchema.safeParse(h).success, JSON.stringify(h)).toBe(false);
    }
  });
});
