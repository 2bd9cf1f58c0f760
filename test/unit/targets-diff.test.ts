import { describe, expect, it } from "vitest";
import { fromUtf8 } from "../../src/lib/bytes.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { SPEC_VERSION } from "../../src/tuf/metadata.ts";
import type { Targets } from "../../src/tuf/targets.ts";
import { diffTargets, targetsDiffLines } from "../../src/tuf/targets-diff.ts";

const catchAll = { name: "bins", keyids: ["online"], threshold: 1, terminating: true, path_hash_prefixes: ["0", "1"] };
const acme = { name: "acme", keyids: ["a", "b"], threshold: 2, terminating: true, paths: ["@acme/*"] };
const ownTarget = { "log.txt": { length: 3, hashes: { sha256: "ab".repeat(32) }, custom: { origin: "x" } } };

function targets(version: number, roles: object[], keys: Record<string, unknown> = {}): Targets {
  return {
    _type: "targets",
    spec_version: SPEC_VERSION,
    version,
    expires: `2030-01-0${version}T00:00:00Z`,
    targets: ownTarget,
    delegations: { keys, roles } as never,
  };
}

describe("diffTargets", () => {
  it("reports delegated roles added, removed and changed, and the search order", () => {
    const from = targets(1, [catchAll]);
    const to = targets(2, [acme, { ...catchAll, keyids: ["online2"] }]);
    const diff = diffTargets(from, to);
    expect(diff.version).toEqual({ from: 1, to: 2 });
    expect(diff.rolesAdded).toEqual([acme]);
    expect(diff.rolesRemoved).toEqual([]);
    expect(diff.rolesChanged).toEqual([
      {
        name: "bins",
        keyidsAdded: ["online2"],
        keyidsRemoved: ["online"],
        threshold: null,
        claims: null,
        terminating: null,
      },
    ]);
    expect(diff.order).toEqual({ from: ["bins"], to: ["acme", "bins"] });
    expect(diff.targetsChanged).toEqual([]);
    expect(targetsDiffLines(diff)).toContain("  + delegation acme: @acme/*; 2 of 2 key(s) a b; terminating");
    expect(diffTargets(to, from).rolesRemoved).toEqual([acme]);
  });

  it("is the same for a draft read back from its canonical text (keys sorted), as a signer's machine reads it", () => {
    // Regression: entries were compared as JSON.stringify writes them, so the log verifier
    // target (length, hashes, custom) differed from its canonical form (custom, hashes, length)
    // and the CLI refused every targets draft.
    const from = targets(1, [catchAll]);
    const to = targets(2, [acme, catchAll]);
    const readBack = JSON.parse(fromUtf8(canonicalBytes(to))) as Targets;
    expect(JSON.stringify(readBack.targets)).not.toBe(JSON.stringify(to.targets));
    expect(diffTargets(from, readBack)).toEqual(diffTargets(from, to));
    expect(diffTargets(from, readBack).targetsChanged).toEqual([]);
  });

  it("summarises the hash bins targets delegated to before it named roles", () => {
    const before: Targets = {
      ...targets(1, []),
      delegations: {
        keys: {},
        succinct_roles: { keyids: ["online"], threshold: 1, bit_length: 4, name_prefix: "bins" },
      },
    };
    const diff = diffTargets(before, targets(2, [catchAll]));
    expect(diff.rolesRemoved.map((r) => r.name)).toEqual(["bins-* (16 hash bins)"]);
    expect(diff.rolesAdded.map((r) => r.name)).toEqual(["bins"]);
  });
});
