/**
 * in-toto statements are parsed with a zod schema; each malformed statement
 * is refused with the message the verifier has always given (the `structure`
 * failure's detail), the first problem in the order _type, predicateType,
 * subject.
 */
import { describe, expect, it } from "vitest";
import { utf8 } from "../../../src/lib/bytes.ts";
import { parseStatement, StatementError } from "../../../src/attestations/statement.ts";

const V1 = "https://in-toto.io/Statement/v1";
const subject = { name: "a.txt", digest: { sha256: "ab" } };
const of = (value: unknown) => utf8(typeof value === "string" ? value : JSON.stringify(value));

describe("parseStatement", () => {
  it("keeps the subjects' names and digests, the predicate type and the predicate", () => {
    const statement = parseStatement(
      of({
        _type: V1,
        subject: [subject, { digest: { sha512: "cd" }, extra: 1 }],
        predicateType: "p",
        predicate: { x: 1 },
      }),
    );
    expect(statement).toEqual({
      type: V1,
      subjects: [subject, { digest: { sha512: "cd" } }],
      predicateType: "p",
      predicate: { x: 1 },
    });
    expect(
      parseStatement(of({ _type: "https://in-toto.io/Statement/v0.1", subject: [subject], predicateType: "p" })).type,
    ).toBe("https://in-toto.io/Statement/v0.1");
  });

  const refusals: Array<[string, unknown, string]> = [
    ["not JSON", "{", "payload is not JSON"],
    ["an array", [], "statement is not an object"],
    ["null", null, "statement is not an object"],
    ["no _type", {}, "unsupported statement _type undefined"],
    [
      "another _type",
      { _type: "https://in-toto.io/Statement/v2", subject: [subject], predicateType: "p" },
      "unsupported statement _type https://in-toto.io/Statement/v2",
    ],
    ["no predicateType", { _type: V1, subject: [subject] }, "statement has no predicateType"],
    ["an empty predicateType", { _type: V1, subject: [subject], predicateType: "" }, "statement has no predicateType"],
    ["a numeric predicateType", { _type: V1, subject: [subject], predicateType: 7 }, "statement has no predicateType"],
    ["no subject", { _type: V1, predicateType: "p" }, "statement has no subject"],
    ["an empty subject list", { _type: V1, subject: [], predicateType: "p" }, "statement has no subject"],
    ["a subject that is not an object", { _type: V1, subject: ["a.txt"], predicateType: "p" }, "malformed subject"],
    [
      "a numeric subject name",
      { _type: V1, subject: [{ name: 1, digest: {} }], predicateType: "p" },
      "malformed subject name",
    ],
    ["no digest", { _type: V1, subject: [{ name: "a" }], predicateType: "p" }, "malformed subject digest"],
    ["a digest list", { _type: V1, subject: [{ digest: ["ab"] }], predicateType: "p" }, "malformed subject digest"],
    [
      "a numeric digest",
      { _type: V1, subject: [{ digest: { sha256: 1 } }], predicateType: "p" },
      "malformed subject digest",
    ],
  ];
  it.each(refusals)("refuses %s", (_, value, message) => {
    expect(() => parseStatement(of(value))).toThrow(new StatementError(message));
  });
});
