/**
 * DSSE pre-authentication encoding and in-toto statements (v0.1 and v1),
 * plus the rules that tie a statement's subjects to an artifact.
 */
import { z } from "zod";
import { concatBytes, fromUtf8, utf8 } from "../lib/bytes.ts";

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes, decimal. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const type = utf8(payloadType);
  return concatBytes(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload);
}

export const STATEMENT_TYPES = ["https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"] as const;

export interface Subject {
  readonly name?: string;
  /** Algorithm name → lowercase hex, as the statement gives them. */
  readonly digest: Readonly<Record<string, string>>;
}

export interface Statement {
  readonly type: string;
  readonly subjects: readonly Subject[];
  readonly predicateType: string;
  readonly predicate?: unknown;
}

export class StatementError extends Error {
  override name = "StatementError";
}

const SubjectSchema = z.object(
  {
    name: z.string({ error: "malformed subject name" }).optional(),
    digest: z.record(z.string(), z.string({ error: "malformed subject digest" }), {
      error: "malformed subject digest",
    }),
  },
  { error: "malformed subject" },
);

/** Fields in the order they are checked: the first failing one names the problem. */
const StatementSchema = z.looseObject(
  {
    _type: z.enum(STATEMENT_TYPES, { error: (issue) => `unsupported statement _type ${String(issue.input)}` }),
    predicateType: z
      .string({ error: "statement has no predicateType" })
      .min(1, { error: "statement has no predicateType" }),
    subject: z
      .array(SubjectSchema, { error: "statement has no subject" })
      .min(1, { error: "statement has no subject" }),
    predicate: z.unknown().optional(),
  },
  { error: "statement is not an object" },
);

export function parseStatement(payload: Uint8Array): Statement {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(payload));
  } catch {
    throw new StatementError("payload is not JSON");
  }
  const parsed = StatementSchema.safeParse(json);
  if (!parsed.success) throw new StatementError(parsed.error.issues[0]?.message ?? "malformed statement");
  const s = parsed.data;
  return { type: s._type, subjects: s.subject, predicateType: s.predicateType, predicate: s.predicate };
}

export interface ArtifactDigest {
  /** Lowercase or uppercase hex. */
  readonly sha256?: string;
  readonly sha384?: string;
  readonly sha512?: string;
}

/**
 * Whether `subject` is about the artifact: it shares at least one of
 * sha256/sha512 with `digest`, and every shared algorithm agrees.
 */
export function subjectMatchesDigest(subject: Subject, digest: ArtifactDigest): boolean {
  let shared = 0;
  for (const alg of ["sha256", "sha384", "sha512"] as const) {
    const want = digest[alg];
    const have = subject.digest[alg];
    if (want === undefined || have === undefined) continue;
    if (have.toLowerCase() !== want.toLowerCase()) return false;
    shared++;
  }
  return shared > 0;
}

// ---------------------------------------------------------------------------
// Subject names by ecosystem

/** PyPI (PEP 740): the subject name is the distribution's file name. */
export function pypiSubjectName(distributionFilename: string): string {
  return distributionFilename;
}

/**
 * npm: the package URL `pkg:npm/<name>@<version>`, with a scope's "@"
 * percent-encoded (`pkg:npm/%40scope/name@1.0.0`), as npm's provenance and
 * publish attestations write it.
 */
export function npmSubjectName(packageName: string, version: string): string {
  const name = packageName.startsWith("@") ? `%40${packageName.slice(1)}` : packageName;
  return `pkg:npm/${name}@${version}`;
}

/** Anything else: the TUF target path. */
export function genericSubjectName(targetPath: string): string {
  return targetPath;
}

export type SubjectNameRule =
  | { readonly ecosystem: "pypi"; readonly filename: string }
  | { readonly ecosystem: "npm"; readonly name: string; readonly version: string }
  | { readonly ecosystem: "generic"; readonly targetPath: string };

/** The subject name an attestation for this artifact must carry. */
export function subjectNameFor(rule: SubjectNameRule): string {
  switch (rule.ecosystem) {
    case "pypi":
      return pypiSubjectName(rule.filename);
    case "npm":
      return npmSubjectName(rule.name, rule.version);
    case "generic":
      return genericSubjectName(rule.targetPath);
  }
}
