/** The root role (spec §4.3): the keys and thresholds of every top-level role. */
import { z } from "zod";
import { InvalidMetadataError } from "./errors.ts";
import { type Key, KeySchema, keyId } from "./key.ts";
import { CommonSignedSchema, type Envelope, SPEC_VERSION, verifyThreshold } from "./metadata.ts";

export const TOP_LEVEL_ROLES = ["root", "targets", "snapshot", "timestamp"] as const;
export type TopLevelRole = (typeof TOP_LEVEL_ROLES)[number];

const RoleKeysSchema = z.looseObject({
  keyids: z
    .array(z.string().regex(/^[0-9a-f]{64}$/))
    .min(1)
    .max(64),
  threshold: z.number().int().min(1).max(64),
});

export const RootSchema = z.looseObject({
  _type: z.literal("root"),
  ...CommonSignedSchema,
  consistent_snapshot: z.boolean(),
  keys: z.record(z.string().regex(/^[0-9a-f]{64}$/), KeySchema),
  roles: z.looseObject({
    root: RoleKeysSchema,
    targets: RoleKeysSchema,
    snapshot: RoleKeysSchema,
    timestamp: RoleKeysSchema,
  }),
});

export type Root = z.infer<typeof RootSchema>;

/**
 * Checks a root's structure beyond its schema: every keyid a role names is a
 * key in `keys` whose keyid is really the hash of that key, thresholds are
 * reachable, and no role lists a key twice.
 */
export async function parseRoot(signed: unknown): Promise<Root> {
  const root = parseRootShape(signed);
  for (const [id, key] of Object.entries(root.keys)) {
    if ((await keyId(key)) !== id) throw new InvalidMetadataError(`root: keyid ${id} is not the hash of its key`);
  }
  return root;
}

/**
 * A root another repository published, as a client reads it (python-tuf,
 * tuf-js): keyids are opaque names, not recomputed, because repositories
 * compute them differently (Sigstore's include `keyid_hash_algorithms`).
 * Everything else `parseRoot` checks still holds. tuf-edge never publishes a
 * root parsed this way: its own roots go through `parseRoot`.
 */
export async function parseRemoteRoot(signed: unknown): Promise<Root> {
  return parseRootShape(signed);
}

function parseRootShape(signed: unknown): Root {
  const parsed = RootSchema.safeParse(signed);
  if (!parsed.success) throw new InvalidMetadataError(`root: ${z.prettifyError(parsed.error)}`);
  const root = parsed.data;
  for (const name of TOP_LEVEL_ROLES) {
    const role = root.roles[name];
    if (new Set(role.keyids).size !== role.keyids.length) {
      throw new InvalidMetadataError(`root: role ${name} lists a keyid twice`);
    }
    const missing = role.keyids.find((id) => !root.keys[id]);
    if (missing) throw new InvalidMetadataError(`root: role ${name} names keyid ${missing}, which is not in keys`);
    if (role.threshold > role.keyids.length) {
      throw new InvalidMetadataError(
        `root: role ${name} has threshold ${role.threshold} but ${role.keyids.length} key(s)`,
      );
    }
  }
  return root;
}

export function roleKeys(root: Root, role: TopLevelRole): Record<string, Key> {
  return Object.fromEntries(
    root.roles[role].keyids.map((id) => {
      const key = root.keys[id];
      if (!key) throw new TypeError(`root v${root.version} lists keyid ${id} for ${role} without its key`);
      return [id, key];
    }),
  );
}

/**
 * Verifies a new root against the trusted one, as a client does when it walks
 * the root chain (spec §5.3.4): signed by a threshold of the trusted root's
 * root keys and by a threshold of its own, with version exactly one more.
 */
export async function verifyRootSuccessor(trusted: Root, next: Envelope<unknown>): Promise<Root> {
  await verifyThreshold(next, trusted.roles.root, trusted.keys, "root (by the trusted root's keys)");
  const root = await parseRoot(next.signed);
  await verifyThreshold(next, root.roles.root, root.keys, "root (by its own keys)");
  if (root.version !== trusted.version + 1) {
    throw new InvalidMetadataError(`root: version ${root.version} does not follow ${trusted.version}`);
  }
  return root;
}

export interface RootDraft {
  version: number;
  expires: string;
  /** Offline keys that sign root, and how many of them must. */
  rootKeys: Key[];
  rootThreshold: number;
  /** The online key that signs targets, snapshot, timestamp (and the bins). */
  onlineKey: Key;
}

/** Builds the `signed` part of a root that names `onlineKey` for every online role. */
export async function draftRoot(draft: RootDraft): Promise<Root> {
  const keys: Record<string, Key> = {};
  const rootKeyIds: string[] = [];
  for (const key of draft.rootKeys) {
    const id = await keyId(key);
    keys[id] = key;
    rootKeyIds.push(id);
  }
  const onlineId = await keyId(draft.onlineKey);
  keys[onlineId] = draft.onlineKey;
  // A fresh object per role: aliased roles would change together if one were edited.
  const online = () => ({ keyids: [onlineId], threshold: 1 });
  return {
    _type: "root",
    spec_version: SPEC_VERSION,
    version: draft.version,
    expires: draft.expires,
    consistent_snapshot: true,
    keys,
    roles: {
      root: { keyids: rootKeyIds, threshold: draft.rootThreshold },
      targets: online(),
      snapshot: online(),
      timestamp: online(),
    },
  };
}
