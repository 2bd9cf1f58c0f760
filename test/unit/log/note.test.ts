import { describe, expect, it } from "vitest";
import type { LogError } from "../../../src/log/errors.ts";
import {
  addSignatures,
  Ed25519NoteSigner,
  Ed25519NoteVerifier,
  formatNote,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
  MAX_SIGNATURES,
  type NoteVerifier,
  noteKeyId,
  openNote,
  parseNote,
  parseSignatureLine,
  parseVerifierKey,
  SIGNATURE_TYPE_ED25519,
  signNote,
} from "../../../src/log/note.ts";
import { fromBase64, toHex, utf8 } from "../../../src/lib/bytes.ts";
import { caught, rejection } from "../helpers.ts";
import { C2SP_NOTE_EXAMPLE, GO_NOTE } from "./fixtures.ts";
import { defined } from "../../../scripts/lib/defined.ts";

const codeOf = async (p: Promise<unknown>) => ((await rejection(p)) as LogError).code;

describe("signed-note: the C2SP example", () => {
  it("parses the example verifier key and verifies the example note", async () => {
    const key = await parseVerifierKey(C2SP_NOTE_EXAMPLE.vkey);
    expect(key).toMatchObject({ name: "example.com/foo", keyId: 0x530d903a, type: SIGNATURE_TYPE_ED25519 });
    expect(toHex(key.publicKey)).toBe("e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4");
    expect(await noteKeyId(key.name, key.type, key.publicKey)).toBe(0x530d903a);
    expect(await formatVerifierKey(key.name, key.type, key.publicKey)).toBe(C2SP_NOTE_EXAMPLE.vkey);

    const opened = await openNote(C2SP_NOTE_EXAMPLE.note, [await Ed25519NoteVerifier.fromKey(C2SP_NOTE_EXAMPLE.vkey)]);
    expect(opened.text).toBe("This is an example message.\n");
    expect(opened.verified).toHaveLength(1);
    expect(defined(opened.verified[0]).name).toBe("example.com/foo");
    expect(opened.unverified).toEqual([]);
    expect(formatNote(opened)).toBe(C2SP_NOTE_EXAMPLE.note);
  });

  it("the same bytes are a note whether given as a string or as UTF-8", async () => {
    const verifier = await Ed25519NoteVerifier.fromKey(C2SP_NOTE_EXAMPLE.vkey);
    const opened = await openNote(utf8(C2SP_NOTE_EXAMPLE.note), [verifier]);
    expect(opened.text).toBe("This is an example message.\n");
    const tampered = C2SP_NOTE_EXAMPLE.note.replace("example message", "example massage");
    expect(await codeOf(openNote(tampered, [verifier]))).toBe("invalid_signature");
  });
});

