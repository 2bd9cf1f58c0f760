import { describe, expect, it } from "vitest";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { fromHex, fromUtf8, toHex, utf8 } from "../../src/lib/bytes.ts";
import { InvalidMetadataError, ThresholdError } from "../../src/tuf/errors.ts";
import type { Key } from "../../src/tuf/key.ts";
import {
  type Envelope,
  formatExpires,
  parseEnvelope,
  type RoleKeys,
  SPEC_VERSION,
  serialize,
  sign,
  verifyThreshold,
} from "../../src/tuf/metadata.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import {
  GENERATED_ROOT,
  GENERATED_SEEDS,
  GENERATED_SNAPSHOT,
  GENERATED_TARGETS,
  GENERATED_TIMESTAMP,
  REPOSITORY_DATA_ROOT,
  REPOSITORY_DATA_SNAPSHOT,
  REPOSITORY_DATA_TIMESTAMP,
} from "./fixtures/python-tuf.ts";
import { SIGSTORE_ROOT_14, SIGSTORE_ROOT_15 } from "./fixtures/sigstore.ts";
import {
  caught,
  clone,
  EcdsaP256Signer,
  ed25519Signer,
  ed25519Signers,
  envelopeOf,
  rejection,
  replaceOnce,
} from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

type RootSigned = { keys: Record<string, Key>; roles: Record<string, RoleKeys> };
const rootOf = (text: string) => envelopeOf(text, "root").signed as unknown as RootSigned;

describe("formatExpires", () => {
  it("writes UTC to the second with a Z, dropping milliseconds", () => {
    expect(formatExpires(new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 999)))).toBe("2030-01-01T00:00:00Z");
    expect(formatExpires(new Date("2026-11-22T03:12:52.123+02:00"))).toBe("2026-11-22T01:12:52Z");
    expect(formatExpires(new Date(0))).toBe("1970-01-01T00:00:00Z");
  });
});

describe("sign and serialize", () => {
  const signed = {
    _type: "timestamp",
    spec_version: SPEC_VERSION,
    version: 7,
    expires: "2030-01-01T00:00:00Z",
    meta: {},
  };

  it("produces bytes that parse back to the same envelope and verify", async () => {
    const a = await ed25519Signer(1);
    const b = await EcdsaP256Signer.generate();
    const file = await sign(signed, [a, b]);
    expect(file.envelope.signed).toBe(signed);
    expect(file.envelope.signatures.map((s) => s.keyid)).toEqual([a.keyid, b.keyid]);
    const parsed = parseEnvelope(file.bytes, "timestamp");
    expect(parsed).toEqual(file.envelope);
    const keys = { [a.keyid]: a.key, [b.keyid]: b.key };
    expect(
      (await verifyThreshold(parsed, { keyids: [a.keyid, b.keyid], threshold: 2 }, keys, "timestamp")).sort(),
    ).toEqual([a.keyid, b.keyid].sort());
  });

  it("signs the canonical bytes of `signed` (a raw ed25519 check)", async () => {
    const a = await ed25519Signer(2);
    const file = await sign(signed, [a]);
    const expected = toHex(await a.sign(canonicalBytes(signed)));
    expect(defined(file.envelope.signatures[0]).sig).toBe(expected); // ed25519 is deterministic
  });

  it("reproduces python-tuf's published signature over its generated root", async () => {
    // python-tuf tests/generated_data/generate_md.py signs root_with_ed25519.json
    // with seed GENERATED_SEEDS[0]; ed25519 being deterministic, signing the same
    // canonical bytes must give the very same signature.
    const published = envelopeOf(GENERATED_ROOT, "root");
    const signer = await Ed25519Signer.fromSeed(fromHex(GENERATED_SEEDS[0]));
    const file = await sign(published.signed, [signer]);
    expect(defined(file.envelope.signatures[0]).sig).toBe(defined(published.signatures[0]).sig);
  });

  it("serialize writes signatures then signed, as plain JSON", () => {
    const file = serialize({ signed: { _type: "root", a: 1 }, signatures: [{ keyid: "ab".repeat(32), sig: "cd" }] });
    expect(fromUtf8(file.bytes)).toBe(
      `{"signatures":[{"keyid":"${"ab".repeat(32)}","sig":"cd"}],"signed":{"_type":"root","a":1}}`,
    );
  });

  it("with no signers, yields an unsigned envelope that no threshold accepts", async () => {
    const file = await sign(signed, []);
    expect(file.envelope.signatures).toEqual([]);
    await expect(verifyThreshold(file.envelope, { keyids: [], threshold: 1 }, {}, "t")).rejects.toThrow(ThresholdError);
  });
});

