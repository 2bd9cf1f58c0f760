import { describe, expect, it } from "vitest";
import {
  addCosignatures,
  cosign,
  cosignatureMessage,
  CosignatureV1Signer,
  CosignatureV1Verifier,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  parseTimestampedSignature,
  signCheckpoint,
  verifierFromKey,
  verifyCosignatures,
} from "../../../src/log/checkpoint.ts";
import { LogError } from "../../../src/log/errors.ts";
import { MemoryTree } from "../../../src/log/merkle.ts";
import {
  Ed25519NoteSigner,
  Ed25519NoteVerifier,
  formatSignatureLine,
  openNote,
  parseNote,
  parseSignatureLine,
  parseVerifierKey,
  SIGNATURE_TYPE_COSIGNATURE_V1,
} from "../../../src/log/note.ts";
import { fromBase64, fromUtf8, toBase64, toHex, utf8 } from "../../../src/lib/bytes.ts";
import { caught, rejection } from "../helpers.ts";
import {
  ARCHE_CHECKPOINT,
  ARCHE_LOG_VKEY,
  C2SP_COSIGNATURE_MESSAGE,
  C2SP_COSIGNED_CHECKPOINT,
  C2SP_NOTE_EXAMPLE,
  FORMATS_COSIG_TIMESTAMP,
  REMORA_WITNESS_VKEY,
} from "./fixtures.ts";
import { defined } from "../../../scripts/lib/defined.ts";

const codeOf = async (p: Promise<unknown>) => ((await rejection(p)) as LogError).code;