describe("signed-note: golang.org/x/mod/sumdb/note vectors", () => {
  it("signs exactly as Go does with PeterNeumann's key (Ed25519 is deterministic)", async () => {
    const peter = await Ed25519NoteSigner.fromSignerKey(GO_NOTE.peterSkey);
    expect(peter.name).toBe("PeterNeumann");
    expect(peter.keyId).toBe(0xc74f20a3);
    expect(peter.verifierKey).toBe(GO_NOTE.peterVkey);
    const signed = await signNote(GO_NOTE.text, [peter]);
    expect(signed).toBe(`${GO_NOTE.text}\n${GO_NOTE.peterSig}`);
    // An existing signature by the same key is replaced, not kept.
    const stale = { name: "PeterNeumann", keyId: 0xc74f20a3, signature: fromBase64("BADSIGN=") };
    expect(await signNote(GO_NOTE.text, [peter], [stale])).toBe(signed);
    expect(await codeOf(signNote("abc", [peter]))).toBe("malformed_note");
  });

  it("opens notes signed by Peter and Enoch as TestOpen does", async () => {
    const peter = await Ed25519NoteVerifier.fromKey(GO_NOTE.peterVkey);
    const enoch = await Ed25519NoteVerifier.fromKey(GO_NOTE.enochVkey);
    const msg = `${GO_NOTE.text}\n${GO_NOTE.peterSig}${GO_NOTE.enochSig}`;
    const peterSig = parseSignatureLine(GO_NOTE.peterSig.slice(0, -1));
    const enochSig = parseSignatureLine(GO_NOTE.enochSig.slice(0, -1));
    expect(peterSig.keyId).toBe(0xc74f20a3);
    expect(enochSig.keyId).toBe(0xaf0cfe78);

    const one = await openNote(msg, [peter]);
    expect(one.text).toBe(GO_NOTE.text);
    expect(one.verified).toEqual([peterSig]);
    expect(one.unverified).toEqual([enochSig]);

    const both = await openNote(msg, [peter, enoch]);
    expect(both.verified).toEqual([peterSig, enochSig]);
    expect(both.unverified).toEqual([]);

    expect(await codeOf(openNote(msg, []))).toBe("unverified_note");
    // A duplicated verifier is ambiguous only if a signature needs it.
    expect(await codeOf(openNote(`${GO_NOTE.text}\n${GO_NOTE.enochSig}`, [enoch, peter, enoch]))).toBe(
      "invalid_argument",
    );
    expect((await openNote(`${GO_NOTE.text}\n${GO_NOTE.peterSig}`, [enoch, peter, enoch])).verified).toHaveLength(1);
    // Too many signatures.
    expect(await codeOf(openNote(`${GO_NOTE.text}\n${GO_NOTE.peterSig.repeat(MAX_SIGNATURES + 1)}`, [peter]))).toBe(
      "malformed_note",
    );
    // A signature by a known key that does not verify rejects the note.
    const at = GO_NOTE.peterSig.length - 40;
    const corrupt = `${GO_NOTE.peterSig.slice(0, at)}ABCD${GO_NOTE.peterSig.slice(at)}`;
    expect(await codeOf(openNote(`${GO_NOTE.text}\n${corrupt}`, [peter]))).toBe("invalid_signature");
    // Duplicates collapse; an unknown key's corrupt signature is merely unverified.
    const enochCorrupt = `${GO_NOTE.enochSig.slice(0, at)}ABCD${GO_NOTE.enochSig.slice(at)}`;
    const dup = await openNote(
      `${GO_NOTE.text}\n${GO_NOTE.peterSig}${GO_NOTE.peterSig}${GO_NOTE.enochSig}${GO_NOTE.enochSig}${enochCorrupt}`,
      [peter],
    );
    expect(dup.verified).toEqual([peterSig]);
    expect(dup.unverified).toEqual([enochSig, parseSignatureLine(enochCorrupt.slice(0, -1))]);
  });

  it("refuses the malformed messages of TestOpen", async () => {
    const peter = await Ed25519NoteVerifier.fromKey(GO_NOTE.peterVkey);
    const bad: (string | Uint8Array)[] = [
      GO_NOTE.text,
      `${GO_NOTE.text}\n`,
      `${GO_NOTE.text}\n${GO_NOTE.peterSig.slice(0, -1)}`,
      `\u0001${GO_NOTE.text}\n${GO_NOTE.peterSig}`,
      new Uint8Array([0xff, ...utf8(`${GO_NOTE.text}\n${GO_NOTE.peterSig}`)]),
      `${GO_NOTE.text}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${GO_NOTE.text}\n${GO_NOTE.peterSig}Unexpected line.\n`,
    ];
    for (const msg of bad) {
      expect(await codeOf(openNote(msg, [peter])), String(msg)).toBe("malformed_note");
    }
  });

  it("refuses every substring and every one-character change of PeterNeumann's vkey (TestNewVerifier)", async () => {
    const vkey = GO_NOTE.peterVkey;
    expect((await parseVerifierKey(vkey)).keyId).toBe(0xc74f20a3);
    const variants = new Set<string>();
    for (let i = 0; i <= vkey.length; i++) {
      for (let j = i + 1; j <= vkey.length; j++) if (i !== 0 || j !== vkey.length) variants.add(vkey.slice(i, j));
    }
    for (let i = 0; i < vkey.length; i++) {
      variants.add(vkey.slice(0, i) + String.fromCharCode(vkey.charCodeAt(i) + 1) + vkey.slice(i + 1));
    }
    for (const v of [...variants, ...GO_NOTE.badVkeys]) {
      expect(await codeOf(parseVerifierKey(v)), v).toBe("malformed_key");
    }
  });

  it("refuses every substring and every one-character change of PeterNeumann's signer key (TestNewSigner)", async () => {
    const skey = GO_NOTE.peterSkey;
    const variants = new Set<string>();
    for (let i = 0; i <= skey.length; i++) {
      for (let j = i + 1; j <= skey.length; j++) if (i !== 0 || j !== skey.length) variants.add(skey.slice(i, j));
    }
    for (let i = 0; i < skey.length; i++) {
      variants.add(skey.slice(0, i) + String.fromCharCode(skey.charCodeAt(i) + 1) + skey.slice(i + 1));
    }
    for (const v of variants) {
      expect(await codeOf(Ed25519NoteSigner.fromSignerKey(v)), v).toBe("malformed_key");
    }
  });
});

