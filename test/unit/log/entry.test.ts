import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEntry,
  encodeEntry,
  encodeMetadataEntry,
  encodeValidatedTargetEntry,
  ENTRY_TYPES,
  entryLeafHash,
  TARGET_ENTRY_TYPES,
  type LogEntry,
  type MetadataEntry,
  type TargetLogEntry,
} from "../../../src/log/entry.ts";
import type { LogError } from "../../../src/log/errors.ts";
import { MAX_TARGET_PATH_BYTES } from "../../../src/schemas/target-path.ts";
import { fromUtf8, toHex, utf8 } from "../../../src/lib/bytes.ts";
import { caught } from "../helpers.ts";
import { defined } from "../../../scripts/lib/defined.ts";

// Independent vectors: Python 3, json.dumps(entry, sort_keys=True, separators=(",", ":"),
// ensure_ascii=False).encode() (the same bytes as OLPC canonical JSON for these values),
// and hashlib.sha256(b"\x00" + bytes) for the RFC 6962 leaf hash.
const SHA256_HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const VECTORS: { entry: LogEntry; json: string; leaf: string }[] = [
  {
    entry: { type: "target.add", repository: "acme", path: "pkg/a-1.0.tgz", hashes: { sha256: SHA256_HELLO } },
    json: `{"hashes":{"sha256":"${SHA256_HELLO}"},"path":"pkg/a-1.0.tgz","repository":"acme","type":"target.add"}`,
    leaf: "9aa41cb10c62b064e26eb675bf68ec06667ec8d366d8429c4a351dbf969acbaa",
  },
  {
    entry: {
      type: "target.yank",
      repository: "acme",
      path: "pkg/a-1.0.tgz",
      hashes: {
        sha512:
          "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043",
        sha256: SHA256_HELLO,
      },
    },
    json:
      `{"hashes":{"sha256":"${SHA256_HELLO}","sha512":"9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"},` +
      `"path":"pkg/a-1.0.tgz","repository":"acme","type":"target.yank"}`,
    leaf: "5971b6006236e3f8fdbd4acbc159d7d94b47de03b54b18cefc814b285adaadfb",
  },
  {
    entry: {
      type: "attestation.add",
      repository: "acme",
      path: "pkg/\u00fc-1.0.tgz",
      bundle_sha256: "1e6ed65d77d6364eeaed5a745ba5c4985ae2b700dd85d7cf7f027bdf294a33fc",
      predicate_type: "https://slsa.dev/provenance/v1",
    },
    json:
      '{"bundle_sha256":"1e6ed65d77d6364eeaed5a745ba5c4985ae2b700dd85d7cf7f027bdf294a33fc","path":"pkg/\u00fc-1.0.tgz",' +
      '"predicate_type":"https://slsa.dev/provenance/v1","repository":"acme","type":"attestation.add"}',
    leaf: "347cf6ec3244ae75d415233dd2fe1f62a93d6f9331b543ac90988b7af3ae0a7f",
  },
  {
    entry: {
      type: "metadata.publish",
      repository: "acme",
      role: "timestamp",
      version: 42,
      sha256: "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
      length: 1234,
    },
    json: '{"length":1234,"repository":"acme","role":"timestamp","sha256":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","type":"metadata.publish","version":42}',
    leaf: "483490fdfb71da9b5f1957f9cdb6ee1fbb6bf54e3f8d444d8bcbcb5c79be48d0",
  },
  {
    entry: {
      type: "root.change",
      repository: "acme",
      version: 2,
      sha256: "4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2",
    },
    json: '{"repository":"acme","sha256":"4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2","type":"root.change","version":2}',
    leaf: "de1d76d87ac2949b42e96e5b90d8c2c32a5e9db3ecbe7807dd0b795f88e54d56",
  },
];

