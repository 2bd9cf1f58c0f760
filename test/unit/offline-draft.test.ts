import { describe, expect, it } from "vitest";
import { fromUtf8 } from "../../src/lib/bytes.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { draftNextVersion, type PendingChange, withChanges } from "../../src/tuf/offline-draft.ts";

const A = { length: 3, hashes: { sha256: "a".repeat(64) } };
const B = { length: 4, hashes: { sha256: "b".repeat(64) } };

describe("the draft of an offline role's next version", () => {
  it("applies the pending changes in order: add, remove, yank and unyank", () => {
    const published = { "p/a": A, "p/old": B, "p/kept": { ...A, custom: { note: "x" } } };
    const changes: PendingChange[] = [
      { type: "targets.add", path: "p/b", ...B, custom: { pep: 1 } },
      { type: "targets.remove", path: "p/old" },
      { type: "targets.yank", path: "p/kept", reason: "CVE-1" },
      { type: "targets.yank", path: "p/a", reason: "broken" },
      { type: "targets.unyank", path: "p/a" },
      { type: "targets.remove", path: "p/never-listed" },
      { type: "targets.yank", path: "p/never-listed", reason: "nothing to yank" },
    ];
    expect(withChanges(published, changes)).toEqual({
      "p/a": A,
      "p/b": { ...B, custom: { pep: 1 } },
      "p/kept": { ...A, custom: { note: "x", yanked: true, yanked_reason: "CVE-1" } },
    });
    // The published targets are not changed.
    expect(Object.keys(published)).toEqual(["p/a", "p/old", "p/kept"]);
  });

  it("binds an attestation into the entry's custom.attestations once, after what it lists, and not into a path it does not list", () => {
    const listed = { predicate_type: "https://slsa.dev/provenance/v1", sha256: "1".repeat(64) };
    const published = { "p/a": { ...A, custom: { yanked: false, attestations: [listed] } } };
    const attest = (path: string, sha256: string, predicate: string | null): PendingChange => ({
      type: "attestations.add",
      path,
      sha256,
      predicate_type: predicate,
      media_type: "application/vnd.dev.sigstore.bundle.v0.3+json",
      publisher: { kind: "GitHub" },
    });
    const publish = "https://docs.pypi.org/attestations/publish/v1";
    const targets = withChanges(published, [
      attest("p/a", "2".repeat(64), publish),
      attest("p/a", "2".repeat(64), publish),
      attest("p/a", "1".repeat(64), "https://slsa.dev/provenance/v1"),
      attest("p/none", "3".repeat(64), publish),
      { type: "targets.add", path: "p/b", ...B },
      attest("p/b", "4".repeat(64), null),
    ]);
    expect(targets).toEqual({
      "p/a": {
        ...A,
        custom: { yanked: false, attestations: [listed, { predicate_type: publish, sha256: "2".repeat(64) }] },
      },
      "p/b": { ...B, custom: { attestations: [{ predicate_type: "", sha256: "4".repeat(64) }] } },
    });
    expect(published["p/a"].custom.attestations).toEqual([listed]);
  });

  it("keeps a target at the path __proto__ as an entry like any other", () => {
    const targets = withChanges({}, [{ type: "targets.add", path: "__proto__", ...A }]);
    expect(Object.keys(targets)).toEqual(["__proto__"]);
    expect(fromUtf8(canonicalBytes(targets))).toBe(`{"__proto__":${fromUtf8(canonicalBytes(A))}}`);
  });

  it("is the published signed part with every field the owners put there, version + 1, the new expiry and targets", () => {
    const published = {
      _type: "targets",
      spec_version: "1.0.31",
      version: 7,
      expires: "2026-01-01T00:00:00Z",
      targets: { "p/a": A },
      "x-owner-note": { team: "acme" },
    };
    const draft = draftNextVersion(published, { "p/b": B }, "2027-01-01T00:00:00Z");
    expect(draft.signed).toEqual({ ...published, version: 8, expires: "2027-01-01T00:00:00Z", targets: { "p/b": B } });
    expect(draft.canonical).toEqual(canonicalBytes(draft.signed));
    expect(published.version).toBe(7);
  });
});
