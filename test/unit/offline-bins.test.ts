import { describe, expect, it } from "vitest";
import { toHex } from "../../src/lib/bytes.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import {
  delegationBins,
  firstVersions,
  ownersSuccinctDelegations,
  succinctProblem,
} from "../../src/tuf/offline-bins.ts";
import { checkOfflineRole } from "../../src/tuf/offline-role.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { ed25519Signer } from "./helpers.ts";

async function ownersOf(...seeds: number[]) {
  const signers = await Promise.all(seeds.map((s) => ed25519Signer(s)));
  return { signers, keys: Object.fromEntries(signers.map((s) => [s.keyid, s.key])) };
}

async function signedBy(signed: unknown, signers: readonly Signer[]): Promise<Uint8Array> {
  const message = canonicalBytes(signed);
  const signatures = await Promise.all(
    signers.map(async (s) => ({ keyid: s.keyid, sig: toHex(await s.sign(message)) })),
  );
  return new TextEncoder().encode(JSON.stringify({ signatures, signed }));
}

describe("hash bins inside an offline delegation", () => {
  it("the owners' role delegates to <name>.bins-XX with their keys and threshold; the bins start empty", async () => {
    const { keys } = await ownersOf(1, 2);
    const roles = firstVersions("acme", { keys, threshold: 2 }, 4, "2030-01-01T00:00:00Z");
    expect(roles.map((r) => r.role)).toEqual(["acme", "acme.bins-0", "acme.bins-1", "acme.bins-2", "acme.bins-3"]);
    expect(roles[0]?.signed).toMatchObject({
      targets: {},
      delegations: {
        keys,
        succinct_roles: { keyids: Object.keys(keys).sort(), threshold: 2, bit_length: 2, name_prefix: "acme.bins" },
      },
    });
    expect(roles[1]?.signed).toEqual({
      _type: "targets",
      spec_version: "1.0.31",
      version: 1,
      expires: "2030-01-01T00:00:00Z",
      targets: {},
    });
  });

  it("accepts exactly the owners' bins (keyids in any order) and says what differs otherwise", async () => {
    const { keys } = await ownersOf(1, 2);
    const other = await ownersOf(3);
    const expected = ownersSuccinctDelegations({ keys, threshold: 2 }, delegationBins("acme", 2));
    const reordered = {
      ...expected,
      succinct_roles: { ...expected.succinct_roles, keyids: [...expected.succinct_roles.keyids].reverse() },
    };
    expect(succinctProblem(reordered, expected)).toBeNull();
    const cases: Array<[string, unknown, string]> = [
      ["nothing", undefined, "the role lists delegations"],
      ["named roles too", { ...expected, roles: [] }, "no named roles"],
      [
        "another bit length",
        { ...expected, succinct_roles: { ...expected.succinct_roles, bit_length: 3 } },
        "bit_length: 2",
      ],
      [
        "another prefix",
        { ...expected, succinct_roles: { ...expected.succinct_roles, name_prefix: "bins" } },
        'name_prefix: "acme.bins"',
      ],
      [
        "a lower threshold",
        { ...expected, succinct_roles: { ...expected.succinct_roles, threshold: 1 } },
        "threshold: 2",
      ],
      [
        "another key",
        { ...expected, succinct_roles: { ...expected.succinct_roles, keyids: Object.keys(other.keys) } },
        "exactly the owners' keyids",
      ],
      [
        "another key under an owner's keyid",
        { ...expected, keys: Object.fromEntries(Object.keys(keys).map((id) => [id, Object.values(other.keys)[0]])) },
        "is the owner's key with that keyid",
      ],
      ["an extra field", { ...expected, succinct_roles: { ...expected.succinct_roles, x: 1 } }, "no other fields"],
    ];
    for (const [what, delegations, problem] of cases)
      expect(succinctProblem(delegations, expected), what).toContain(problem);
  });

  it("checkOfflineRole takes the role's bins only where they are expected, and then no targets of its own", async () => {
    const { signers, keys } = await ownersOf(1, 2);
    const owners = { keys, threshold: 2 };
    const succinct = ownersSuccinctDelegations(owners, delegationBins("acme", 2));
    const [role] = firstVersions("acme", owners, 4, "2030-01-01T00:00:00Z");
    const context = { name: "acme", ...owners, current: 0, now: new Date("2029-01-01T00:00:00Z") };
    const bytes = await signedBy(role?.signed, signers);
    expect((await checkOfflineRole(bytes, { ...context, succinct })).version).toBe(1);
    await expect(checkOfflineRole(bytes, context)).rejects.toThrow("does not delegate further");
    const withTargets = { ...role?.signed, targets: { "@acme/a": { length: 1, hashes: { sha256: "a".repeat(64) } } } };
    await expect(checkOfflineRole(await signedBy(withTargets, signers), { ...context, succinct })).rejects.toThrow(
      "lists no targets of its own",
    );
  });
});
