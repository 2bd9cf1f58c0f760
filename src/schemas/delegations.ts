/**
 * Bodies of the delegation admin API (src/routes/delegations.ts). Names,
 * patterns and prefixes are checked here, so the repository object only
 * checks what depends on its state (the parent, the name being free).
 */
import { z } from "zod";
import { MAX_PATTERNS, patternProblem, TOP_LEVEL_ROLE_NAMES } from "../tuf/delegations.ts";
import { isSupportedKey, KeySchema } from "../tuf/key.ts";
import { MAX_OFFLINE_ROLE_BYTES } from "../tuf/offline-role.ts";
import { SignatureSchema } from "../tuf/metadata.ts";
import { MAX_OFFLINE_BINS } from "../tuf/offline-bins.ts";

export { MAX_OFFLINE_ROLE_BYTES };
import { BinCountSchema } from "./bin-count.ts";

/** A delegation's name: a role name and a metadata file name, so lower-case letters, digits and - only. */
export const DELEGATION_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export const DelegationNameSchema = z
  .string()
  .regex(DELEGATION_NAME, "a delegation name is 1–64 of a-z, 0-9 and -, not starting or ending with -")
  .refine((n) => !TOP_LEVEL_ROLE_NAMES.includes(n), "a delegation does not take a top-level role's name")
  .refine(
    (n) => n !== "bins" && !n.startsWith("bins-"),
    'names "bins" and "bins-…" are the hash bins\' (the catch-all role and the top-level bins)',
  );

const PatternSchema = z.string().superRefine((p, ctx) => {
  const problem = patternProblem(p);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const PrefixSchema = z.string().regex(/^[0-9a-f]{1,64}$/, "a path hash prefix is 1–64 lower-case hex digits");

const unique = (list: string[]) => new Set(list).size === list.length;

/** The public keys of people who sign a role offline (1–32 TUF key objects, Ed25519 or ECDSA P-256). */
export const SigningKeysSchema = z
  .array(KeySchema.refine(isSupportedKey, "a key is ed25519 or ecdsa-sha2-nistp256"))
  .min(1)
  .max(32);

export const DelegationSpecSchema = z
  .object({
    name: DelegationNameSchema,
    /** The role that delegates: "targets" or another delegation (nested). */
    parent: z.union([z.literal("targets"), DelegationNameSchema]).default("targets"),
    /** TUF path patterns (python-tuf's is_delegated_path semantics, the portable subset). */
    paths: z.array(PatternSchema).min(1).max(MAX_PATTERNS).refine(unique, "each pattern once").optional(),
    /** Or hex prefixes of the SHA-256 of the target path. */
    path_hash_prefixes: z.array(PrefixSchema).min(1).max(256).refine(unique, "each prefix once").optional(),
    /**
     * A terminating delegation ends a client's search for the paths it claims.
     * Default: false for an online delegation; an offline one is always
     * terminating (see below).
     */
    terminating: z.boolean().optional(),
    /** Hash bins inside the delegation (TAP 15): a power of two from 2 to 16,384. */
    bins: BinCountSchema.optional(),
    /** Where among the parent's delegations it goes (0 = searched first); default last. */
    position: z.number().int().min(0).max(255).optional(),
    /**
     * Who signs it. Online: the service, with the online key, like the bins.
     * Offline: its owners, with `keys` (a `threshold` of them); the service never signs it.
     */
    signing: z.enum(["online", "offline"]).default("online"),
    /** An offline delegation's public keys (Ed25519 or ECDSA P-256, as TUF key objects). */
    keys: SigningKeysSchema.optional(),
    /** How many of `keys` must sign each version of an offline delegation. */
    threshold: z.number().int().min(1).max(32).optional(),
    /** An offline delegation's version 1, signed by its owners: the exact JSON text of the envelope. */
    metadata: z.string().max(MAX_OFFLINE_ROLE_BYTES).optional(),
    /**
     * An offline delegation with `bins`: each bin's version 1 (empty), signed by its owners, in bin order
     * (src/tuf/offline-bins.ts; `metadata` is then the role that delegates to them).
     */
    binsMetadata: z.array(z.string().max(MAX_OFFLINE_ROLE_BYTES)).max(MAX_OFFLINE_BINS).optional(),
  })
  .strict()
  .refine(
    (s) => (s.paths === undefined) !== (s.path_hash_prefixes === undefined),
    "a delegation lists exactly one of paths and path_hash_prefixes",
  )
  .refine(
    (s) =>
      s.signing === "offline"
        ? s.keys !== undefined && s.threshold !== undefined && s.metadata !== undefined
        : s.keys === undefined && s.threshold === undefined && s.metadata === undefined && s.binsMetadata === undefined,
    "an offline delegation has keys, threshold and metadata (its signed version 1); an online one has none of them",
  )
  .refine(
    (s) =>
      s.signing !== "offline" ||
      (s.bins === undefined
        ? s.binsMetadata === undefined
        : s.bins <= MAX_OFFLINE_BINS && s.binsMetadata?.length === s.bins),
    `an offline delegation has at most ${MAX_OFFLINE_BINS} bins (each is a version its owners sign), and with bins, binsMetadata: each bin's signed version 1, in bin order`,
  )
  .refine(
    (s) => s.threshold === undefined || s.threshold <= (s.keys?.length ?? 0),
    "the threshold is at most the number of keys",
  )
  // A client that does not find a path in a non-terminating role searches on,
  // down to the catch-all bins, which the online key signs: a stolen online
  // key could then list a path of the owners' namespace that they never
  // released. So an offline delegation ends the search for its namespace.
  .refine(
    (s) => s.signing !== "offline" || s.terminating !== false,
    "an offline delegation is terminating: otherwise a path its owners never listed would be looked up in the online-signed bins",
  )
  .transform((s) => ({ ...s, terminating: s.terminating ?? s.signing === "offline" }));

export type DelegationSpec = z.output<typeof DelegationSpecSchema>;

/**
 * An owner's signature over the draft of an offline role's next version
 * (POST /delegations/{name}/signatures): the draft it was made over, named by
 * the SHA-256 of its canonical bytes, and the signature (hex; DER for ECDSA).
 */
export const DraftSignatureSchema = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "sha256 is the draft's SHA-256, 64 lower-case hex characters"),
    signature: SignatureSchema.strict(),
  })
  .strict();

/** A role an offline delegation's owners sign: the delegation, or one of its hash bins (`<name>.bins-XX`). */
export const OfflineRoleNameSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.bins-[0-9a-f]{1,4})?$/, "a delegation's name, or <name>.bins-XX");

/**
 * One owner's signatures over several drafts of an offline delegation's
 * roles (POST /delegations/{name}/drafts/signatures): per draft its role,
 * its SHA-256 and the signature. At most one per role and key.
 */
export const DraftSignaturesSchema = z
  .object({
    signatures: z
      .array(
        z
          .object({
            role: OfflineRoleNameSchema,
            sha256: DraftSignatureSchema.shape.sha256,
            signature: SignatureSchema.strict(),
          })
          .strict(),
      )
      .min(1)
      .max(4 * (MAX_OFFLINE_BINS + 1)),
  })
  .strict();

/** GET /delegations/{name}/drafts: `renew=true` drafts every role of the delegation, pending changes or not. */
export const DraftsQuerySchema = z.object({ renew: z.enum(["true", "false"]).optional() }).strict();
