/**
 * Sigstore bundle verification for tuf-edge: decides offline, in the Worker,
 * whether a bundle (or a PEP 740 / npm attestation) is genuine and about a
 * given artifact. See verify.ts for the checks and their failure codes.
 */
export { bundleFromPep740, npmAttestations, parseBundle, StructureError, type ParsedBundle } from "./bundle.ts";
export {
  genericSubjectName,
  npmSubjectName,
  pypiSubjectName,
  subjectNameFor,
  type ArtifactDigest,
  type Statement,
  type Subject,
  type SubjectNameRule,
} from "./statement.ts";
export {
  npmAttestationKeys,
  trustedRootFromJSON,
  TrustedRootError,
  type TrustedKey,
  type TrustedRoot,
} from "./trusted-root.ts";
export {
  artifactDigest,
  verifyBundle,
  type Expectation,
  type RejectionCode,
  type IdentityPolicy,
  type Rejected,
  type BundleSigner,
  type Verdict,
  type Verified,
} from "./verify.ts";