describe("parseEnvelope", () => {
  const good = JSON.stringify({
    signatures: [{ keyid: "ab".repeat(32), sig: "00ff" }],
    signed: { _type: "snapshot", x: 1 },
  });

  it("returns the envelope of well-formed metadata, keeping unknown fields of signed", () => {
    const envelope = parseEnvelope(utf8(good), "snapshot");
    expect(envelope.signed).toEqual({ _type: "snapshot", x: 1 });
    expect(envelope.signatures).toEqual([{ keyid: "ab".repeat(32), sig: "00ff" }]);
  });

  it("rejects another _type", () => {
    const error = caught(() => parseEnvelope(utf8(good), "timestamp"));
    expect(error).toBeInstanceOf(InvalidMetadataError);
    expect(error).toMatchObject({ code: "invalid_metadata" });
    expect(String((error as Error).message)).toContain('"snapshot"');
  });

  it("rejects bytes that are not UTF-8 JSON", () => {
    for (const bytes of [utf8("{"), utf8(""), utf8("not json"), new Uint8Array([0x7b, 0xff, 0x7d])]) {
      expect(() => parseEnvelope(bytes, "snapshot")).toThrow(InvalidMetadataError);
    }
  });

  it("rejects envelopes of the wrong shape", () => {
    const bad: unknown[] = [
      [],
      null,
      { signed: { _type: "snapshot" } },
      { signatures: [] },
      { signatures: {}, signed: { _type: "snapshot" } },
      { signatures: [], signed: "snapshot" },
      { signatures: [], signed: { type: "snapshot" } },
      { signatures: [{ keyid: "AB".repeat(32), sig: "00" }], signed: { _type: "snapshot" } },
      { signatures: [{ keyid: "ab".repeat(31), sig: "00" }], signed: { _type: "snapshot" } },
      { signatures: [{ keyid: "ab".repeat(32), sig: "0G" }], signed: { _type: "snapshot" } },
      { signatures: [{ keyid: "ab".repeat(32), sig: "00".repeat(2049) }], signed: { _type: "snapshot" } },
      { signatures: [{ keyid: "ab".repeat(32) }], signed: { _type: "snapshot" } },
    ];
    for (const value of bad) {
      expect(() => parseEnvelope(utf8(JSON.stringify(value)), "snapshot"), JSON.stringify(value)).toThrow(
        InvalidMetadataError,
      );
    }
  });

  it("parses every published fixture", () => {
    expect(envelopeOf(GENERATED_ROOT, "root").signatures).toHaveLength(1);
    expect(envelopeOf(REPOSITORY_DATA_TIMESTAMP, "timestamp").signatures).toHaveLength(1);
    expect(envelopeOf(SIGSTORE_ROOT_14, "root").signatures).toHaveLength(5);
  });
});

