import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fileMember,
  joinMembers,
  member,
  servedAsSigned,
  signAssembled,
  signJoined,
  versionMember,
} from "../../src/tuf/assembled.ts";
import { sign } from "../../src/tuf/metadata.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { snapshot } from "../../src/tuf/snapshot.ts";
import { binTargets, type TargetFile, targetFile as canonicalFile } from "../../src/tuf/targets.ts";
import { fromUtf8, utf8 } from "../../src/lib/bytes.ts";
import { dictionary } from "../../src/lib/dictionary.ts";

const signer = await Ed25519Signer.fromSeed(new Uint8Array(32).fill(7));

/** Keys as target paths and custom fields may be: any well-formed string outside U+E000–U+FFFF, digits included. */
const key = fc
  .oneof(
    fc.string({ unit: "grapheme", maxLength: 12 }),
    fc.nat({ max: 5_000_000_000 }).map(String),
    fc.constantFrom(
      "0",
      "01",
      "4294967294",
      "4294967295",
      "a/b",
      'q"uote',
      "back\\slash",
      "\u{1F600}x",
      "é",
      "__proto__",
      "constructor",
      "a$&b",
      "$'",
      "$`x",
    ),
  )
  .filter((k) => !/[\uE000-\uFFFF]/.test(k) && k.isWellFormed());

const customValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.constantFrom("line\nbreak", "tab\t", "nul\u0000", "\u2028", "\u007f"),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(key, tie("value"), { maxKeys: 3 }),
  ),
})).value;

const targetFile: fc.Arbitrary<TargetFile> = fc.record(
  {
    length: fc.nat(),
    hashes: fc.record({
      sha256: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
    }),
    custom: fc.dictionary(key, customValue, { maxKeys: 4 }),
  },
  { requiredKeys: ["length", "hashes"] },
);