describe("tlog-checkpoint body", () => {
  it("parses and re-formats the C2SP example checkpoint", () => {
    const note = parseNote(C2SP_COSIGNED_CHECKPOINT);
    const cp = parseCheckpoint(note.text);
    expect(cp.origin).toBe("example.com/behind-the-sofa");
    expect(cp.size).toBe(20852163);
    expect(toBase64(cp.rootHash)).toBe("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
    expect(cp.extensions).toEqual([]);
    expect(formatCheckpoint(cp)).toBe(note.text);
    expect(note.signatures.map((s) => [s.name, s.keyId.toString(16)])).toEqual([
      ["example.com/behind-the-sofa", "33de0ae"],
      ["witness.example.com/w1", "8d66cf3f"],
    ]);
  });

  it("keeps extension lines", () => {
    const text = "log.example/a\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\next two\n";
    const cp = parseCheckpoint(text);
    expect(cp.size).toBe(0);
    expect(cp.extensions).toEqual(["ext one", "ext two"]);
    expect(formatCheckpoint(cp)).toBe(text);
  });

  it("refuses malformed bodies", () => {
    const root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    for (const bad of [
      `o\n5\n${root}`, // no final newline
      `o\n5\n`,
      `\n5\n${root}\n`,
      `o\n05\n${root}\n`,
      `o\n-5\n${root}\n`,
      `o\n+5\n${root}\n`,
      `o\n5.0\n${root}\n`,
      `o\n 5\n${root}\n`,
      `o\n9007199254740993\n${root}\n`,
      `o\n5\n${root.slice(0, -1)}\n`,
      `o\n5\nAAAA\n`,
      `o\n5\n${root}\n\next\n`,
      `o\n5\n${root}\n\n`,
      `o\t\n5\n${root}\n`,
    ]) {
      expect((caught(() => parseCheckpoint(bad)) as LogError).code, JSON.stringify(bad)).toBe("malformed_checkpoint");
    }
    const rootHash = fromBase64(root);
    expect(() => formatCheckpoint({ origin: "", size: 1, rootHash })).toThrow(LogError);
    expect(() => formatCheckpoint({ origin: "o", size: -1, rootHash })).toThrow(LogError);
    expect(() => formatCheckpoint({ origin: "o", size: 1, rootHash: rootHash.slice(1) })).toThrow(LogError);
    expect(() => formatCheckpoint({ origin: "o", size: 1, rootHash, extensions: [""] })).toThrow(LogError);
    expect(() => formatCheckpoint({ origin: "a\nb", size: 1, rootHash })).toThrow(LogError);
  });
});

describe("tlog-cosignature: published vectors", () => {
  it("the C2SP example cosignature carries the timestamp of the spec's example message", () => {
    const note = parseNote(C2SP_COSIGNED_CHECKPOINT);
    const cosig = defined(note.signatures[1]);
    expect(cosig.keyId).toBe(0x8d66cf3f);
    const { timestamp, signature } = parseTimestampedSignature(cosig.signature);
    expect(timestamp).toBe(C2SP_COSIGNATURE_MESSAGE.timestamp);
    expect(signature).toHaveLength(64);
    expect(fromUtf8(cosignatureMessage(timestamp, note.text))).toBe(C2SP_COSIGNATURE_MESSAGE.message);
  });

  it("reads the timestamp of transparency-dev/formats' TestCoSigV1Timestamp vector", () => {
    const bytes = fromBase64(FORMATS_COSIG_TIMESTAMP.base64);
    expect(toHex(bytes.subarray(0, 4))).toBe("646846b9");
    expect(parseTimestampedSignature(bytes.subarray(4)).timestamp).toBe(FORMATS_COSIG_TIMESTAMP.timestamp);
    // An ordinary Ed25519 note signature (4 + 64 bytes) is not a cosignature.
    expect((caught(() => parseTimestampedSignature(new Uint8Array(64))) as LogError).code).toBe("malformed_note");
  });

  it("parses a real witness vkey of type 0x04 and refuses it as an Ed25519 note key", async () => {
    const key = await parseVerifierKey(REMORA_WITNESS_VKEY);
    expect(key.type).toBe(SIGNATURE_TYPE_COSIGNATURE_V1);
    expect(key.keyId).toBe(0xda77ade7);
    expect(await verifierFromKey(REMORA_WITNESS_VKEY)).toBeInstanceOf(CosignatureV1Verifier);
    expect(await codeOf(Ed25519NoteVerifier.fromKey(REMORA_WITNESS_VKEY))).toBe("malformed_key");
    expect(await codeOf(CosignatureV1Verifier.fromKey(ARCHE_LOG_VKEY))).toBe("malformed_key");
  });

  it("verifies a real CT log checkpoint and its remora.n621.de cosignature; other lines are kept and ignored", async () => {
    const log = await verifierFromKey(ARCHE_LOG_VKEY);
    const remora = await CosignatureV1Verifier.fromKey(REMORA_WITNESS_VKEY);
    const opened = await openCheckpoint(ARCHE_CHECKPOINT, log, {
      origin: "arche2025h1.staging.ct.transparency.dev",
      witnesses: [remora],
    });
    expect(opened.checkpoint.size).toBe(1432088532);
    expect(toBase64(opened.checkpoint.rootHash)).toBe("U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=");
    expect(opened.note.verified.map((s) => s.keyId.toString(16))).toEqual(["ba2f06c0"]);
    // The RFC 6962 signature (type 0x05, same name, other key ID) and four cosignatures are unverified, not errors.
    expect(opened.note.unverified).toHaveLength(5);
    expect(opened.note.signatures).toHaveLength(6);
    expect(opened.cosignatures).toEqual([{ name: "remora.n621.de", keyId: 0xda77ade7, timestamp: 1779573024 }]);

    // Both keys as plain note verifiers work too.
    expect((await openNote(ARCHE_CHECKPOINT, [log, remora])).verified).toHaveLength(2);

    // Clobbered: the log signature fails, and so does the cosignature over the same text.
    const clobbered = ARCHE_CHECKPOINT.replace("\n1432088532\n", "\n42\n");
    expect(await codeOf(openCheckpoint(clobbered, log))).toBe("invalid_signature");
    expect(await codeOf(verifyCosignatures(clobbered, [remora]))).toBe("invalid_signature");
    expect(await codeOf(openCheckpoint(ARCHE_CHECKPOINT, log, { origin: "another.example/log" }))).toBe(
      "malformed_checkpoint",
    );
    const stranger = await Ed25519NoteVerifier.fromKey(C2SP_NOTE_EXAMPLE.vkey);
    expect(await codeOf(openCheckpoint(ARCHE_CHECKPOINT, stranger))).toBe("unverified_note");
  });
});

describe("signing and cosigning checkpoints", () => {
  // Independent vectors: Python 3 `cryptography` (Ed25519 is deterministic), seeds 32 × 0x01 (log) and 32 × 0x02 (witness):
  //   sk = Ed25519PrivateKey.from_private_bytes(bytes([1])*32); pub = raw public key
  //   key ID = sha256(name + b"\n" + type + pub)[:4]; log line = b64(id + sk.sign(body))
  //   witness line = b64(id + struct.pack(">Q", 1679315147) + sk.sign(b"cosignature/v1\ntime 1679315147\n" + body))
  const body = parseNote(C2SP_COSIGNED_CHECKPOINT).text;
  const LOG_VKEY = "example.com/behind-the-sofa+6ded73a9+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
  const WITNESS_VKEY = "witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";
  const LOG_LINE =
    "\u2014 example.com/behind-the-sofa be1zqQx8hYrJJIfiWfY39ShElJ74dPrOjXSgJJ2qG3vny2U7JyHN2kKCWb5H5e2MfxP7My2OyDRrDvCH/RbVubiZ8AE=\n";
  const WITNESS_LINE =
    "\u2014 witness.example/w1 3xwKNQAAAABkGFDLUwBLV8e4tjvb6qEHiNTQjDZIX+7tvd038taw9A7W/cQ7ZhSah0uJMOI6CTPez5qwHtE49MrkWhU349mtYmi3Dw==\n";

  it("produces the independently computed log signature and cosignature", async () => {
    const log = await Ed25519NoteSigner.fromSeed("example.com/behind-the-sofa", new Uint8Array(32).fill(1));
    const witness = await CosignatureV1Signer.fromSeed(
      "witness.example/w1",
      new Uint8Array(32).fill(2),
      () => 1679315147,
    );
    expect(log.verifierKey).toBe(LOG_VKEY);
    expect(witness.verifierKey).toBe(WITNESS_VKEY);
    const signed = await signCheckpoint(parseCheckpoint(body), log);
    expect(signed).toBe(`${body}\n${LOG_LINE}`);
    const cosignature = await cosign(signed, witness);
    expect(formatSignatureLine(cosignature)).toBe(WITNESS_LINE);
    const cosigned = addCosignatures(signed, [cosignature]);
    expect(cosigned).toBe(`${body}\n${LOG_LINE}${WITNESS_LINE}`);

    const opened = await openCheckpoint(cosigned, await verifierFromKey(LOG_VKEY), {
      witnesses: [await CosignatureV1Verifier.fromKey(WITNESS_VKEY)],
    });
    expect(opened.cosignatures).toEqual([{ name: "witness.example/w1", keyId: 0xdf1c0a35, timestamp: 1679315147 }]);
  });

  it("a cosignature covers the extension lines and the timestamp", async () => {
    const log = await Ed25519NoteSigner.fromSeed("log.example/x", new Uint8Array(32).fill(3));
    let now = 1_700_000_000;
    const witness = await CosignatureV1Signer.fromSeed("w.example/1", new Uint8Array(32).fill(4), () => now);
    const tree = new MemoryTree();
    for (const e of ["a", "b", "c"]) await tree.appendEntry(utf8(e));
    const cp = { origin: "log.example/x", size: tree.size, rootHash: await tree.root(), extensions: ["hint 7"] };
    const signed = await signCheckpoint(cp, log);
    const line = await cosign(signed, witness);
    expect(line.signature).toHaveLength(8 + 64);
    const witnesses = [await witness.verifier()];
    expect(await verifyCosignatures(addCosignatures(signed, [line]), witnesses)).toEqual([
      { name: "w.example/1", keyId: witness.keyId, timestamp: 1_700_000_000 },
    ]);

    // Moving the cosignature to a checkpoint with another extension line breaks it.
    const other = await signCheckpoint({ ...cp, extensions: ["hint 8"] }, log);
    expect(await codeOf(verifyCosignatures(addCosignatures(other, [line]), witnesses))).toBe("invalid_signature");
    // Changing the timestamp bytes breaks it.
    const shifted = line.signature.slice();
    shifted[7] = defined(shifted[7]) ^ 1;
    expect(
      await codeOf(verifyCosignatures(addCosignatures(signed, [{ ...line, signature: shifted }]), witnesses)),
    ).toBe("invalid_signature");
    // A later cosignature by the same witness is another line; both verify, one result per witness.
    now += 60;
    const later = await cosign(signed, witness);
    const both = addCosignatures(signed, [line, later]);
    expect(parseNote(both).signatures).toHaveLength(3);
    expect(await verifyCosignatures(both, witnesses)).toHaveLength(1);
    // A cosignature is not a note signature: the witness key as a 0x01 key does not verify it.
    const asEd25519 = await Ed25519NoteVerifier.create(witness.name, witness.publicKey);
    expect(asEd25519.keyId).not.toBe(witness.keyId);
    expect(await asEd25519.verify(utf8(parseNote(signed).text), line.signature)).toBe(false);
  });

  it("a parsed signature line round-trips", () => {
    const sig = parseSignatureLine(WITNESS_LINE.slice(0, -1));
    expect(formatSignatureLine(sig)).toBe(WITNESS_LINE);
    expect(parseTimestampedSignature(sig.signature).timestamp).toBe(1679315147);
  });
});