describe("verifyThreshold: behaviour", () => {
  const signed = {
    _type: "targets",
    spec_version: SPEC_VERSION,
    version: 1,
    expires: "2030-01-01T00:00:00Z",
    targets: {},
  };

  async function setup() {
    const signers = await ed25519Signers(1, 2, 3, 4);
    const keys = Object.fromEntries(signers.map((s) => [s.keyid, s.key]));
    const ids = signers.map((s) => s.keyid);
    return { signers, keys, ids };
  }

  it("returns the keyids whose signatures verified when the threshold is met", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, signers.slice(0, 2));
    const role = { keyids: ids.slice(0, 3), threshold: 2 };
    expect((await verifyThreshold(file.envelope, role, keys, "targets")).sort()).toEqual(ids.slice(0, 2).sort());
  });

  it("throws ThresholdError when too few authorised keys signed", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, signers.slice(0, 1));
    const error = await rejection(
      verifyThreshold(file.envelope, { keyids: ids.slice(0, 3), threshold: 2 }, keys, "targets"),
    );
    expect(error).toBeInstanceOf(ThresholdError);
    expect(error).toMatchObject({ code: "threshold_not_met" });
    expect((error as Error).message).toMatch(/^targets: 1 valid signature\(s\).*threshold is 2/);
  });

  it("counts several signatures from one key once", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, [signers[0], signers[0], signers[0]]);
    expect(file.envelope.signatures).toHaveLength(3);
    const role = { keyids: ids, threshold: 2 };
    await expect(verifyThreshold(file.envelope, role, keys, "targets")).rejects.toThrow(ThresholdError);
    expect(await verifyThreshold(file.envelope, { ...role, threshold: 1 }, keys, "targets")).toEqual([ids[0]]);
  });

  it("counts a key whose first signature is bad and a later one good", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, [signers[0]]);
    const good = defined(file.envelope.signatures[0]);
    const envelope = { signed, signatures: [{ keyid: good.keyid, sig: "00".repeat(64) }, good] };
    expect(await verifyThreshold(envelope, { keyids: ids, threshold: 1 }, keys, "targets")).toEqual([ids[0]]);
  });

  it("ignores signatures from keys the role does not list, even if the key is known", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, signers); // all four sign
    const role = { keyids: ids.slice(0, 2), threshold: 3 };
    await expect(verifyThreshold(file.envelope, role, keys, "targets")).rejects.toThrow(ThresholdError);
    expect((await verifyThreshold(file.envelope, { ...role, threshold: 2 }, keys, "targets")).sort()).toEqual(
      ids.slice(0, 2).sort(),
    );
  });

  it("ignores role keyids that are missing from the key map", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, signers.slice(0, 2));
    const partial = { [defined(ids[0])]: defined(keys[defined(ids[0])]) };
    await expect(verifyThreshold(file.envelope, { keyids: ids, threshold: 2 }, partial, "targets")).rejects.toThrow(
      ThresholdError,
    );
  });

  it("ignores malformed hex and a signature made by another key under this keyid", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, signers.slice(0, 2));
    const [first, second] = file.envelope.signatures;
    const envelope = {
      signed,
      signatures: [
        { keyid: defined(first).keyid, sig: "xyz" },
        { keyid: defined(first).keyid, sig: `${defined(first).sig}0` }, // odd length
        { keyid: defined(first).keyid, sig: defined(second).sig }, // valid signature, wrong key
        defined(second),
      ],
    };
    expect(await verifyThreshold(envelope, { keyids: ids, threshold: 1 }, keys, "targets")).toEqual([ids[1]]);
    await expect(verifyThreshold(envelope, { keyids: ids, threshold: 2 }, keys, "targets")).rejects.toThrow(
      ThresholdError,
    );
  });

  it("does not accept a signature over different content", async () => {
    const { signers, keys, ids } = await setup();
    const file = await sign(signed, signers.slice(0, 1));
    const tampered = { ...file.envelope, signed: { ...signed, version: 2 } };
    await expect(verifyThreshold(tampered, { keyids: ids, threshold: 1 }, keys, "targets")).rejects.toThrow(
      ThresholdError,
    );
  });

  it("mixes ed25519 and ECDSA keys in one role", async () => {
    const { signers, keys, ids } = await setup();
    const ecdsa = await EcdsaP256Signer.generate();
    const file = await sign(signed, [signers[0], ecdsa]);
    const role = { keyids: [...ids, ecdsa.keyid], threshold: 2 };
    const valid = await verifyThreshold(file.envelope, role, { ...keys, [ecdsa.keyid]: ecdsa.key }, "targets");
    expect(valid.sort()).toEqual([ids[0], ecdsa.keyid].sort());
  });

  it("skips a signature by a key type it cannot verify instead of failing the whole check", async () => {
    // A role may list a key this code cannot use (here python-tuf's RSA key); a
    // threshold met by the other keys must still be met, in any signature order.
    const { signers, keys, ids } = await setup();
    const rsaId = "4e777de0d275f9d28588dd9a1606cc748e548f9e22b6795b7cb3f63f98035fcb";
    const rsa = defined(rootOf(REPOSITORY_DATA_ROOT).keys[rsaId]);
    const rsaSig = defined(envelopeOf(REPOSITORY_DATA_ROOT, "root").signatures[0]);
    const file = await sign(signed, [signers[0]]);
    const role = { keyids: [rsaId, defined(ids[0])], threshold: 1 };
    const allKeys = { ...keys, [rsaId]: rsa };
    for (const signatures of [
      [rsaSig, ...file.envelope.signatures],
      [...file.envelope.signatures, rsaSig],
    ]) {
      expect(await verifyThreshold({ signed, signatures }, role, allKeys, "targets")).toEqual([ids[0]]);
    }
    await expect(verifyThreshold({ signed, signatures: [rsaSig] }, role, allKeys, "targets")).rejects.toThrow(
      ThresholdError,
    );
  });
});