describe("assembled signed files", () => {
  it("a bin assembled from members is byte for byte what sign() makes of the same targets", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(key, targetFile), { selector: ([k]) => k, maxLength: 12 }),
        async (rows) => {
          // Members come in the order the bin's query returns rows (by path, as SQLite sorts UTF-8).
          const ordered = [...rows].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
          // A dictionary, as the targets index builds bins: a path "__proto__" is an entry, not the prototype.
          const targets = dictionary<TargetFile>();
          for (const [path, file] of ordered) targets[path] = file;
          const reference = await sign(binTargets(3, "2030-01-01T00:00:00Z", targets), [signer]);
          const header = binTargets(3, "2030-01-01T00:00:00Z", {}) as unknown as Record<string, unknown>;
          const { targets: _t, ...rest } = header;
          const assembled = await signAssembled(
            rest,
            "targets",
            ordered.map(([path, file]) => member(path, file)),
            [signer],
          );
          expect(fromUtf8(assembled.bytes)).toBe(fromUtf8(reference.bytes));
        },
      ),
      {
        numRuns: 200,
        // Found by CI (seed -1183294903): the path "__proto__" is a target like any other.
        examples: [
          [[["__proto__", { length: 0, hashes: { sha256: "0".repeat(64) } }]]],
          // A path with `$&` (or `$'`, `` $` ``) is a target like any other, not a replacement pattern.
          [[["pkg/x$&y.tgz", { length: 1, hashes: { sha256: "1".repeat(64) } }]]],
        ],
      },
    );
  });

  it("members joined as UTF-8 bytes make the same file as the same members joined as text", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(key, targetFile), { selector: ([k]) => k, maxLength: 12 }),
        async (rows) => {
          const header = { _type: "targets", version: 3, spec_version: "1.0.31", expires: "2030-01-01T00:00:00Z" };
          const joined = joinMembers(rows.map(([path, file]) => member(path, file)));
          const asText = await signJoined(header, "targets", joined, [signer]);
          const asBytes = await signJoined(
            header,
            "targets",
            { canonical: utf8(joined.canonical as string), json: utf8(joined.json as string) },
            [signer],
          );
          expect(fromUtf8(asBytes.bytes)).toBe(fromUtf8(asText.bytes));
        },
      ),
      { numRuns: 100, examples: [[[]], [[["pkg/x$&y.tgz", { length: 1, hashes: { sha256: "1".repeat(64) } }]]]] },
    );
  });

  it("a snapshot assembled from members is byte for byte what sign() makes", async () => {
    const names = ["targets", "bins-0", "bins-1", "a", "a-b", "7", "10", 'q"uote', "é"];
    const versions = names.map((n, i) => [n, i + 1] as [string, number]);
    const reference = await sign(snapshot(9, "2030-01-01T00:00:00Z", versions), [signer]);
    const { meta: _m, ...header } = snapshot(9, "2030-01-01T00:00:00Z", []) as unknown as Record<string, unknown>;
    const assembled = await signAssembled(
      header,
      "meta",
      versions.map(([n, v]) => versionMember(`${n}.json`, v)),
      [signer],
    );
    expect(fromUtf8(assembled.bytes)).toBe(fromUtf8(reference.bytes));
  });

  it("a target file's member written directly is the member serialised, for any path and file", () => {
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: n, maxLength: n });
    const path = fc.oneof(key, fc.constantFrom("pkg/a-1.0.tgz", "bulk-7/bulk-7-1.0.0.tgz", "a b", "x'y", 'q"t'));
    const hashes = fc.oneof(
      fc.record({ sha256: hex(64) }),
      fc.record({ sha512: hex(128) }),
      fc.record({ sha256: hex(64), sha512: hex(128) }),
      hex(128).chain((sha512) => hex(64).map((sha256) => ({ sha512, sha256 }))),
      fc.record({ sha256: fc.string({ maxLength: 4 }) }),
    );
    const file = fc.oneof(
      fc.record({ length: fc.nat(), hashes }),
      fc.record({ length: fc.nat(), hashes, custom: fc.dictionary(key, customValue, { maxKeys: 2 }) }),
      fc.record({ hashes, length: fc.nat() }),
    );
    fc.assert(
      fc.property(path, file, (p, f) => {
        expect(fileMember(p, f as TargetFile)).toEqual(member(p, f));
      }),
      { numRuns: 500 },
    );
  });

  it("a map of members served as signed, in key order, is served as its canonical join", () => {
    const hashes = fc.record({ sha256: fc.stringMatching(/^[0-9a-f]{64}$/) });
    const entries = fc.uniqueArray(fc.tuple(key, fc.nat(), hashes), { selector: ([k]) => k, maxLength: 12 });
    fc.assert(
      fc.property(entries, (list) => {
        const members = list.map(([k, length, h]) => fileMember(k, canonicalFile(length, h)));
        const kept = members.filter(servedAsSigned).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        const joined = joinMembers(kept);
        expect(joined.json).toBe(joined.canonical);
        // What it rests on: printable ASCII, not an array index, and the file in canonical order.
        for (const m of members) {
          const index = /^(0|[1-9]\d{0,9})$/.test(m.key) && Number(m.key) < 2 ** 32 - 1;
          expect(servedAsSigned(m), m.key).toBe(/^[ -~]*$/.test(m.key) && !index);
        }
      }),
      { numRuns: 300 },
    );
    // A file in the order a push lists it (length first) is served in that order, so not as signed.
    expect(servedAsSigned(fileMember("a.tgz", { length: 1, hashes: { sha256: "ab" } }))).toBe(false);
    expect(servedAsSigned(fileMember("a.tgz", canonicalFile(1, { sha256: "ab" })))).toBe(true);
  });

  it("refuses what canonical JSON refuses, when the member is made", () => {
    expect(() => member("a", { length: 1.5 })).toThrow(TypeError);
    expect(() => member("x\uD800", { length: 1 })).toThrow(TypeError);
  });

  it("refuses a key listed twice", async () => {
    await expect(signAssembled({ _type: "x" }, "m", [member("a", 1), member("a", 2)], [signer])).rejects.toThrow(
      /twice/,
    );
  });
});