describe("signed-note: format rules", () => {
  it("round-trips texts with inner blank lines and several signatures, unknown ones kept in order", async () => {
    const a = await Ed25519NoteSigner.fromSeed("a.example/log", new Uint8Array(32).fill(1));
    const b = await Ed25519NoteSigner.fromSeed("b.example/log", new Uint8Array(32).fill(2));
    const text = "first\n\nthird after a blank line\n\n";
    const signed = await signNote(text, [a, b]);
    const note = parseNote(signed);
    expect(note.text).toBe(text);
    expect(note.signatures.map((s) => s.name)).toEqual(["a.example/log", "b.example/log"]);
    expect(formatNote(note)).toBe(signed);
    const opened = await openNote(signed, [await b.verifier()]);
    expect(opened.verified.map((s) => s.name)).toEqual(["b.example/log"]);
    expect(opened.unverified.map((s) => s.name)).toEqual(["a.example/log"]);
    // Same name, other key ID (or the reverse): ignored, not failed.
    const impostor = { name: "b.example/log", keyId: (b.keyId + 1) >>> 0, signature: new Uint8Array(64) };
    const withImpostor = addSignatures(signed, [impostor]);
    expect((await openNote(withImpostor, [await b.verifier()])).unverified).toHaveLength(2);
    expect(addSignatures(withImpostor, [impostor])).toBe(withImpostor);
  });

  it("key names have no spaces (any Unicode space) and no plus", () => {
    for (const name of ["example.com/log", "PeterNeumann", "oid/1.3.6.1.4.1", "ümlaut\u2014dash"]) {
      expect(isValidKeyName(name), name).toBe(true);
    }
    for (const name of ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\u3000b", "a\u0085b", "a\nb"]) {
      expect(isValidKeyName(name), JSON.stringify(name)).toBe(false);
    }
  });

  it("signature lines are strict: em dash, one space, a name, one space, canonical base64 of ≥ 5 bytes", () => {
    const good = GO_NOTE.peterSig.slice(0, -1);
    expect(formatSignatureLine(parseSignatureLine(good))).toBe(GO_NOTE.peterSig);
    for (const bad of [
      good.replace("\u2014", "-"),
      good.replace("\u2014 ", "\u2014  "),
      good.replace(" x08go", "  x08go"),
      good.replace("AM=", "AM"),
      good.replace("AM=", "AN="), // non-zero unused bits
      `${good} `,
      "\u2014 PeterNeumann AAAAAA==", // a key ID and no signature
    ]) {
      expect((caught(() => parseSignatureLine(bad)) as LogError).code, bad).toBe("malformed_note");
    }
  });

  it("a verifier is a NoteVerifier for anything that checks bytes", async () => {
    const always: NoteVerifier = { name: "x", keyId: 1, verify: async () => true };
    const note = `hello\n\n${formatSignatureLine({ name: "x", keyId: 1, signature: new Uint8Array([9]) })}`;
    expect((await openNote(note, [always])).verified).toHaveLength(1);
    expect(await codeOf(Ed25519NoteSigner.fromSeed("bad name", new Uint8Array(32)))).toBe("malformed_key");
    expect(await codeOf(Ed25519NoteSigner.fromSeed("ok", new Uint8Array(31)))).toBe("malformed_key");
  });
});