describe("verifyThreshold: published ed25519 metadata (python-tuf)", () => {
  const root = rootOf(GENERATED_ROOT);
  const cases: { file: string; text: string; role: "root" | "timestamp" | "snapshot" | "targets" }[] = [
    { file: "root_with_ed25519.json", text: GENERATED_ROOT, role: "root" },
    { file: "timestamp_with_ed25519.json", text: GENERATED_TIMESTAMP, role: "timestamp" },
    { file: "snapshot_with_ed25519.json", text: GENERATED_SNAPSHOT, role: "snapshot" },
    { file: "targets_with_ed25519.json", text: GENERATED_TARGETS, role: "targets" },
  ];

  it.each(cases)("accepts $file under the generated root's $role role", async ({ text, role }) => {
    const envelope = envelopeOf(text, role);
    expect(await verifyThreshold(envelope, defined(root.roles[role]), root.keys, role)).toEqual(
      defined(root.roles[role]).keyids,
    );
  });

  it.each(cases)("rejects $file after a one-byte change in signed", async ({ text, role }) => {
    const changed = envelopeOf(replaceOnce(text, '"version": 1', '"version": 2'), role);
    await expect(verifyThreshold(changed, defined(root.roles[role]), root.keys, role)).rejects.toThrow(ThresholdError);
  });

  it("rejects a signature under another role's key", async () => {
    const timestamp = envelopeOf(GENERATED_TIMESTAMP, "timestamp");
    await expect(verifyThreshold(timestamp, defined(root.roles.snapshot), root.keys, "snapshot")).rejects.toThrow(
      ThresholdError,
    );
  });

  it("accepts repository_data's timestamp and snapshot (keys carrying keyid_hash_algorithms)", async () => {
    const rd = rootOf(REPOSITORY_DATA_ROOT);
    for (const [text, role] of [
      [REPOSITORY_DATA_TIMESTAMP, "timestamp"],
      [REPOSITORY_DATA_SNAPSHOT, "snapshot"],
    ] as const) {
      expect(await verifyThreshold(envelopeOf(text, role), defined(rd.roles[role]), rd.keys, role)).toEqual(
        defined(rd.roles[role]).keyids,
      );
      const changed = envelopeOf(
        replaceOnce(text, '"expires": "2030-01-01T00:00:00Z"', '"expires": "2030-01-01T00:00:01Z"'),
        role,
      );
      await expect(verifyThreshold(changed, defined(rd.roles[role]), rd.keys, role)).rejects.toThrow(ThresholdError);
    }
  });
});

describe("verifyThreshold: published ECDSA P-256 metadata (Sigstore root chain)", () => {
  const root14 = rootOf(SIGSTORE_ROOT_14);
  const root15 = rootOf(SIGSTORE_ROOT_15);

  it("accepts 15.root.json under 14's root role, as a client walking the chain does", async () => {
    const envelope = envelopeOf(SIGSTORE_ROOT_15, "root");
    const valid = await verifyThreshold(envelope, defined(root14.roles.root), root14.keys, "root");
    expect(valid.sort()).toEqual([...defined(root14.roles.root).keyids].sort()); // all five signatures verify
  });

  it("accepts 15.root.json under its own root role", async () => {
    const envelope = envelopeOf(SIGSTORE_ROOT_15, "root");
    expect(await verifyThreshold(envelope, defined(root15.roles.root), root15.keys, "root")).toHaveLength(5);
  });

  it("accepts 14.root.json with four signatures, skipping the empty one", async () => {
    const envelope = envelopeOf(SIGSTORE_ROOT_14, "root");
    const empty = defined(envelope.signatures.find((s) => s.sig === ""));
    expect(empty.keyid.startsWith("22f4caec")).toBe(true);
    const valid = await verifyThreshold(envelope, defined(root14.roles.root), root14.keys, "root");
    expect(valid).toHaveLength(4);
    expect(valid).not.toContain(empty.keyid);
    await expect(
      verifyThreshold(envelope, { ...defined(root14.roles.root), threshold: 5 }, root14.keys, "root"),
    ).rejects.toThrow(ThresholdError);
  });

  it("rejects 15.root.json after a one-byte change in signed", async () => {
    const changed = envelopeOf(replaceOnce(SIGSTORE_ROOT_15, '"version": 15', '"version": 16'), "root");
    await expect(verifyThreshold(changed, defined(root14.roles.root), root14.keys, "root")).rejects.toThrow(
      ThresholdError,
    );
  });

  it("rejects it when threshold-many signatures are corrupted", async () => {
    const envelope = clone(envelopeOf(SIGSTORE_ROOT_15, "root")) as Envelope<Record<string, unknown>>;
    for (const s of envelope.signatures.slice(0, 3)) s.sig = s.sig.slice(0, -2) + (s.sig.endsWith("00") ? "01" : "00");
    const valid = await verifyThreshold(envelope, { ...defined(root14.roles.root), threshold: 2 }, root14.keys, "root");
    expect(valid).toHaveLength(2);
    await expect(verifyThreshold(envelope, defined(root14.roles.root), root14.keys, "root")).rejects.toThrow(
      ThresholdError,
    );
  });
});
