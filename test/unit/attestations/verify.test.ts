/**
 * Our verifier, inside workerd, on every case of cases.ts: the verdict and
 * failure code each case expects, and agreement (accept/reject) with the
 * recorded @sigstore/verify verdict under Node, except where a case
 * documents a divergence. test/e2e/attestations-reference.test.ts re-runs
 * the reference to keep those recorded verdicts honest.
 */
import { describe, expect, it } from "vitest";
import {
  npmAttestationKeys,
  trustedRootFromJSON,
  type TrustedRoot,
  verifyBundle,
} from "../../../src/attestations/index.ts";
import { CASES, type RootVariant, trustMaterial } from "./cases.ts";
import { ARTIFACTS } from "./material.ts";

const roots = new Map<RootVariant, TrustedRoot>();
function root(variant: RootVariant = "public-good"): TrustedRoot {
  let r = roots.get(variant);
  if (!r) {
    const { root: json, npmKeys } = trustMaterial(variant);
    r = trustedRootFromJSON(json, npmAttestationKeys(npmKeys));
    roots.set(variant, r);
  }
  return r;
}

describe("verifyBundle on every case (workerd)", () => {
  for (const c of CASES) {
    it(`${c.group}: ${c.id} → ${c.expect}`, async () => {
      const a = ARTIFACTS[c.artifact] as { sha256?: string; sha512?: string };
      const verdict = await verifyBundle(c.bundle(), root(c.root), {
        digest: { ...(a.sha256 ? { sha256: a.sha256 } : {}), ...(a.sha512 ? { sha512: a.sha512 } : {}) },
        ...(c.subjectName !== undefined ? { name: c.subjectName } : {}),
        ...(c.predicateTypes ? { predicateTypes: c.predicateTypes } : {}),
        ...(c.identity ? { identity: c.identity } : {}),
      });
      expect(verdict.ok ? "ok" : `${verdict.code}: ${verdict.detail}`).toMatch(new RegExp(`^${c.expect}\\b`));
      if (c.divergence) {
        expect(verdict.ok).not.toBe(c.reference === "ok");
      } else {
        expect(verdict.ok, `the reference said ${c.reference}`).toBe(c.reference === "ok");
      }
    });
  }
});

describe("coverage of the brief", () => {
  it("every valid fixture is accepted, and each is rejected for another artifact, a changed signature, a swapped certificate, an altered proof and an untrusted root", () => {
    const fixtures = CASES.filter((c) => c.group === "fixture");
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    for (const f of fixtures.filter((c) => !c.id.startsWith("npm attestations") && !c.id.startsWith("npm invalid"))) {
      const related = CASES.filter((c) => c.id.startsWith(`${f.id}: `));
      expect(related.map((c) => c.expect).sort()).toEqual(
        expect.arrayContaining(["subject_digest", "signature", "tlog", "tlog", "chain"]),
      );
    }
  });
});