describe("log entries", () => {
  it.each(VECTORS.map((v) => [v.entry.type, v] as const))("%s: canonical bytes and leaf hash", async (_type, v) => {
    const bytes = encodeEntry(v.entry);
    expect(fromUtf8(bytes)).toBe(v.json);
    expect(toHex(await entryLeafHash(v.entry))).toBe(v.leaf);
    expect(decodeEntry(bytes)).toEqual(v.entry);
  });

  it("every type has an example", () => {
    expect(new Set(VECTORS.map((v) => v.entry.type)).size).toBe(5);
    expect(ENTRY_TYPES).toHaveLength(9);
    for (const type of ["target.remove", "target.unyank", "target.quarantine", "target.release"] as const) {
      const entry = { ...defined(VECTORS[0]).entry, type } as LogEntry;
      expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    }
  });

  it("decoding accepts only the canonical encoding", () => {
    const v = defined(VECTORS[0]);
    for (const bad of [
      v.json.replace('{"hashes"', '{ "hashes"'), // white space
      `${v.json}\n`,
      `{"type":"target.add","repository":"acme","path":"pkg/a-1.0.tgz","hashes":{"sha256":"${SHA256_HELLO}"}}`, // key order
      v.json.replace('"repository":"acme",', '"repository":"acme","repository":"acme",'), // duplicate key
      v.json.replace("pkg/a", "pkg\\/a"), // escaped solidus
      v.json.replace("acme", "\\u0061cme"),
    ]) {
      expect((caught(() => decodeEntry(utf8(bad))) as LogError).code, bad).toBe("invalid_entry");
    }
    expect((caught(() => decodeEntry(new Uint8Array([0xff]))) as LogError).code).toBe("invalid_entry");
    expect((caught(() => decodeEntry(utf8("[]"))) as LogError).code).toBe("invalid_entry");
    const withFloat = defined(VECTORS[3]).json.replace('"version":42', '"version":42.0');
    expect((caught(() => decodeEntry(utf8(withFloat))) as LogError).code).toBe("invalid_entry");
  });

  it("refuses invalid fields, unknown fields and unknown types", () => {
    const base = defined(VECTORS[0]).entry as Record<string, unknown>;
    const meta = defined(VECTORS[3]).entry as Record<string, unknown>;
    for (const bad of [
      { ...base, type: "target.delete" },
      { ...base, extra: 1 },
      { ...base, repository: "Acme" },
      { ...base, repository: "" },
      { ...base, path: "/abs" },
      { ...base, path: "a/../b" },
      { ...base, path: "a//b" },
      { ...base, hashes: {} },
      { ...base, hashes: { sha256: SHA256_HELLO.toUpperCase() } },
      { ...base, hashes: { sha256: SHA256_HELLO, md5: "00" } },
      { ...base, path: undefined },
      { ...meta, version: 0 },
      { ...meta, version: 1.5 },
      { ...meta, length: -1 },
      { ...meta, role: "" },
      { ...meta, role: "../root" },
      { ...meta, sha256: "00" },
      { type: "root.change", repository: "acme", version: 2 },
      { ...defined(VECTORS[2]).entry, predicate_type: "has space" },
      { ...defined(VECTORS[2]).entry, hashes: { sha256: SHA256_HELLO } },
    ]) {
      expect((caught(() => encodeEntry(bad as LogEntry)) as LogError).code, JSON.stringify(bad)).toBe("invalid_entry");
    }
  });

  it("an entry fits a uint16 length prefix", () => {
    // The longest target path: MAX_TARGET_PATH_BYTES of UTF-8, in characters JSON does not escape.
    const long = { ...defined(VECTORS[2]).entry, path: `p/${"é".repeat((MAX_TARGET_PATH_BYTES - 2) / 2)}` } as LogEntry;
    expect(encodeEntry(long).length).toBeLessThan(0xffff);
  });

  it("property: decode(encode(e)) = e for generated target entries, and the bytes are stable", () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,11}$/).filter((s) => s !== "." && s !== "..");
    const entry = fc.record({
      type: fc.constantFrom("target.add", "target.remove", "target.yank", "target.unyank"),
      repository: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/),
      path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/")),
      hashes: fc.record({ sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex) }),
    });
    fc.assert(
      fc.property(entry, (e) => {
        const bytes = encodeEntry(e as LogEntry);
        expect(decodeEntry(bytes)).toEqual(e);
        expect(encodeEntry(decodeEntry(bytes))).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it("a target entry validated already encodes to encodeEntry's bytes; one of another shape is refused", () => {
    for (const v of VECTORS.slice(0, 2)) {
      expect(encodeValidatedTargetEntry(v.entry as TargetLogEntry)).toEqual(encodeEntry(v.entry));
    }
    const unicode = { ...defined(VECTORS[0]).entry, path: "pkg/\u00fc/\u{1f600}.tgz" } as TargetLogEntry;
    expect(fromUtf8(encodeValidatedTargetEntry(unicode))).toBe(fromUtf8(encodeEntry(unicode)));
    const base = defined(VECTORS[0]).entry as Record<string, unknown>;
    for (const bad of [
      { ...base, type: "target.delete" },
      { ...base, type: "attestation.add" },
      { ...base, extra: 1 },
      { ...base, path: undefined },
      { ...base, path: 7 },
      { ...base, hashes: {} },
      { ...base, hashes: { sha256: SHA256_HELLO, md5: "00" } },
      { type: "target.add", repository: "acme", hashes: { sha256: SHA256_HELLO } },
    ]) {
      expect(
        (caught(() => encodeValidatedTargetEntry(bad as TargetLogEntry)) as LogError).code,
        JSON.stringify(bad),
      ).toBe("invalid_entry");
    }
  });
  it("property: a valid target entry validated already encodes to encodeEntry's bytes, whatever its characters", () => {
    const segment = fc.string({
      unit: fc.oneof(
        fc.constantFrom("a", "Z", "0", '"', "\\", "é", "\u{1f600}", "-", "."),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
      ),
      minLength: 1,
      maxLength: 6,
    });
    const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toHex);
    const entry = fc.record({
      type: fc.constantFrom(...TARGET_ENTRY_TYPES),
      repository: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/),
      path: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join("/")),
      hashes: fc.oneof(
        fc.record({ sha256: hex(32) }),
        fc.record({ sha512: hex(64) }),
        fc.record({ sha256: hex(32), sha512: hex(64) }),
      ),
    });
    let valid = 0;
    fc.assert(
      fc.property(entry, (e) => {
        let expected: Uint8Array;
        try {
          expected = encodeEntry(e as LogEntry);
        } catch {
          return; // not a valid entry: nothing validated it, so it never reaches encodeValidatedTargetEntry
        }
        valid++;
        expect(fromUtf8(encodeValidatedTargetEntry(e as TargetLogEntry))).toBe(fromUtf8(expected));
      }),
      { numRuns: 400 },
    );
    expect(valid).toBeGreaterThan(100);
  });
  it("a metadata.publish entry is written directly, to encodeEntry's bytes (the independent vector's too)", () => {
    const vector = defined(VECTORS.find((v) => v.entry.type === "metadata.publish"));
    expect(fromUtf8(encodeMetadataEntry(vector.entry as MetadataEntry))).toBe(vector.json);
    const edges: MetadataEntry[] = [
      { ...(vector.entry as MetadataEntry), version: 1, length: 0 },
      { ...(vector.entry as MetadataEntry), version: Number.MAX_SAFE_INTEGER, length: Number.MAX_SAFE_INTEGER },
      { ...(vector.entry as MetadataEntry), role: `_${"a.-".repeat(42)}`, repository: `a${"-".repeat(61)}z` },
      { ...(vector.entry as MetadataEntry), role: "bins-3fff", repository: "0" },
    ];
    for (const entry of edges) expect(fromUtf8(encodeMetadataEntry(entry))).toBe(fromUtf8(encodeEntry(entry)));
  });
  it("a metadata.publish entry encodeEntry refuses is refused alike, with the schema's reason", () => {
    const base = defined(VECTORS.find((v) => v.entry.type === "metadata.publish")).entry as Record<string, unknown>;
    for (const bad of [
      { ...base, type: "root.change" },
      { ...base, extra: 1 },
      { ...base, role: undefined },
      { ...base, role: ".hidden" },
      { ...base, role: "a/b" },
      { ...base, role: "x".repeat(129) },
      { ...base, role: 'a"b' },
      { ...base, repository: "Acme" },
      { ...base, repository: "acme-" },
      { ...base, sha256: "2D711642B726B04401627CA9FBAC32F5C8530FB1903CC4DB02258717921A4881" },
      { ...base, sha256: "00" },
      { ...base, version: 0 },
      { ...base, version: 1.5 },
      { ...base, version: "42" },
      { ...base, version: Number.MAX_SAFE_INTEGER + 1 },
      { ...base, length: -1 },
      { ...base, length: null },
    ]) {
      const fast = caught(() => encodeMetadataEntry(bad as MetadataEntry)) as LogError;
      const generic = caught(() => encodeEntry(bad as LogEntry)) as LogError;
      expect(fast.code, JSON.stringify(bad)).toBe("invalid_entry");
      expect(fast.message, JSON.stringify(bad)).toBe(generic.message);
    }
  });
  it("property: a valid metadata.publish entry is written directly to encodeEntry's bytes", () => {
    const entry = fc.record({
      type: fc.constant("metadata.publish" as const),
      repository: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/),
      role: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/),
      version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
      length: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    });
    fc.assert(
      fc.property(entry, (e) => {
        expect(fromUtf8(encodeMetadataEntry(e))).toBe(fromUtf8(encodeEntry(e)));
      }),
      { numRuns: 400 },
    );
  });
});
