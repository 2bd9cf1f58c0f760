/**
 * A repository's attestation policy: which registry conventions it follows
 * (how a target path names an artifact, which client-facing shapes are
 * served), which predicate types are allowed, which publisher identities are
 * trusted, and which Sigstore trusted root verifies bundles.
 */
import { z } from "zod";
import npmKeys from "./trusted-roots/registry.npmjs.org-keys.json";
import publicGood from "./trusted-roots/public-good.json";
import { npmAttestationKeys, type TrustedRoot, trustedRootFromJSON } from "./trusted-root.ts";
import { genericSubjectName, npmSubjectName, pypiSubjectName } from "./statement.ts";

export const AttestationPolicySchema = z
  .object({
    /** generic: subject name = target path; npm: pkg:npm/<name>@<version>; pypi: the distribution file name. */
    flavour: z.enum(["generic", "npm", "pypi"]).default("generic"),
    /** Allowed in-toto predicate types (none listed: any). */
    predicateTypes: z.array(z.string().min(1).max(256)).max(64).optional(),
    /** Trusted publisher identities (none listed: any identity the trusted root vouches for). */
    identities: z
      .array(z.object({ issuer: z.string().min(1).max(512), subjectPattern: z.string().min(1).max(512) }).strict())
      .max(64)
      .optional(),
    /** A Sigstore trusted_root.json; the public-good one if absent. */
    trustedRoot: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type AttestationPolicy = z.infer<typeof AttestationPolicySchema>;

export const DEFAULT_POLICY: AttestationPolicy = AttestationPolicySchema.parse({});

/** The trusted root a policy names, with npm's registry keys (for npm's publish attestations). */
export function policyTrustedRoot(policy: AttestationPolicy): TrustedRoot {
  return sigstoreTrustedRoot(policy.trustedRoot ?? publicGood);
}

/** A Sigstore trusted_root.json, with npm's registry keys (the copy bundled with tuf-edge unless given). */
export function sigstoreTrustedRoot(json: unknown, npmKeysJson: unknown = npmKeys): TrustedRoot {
  return trustedRootFromJSON(json, npmAttestationKeys(npmKeysJson));
}

/** npm tarball paths: `<name>/-/<unscoped name>-<version>.tgz` (as on the npm registry). */
const NPM_TARBALL = /^(?<name>(?:@[^/]+\/)?[^/@][^/]*)\/-\/(?<base>[^/]+)\.tgz$/;

export function npmPackageOf(targetPath: string): { name: string; version: string } | null {
  const match = NPM_TARBALL.exec(targetPath);
  if (!match?.groups) return null;
  const { name, base } = match.groups as { name: string; base: string };
  const unscoped = name.includes("/") ? name.slice(name.indexOf("/") + 1) : name;
  if (!base.startsWith(`${unscoped}-`)) return null;
  return { name, version: base.slice(unscoped.length + 1) };
}

export function npmTarballPath(name: string, version: string): string {
  const unscoped = name.includes("/") ? name.slice(name.indexOf("/") + 1) : name;
  return `${name}/-/${unscoped}-${version}.tgz`;
}

/** The in-toto subject name an attestation about `targetPath` must carry, or null if the path does not follow the flavour. */
export function expectedSubjectName(policy: AttestationPolicy, targetPath: string): string | null {
  switch (policy.flavour) {
    case "generic":
      return genericSubjectName(targetPath);
    case "npm": {
      const pkg = npmPackageOf(targetPath);
      return pkg ? npmSubjectName(pkg.name, pkg.version) : null;
    }
    case "pypi":
      return pypiSubjectName(targetPath.slice(targetPath.lastIndexOf("/") + 1));
  }
}
