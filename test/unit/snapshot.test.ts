import { describe, expect, it } from "vitest";
import { fromHex } from "../../src/lib/bytes.ts";
import { SPEC_VERSION, sign } from "../../src/tuf/metadata.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { snapshot } from "../../src/tuf/snapshot.ts";
import { GENERATED_SEEDS, GENERATED_SNAPSHOT, REPOSITORY_DATA_SNAPSHOT } from "./fixtures/python-tuf.ts";
import { envelopeOf } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

describe("snapshot", () => {
  it("builds exactly python-tuf's generated snapshot, and signs it to the published signature", async () => {
    // python-tuf tests/generated_data/ed25519_metadata/snapshot_with_ed25519.json,
    // signed by generate_md.py with GENERATED_SEEDS[2].
    const published = envelopeOf(GENERATED_SNAPSHOT, "snapshot");
    const ours = snapshot(1, "2050-01-01T00:00:00Z", [["targets", 1]]);
    expect(ours).toEqual(published.signed);
    const signer = await Ed25519Signer.fromSeed(fromHex(GENERATED_SEEDS[2]));
    expect(defined((await sign(ours, [signer])).envelope.signatures[0]).sig).toBe(defined(published.signatures[0]).sig);
  });

  it("lists versions only, as python-tuf's repository_data snapshot.json does", () => {
    const published = envelopeOf(REPOSITORY_DATA_SNAPSHOT, "snapshot");
    const ours = snapshot(1, "2030-01-01T00:00:00Z", [
      ["role1", 1],
      ["role2", 1],
      ["targets", 1],
    ]);
    expect({ ...ours, spec_version: "1.0.0" }).toEqual(published.signed);
  });

  it("names each role's file <role>.json, from any iterable", () => {
    const versions = new Map([
      ["targets", 3],
      ["bins-00", 7],
      ["bins-ff", 1],
    ]);
    const s = snapshot(9, "2030-01-01T00:00:00Z", versions);
    expect(s).toEqual({
      _type: "snapshot",
      spec_version: SPEC_VERSION,
      version: 9,
      expires: "2030-01-01T00:00:00Z",
      meta: { "targets.json": { version: 3 }, "bins-00.json": { version: 7 }, "bins-ff.json": { version: 1 } },
    });
    expect(snapshot(1, "2030-01-01T00:00:00Z", []).meta).toEqual({});
  });
});
