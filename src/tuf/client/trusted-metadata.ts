/**
 * A TUF client's trusted metadata and the rules for replacing it: the
 * "Detailed client workflow" of the TUF specification (§5), as a pure state
 * machine. The caller downloads (and caps sizes); this module decides. Each
 * update method verifies a candidate file against what is trusted and, only
 * if every check passes, makes it trusted; on any failure it throws a
 * TufError and the trusted state is unchanged. Roots are read with opaque
 * keyids (`parseRemoteRoot`), as python-tuf and tuf-js read them.
 */
import { type Envelope, parseEnvelope, verifyThreshold } from "../metadata.ts";
import { BadVersionError, ExpiredMetadataError, InvalidMetadataError } from "../errors.ts";
import { parseRemoteRoot, type Root } from "../root.ts";
import { checkLengthAndHashes } from "./file-check.ts";
import {
  type MetaFile,
  type RemoteSnapshot,
  RemoteSnapshotSchema,
  type RemoteTargets,
  RemoteTargetsSchema,
  type RemoteTimestamp,
  RemoteTimestampSchema,
} from "./remote-roles.ts";
import { z } from "zod";

type Bytes = Uint8Array<ArrayBuffer>;

/** The trusted files, as persisted between updates: the exact bytes that verified. */
export interface TrustedFiles {
  root: Bytes;
  timestamp?: Bytes | undefined;
  snapshot?: Bytes | undefined;
  targets?: Bytes | undefined;
  /** Delegated targets roles, by name. */
  delegated?: Record<string, Bytes> | undefined;
}

interface Trusted<T> {
  signed: T;
  bytes: Bytes;
}

function parseSigned<T>(
  bytes: Bytes,
  type: "timestamp" | "snapshot" | "targets",
  schema: z.ZodType<T>,
): { envelope: Envelope<unknown>; signed: T } {
  const envelope = parseEnvelope(bytes, type);
  const parsed = schema.safeParse(envelope.signed);
  if (!parsed.success) throw new InvalidMetadataError(`${type}: ${z.prettifyError(parsed.error)}`);
  return { envelope, signed: parsed.data };
}

const sameKeys = (a: Root, b: Root, role: "timestamp" | "snapshot" | "targets") =>
  a.roles[role].threshold === b.roles[role].threshold &&
  a.roles[role].keyids.length === b.roles[role].keyids.length &&
  a.roles[role].keyids.every(
    (id) => b.roles[role].keyids.includes(id) && a.keys[id]?.keyval.public === b.keys[id]?.keyval.public,
  );

export class TrustedMetadata {
  #root: Trusted<Root>;
  #timestamp: Trusted<RemoteTimestamp> | undefined;
  #snapshot: Trusted<RemoteSnapshot> | undefined;
  #targets: Trusted<RemoteTargets> | undefined;
  #delegated = new Map<string, Trusted<RemoteTargets>>();
  /** §5.1: the fixed update start time every expiry is compared with. */
  readonly #now: Date;

  private constructor(root: Trusted<Root>, now: Date) {
    this.#root = root;
    this.#now = now;
  }

  /**
   * §5.2: loads the trusted state. The root must sign itself (a threshold of
   * its own root keys); the other files were verified before they were
   * persisted, so only their shapes are read again. Expired files stay
   * trusted: they still bound what a newer file may roll back.
   */
  static async load(files: TrustedFiles, now: Date): Promise<TrustedMetadata> {
    const envelope = parseEnvelope(files.root, "root");
    const root = await parseRemoteRoot(envelope.signed);
    await verifyThreshold(envelope, root.roles.root, root.keys, "trusted root");
    const state = new TrustedMetadata({ signed: root, bytes: files.root }, now);
    if (files.timestamp) {
      const { signed } = parseSigned(files.timestamp, "timestamp", RemoteTimestampSchema);
      state.#timestamp = { signed, bytes: files.timestamp };
    }
    if (files.snapshot) {
      const { signed } = parseSigned(files.snapshot, "snapshot", RemoteSnapshotSchema);
      state.#snapshot = { signed, bytes: files.snapshot };
    }
    if (files.targets) {
      const { signed } = parseSigned(files.targets, "targets", RemoteTargetsSchema);
      state.#targets = { signed, bytes: files.targets };
    }
    for (const [name, bytes] of Object.entries(files.delegated ?? {})) {
      const { signed } = parseSigned(bytes, "targets", RemoteTargetsSchema);
      state.#delegated.set(name, { signed, bytes });
    }
    return state;
  }

  get root(): Root {
    return this.#root.signed;
  }

  get timestamp(): RemoteTimestamp | undefined {
    return this.#timestamp?.signed;
  }

  get snapshot(): RemoteSnapshot | undefined {
    return this.#snapshot?.signed;
  }

  get targets(): RemoteTargets | undefined {
    return this.#targets?.signed;
  }

  /** What to persist: the bytes of every trusted file. */
  files(): TrustedFiles {
    return {
      root: this.#root.bytes,
      timestamp: this.#timestamp?.bytes,
      snapshot: this.#snapshot?.bytes,
      targets: this.#targets?.bytes,
      delegated: Object.fromEntries([...this.#delegated].map(([name, file]) => [name, file.bytes])),
    };
  }

  #notExpired(name: string, signed: { expires: string }): void {
    if (Date.parse(signed.expires) <= this.#now.getTime()) {
      throw new ExpiredMetadataError(
        `${name} expired at ${signed.expires} (update started ${this.#now.toISOString()})`,
      );
    }
  }

  /**
   * §5.3.3–§5.3.6: root N+1 is trusted if signed by a threshold of root N's
   * root keys and of its own, and its version is exactly N+1. Its expiry
   * does not matter yet (§5.3.5). §5.3.11: if the timestamp, snapshot (or
   * targets) keys changed, the files they signed are no longer trusted.
   */
  async updateRoot(bytes: Bytes): Promise<Root> {
    const trusted = this.#root.signed;
    const envelope = parseEnvelope(bytes, "root");
    const name = `root v${trusted.version + 1}`;
    await verifyThreshold(envelope, trusted.roles.root, trusted.keys, `${name} (by root v${trusted.version}'s keys)`);
    const next = await parseRemoteRoot(envelope.signed);
    await verifyThreshold(envelope, next.roles.root, next.keys, `${name} (by its own keys)`);
    if (next.version !== trusted.version + 1) {
      throw new BadVersionError(`${name} is version ${next.version}`);
    }
    if (!sameKeys(trusted, next, "timestamp")) this.#timestamp = undefined;
    if (!sameKeys(trusted, next, "snapshot")) this.#snapshot = undefined;
    if (!sameKeys(trusted, next, "targets")) {
      this.#targets = undefined;
      this.#delegated.clear();
    }
    this.#root = { signed: next, bytes };
    return next;
  }

  /** §5.3.10: once no newer root exists, the trusted root must not be expired. */
  finishRootUpdate(): void {
    this.#notExpired(`root v${this.#root.signed.version}`, this.#root.signed);
  }

  /**
   * §5.4.2–§5.4.4: signed by the root's timestamp keys, not older than the
   * trusted timestamp (nor naming an older snapshot), not expired. A new
   * timestamp with the trusted one's version is not taken (the trusted one
   * stays); returns whether the timestamp changed.
   */
  async updateTimestamp(bytes: Bytes): Promise<boolean> {
    this.finishRootUpdate();
    const { envelope, signed } = parseSigned(bytes, "timestamp", RemoteTimestampSchema);
    await verifyThreshold(envelope, this.root.roles.timestamp, this.root.keys, "timestamp");
    const trusted = this.#timestamp?.signed;
    if (trusted) {
      if (signed.version < trusted.version) {
        throw new BadVersionError(`timestamp v${signed.version} is older than the trusted v${trusted.version}`);
      }
      const was = trusted.meta["snapshot.json"].version;
      const now = signed.meta["snapshot.json"].version;
      if (now < was) throw new BadVersionError(`timestamp names snapshot v${now}, older than the trusted v${was}`);
      if (signed.version === trusted.version) {
        this.#notExpired("timestamp", trusted);
        return false;
      }
    }
    this.#notExpired("timestamp", signed);
    this.#timestamp = { signed, bytes };
    return true;
  }

  /** The snapshot the trusted timestamp names, or null if that one is already trusted. */
  snapshotToFetch(): MetaFile | null {
    const meta = this.#requireTimestamp().meta["snapshot.json"];
    return this.#snapshot?.signed.version === meta.version ? null : meta;
  }

  /**
   * §5.5.2–§5.5.6: the length and hashes the timestamp lists, signed by the
   * root's snapshot keys, the version the timestamp names, no targets file
   * older than (or missing from) the trusted snapshot, not expired.
   */
  async updateSnapshot(bytes: Bytes): Promise<void> {
    const timestamp = this.#requireTimestamp();
    this.#notExpired("timestamp", timestamp);
    const meta = timestamp.meta["snapshot.json"];
    await checkLengthAndHashes("snapshot", bytes, meta);
    const { envelope, signed } = parseSigned(bytes, "snapshot", RemoteSnapshotSchema);
    await verifyThreshold(envelope, this.root.roles.snapshot, this.root.keys, "snapshot");
    if (signed.version !== meta.version) {
      throw new BadVersionError(`snapshot is v${signed.version}, the timestamp names v${meta.version}`);
    }
    for (const [name, old] of Object.entries(this.#snapshot?.signed.meta ?? {})) {
      const now = signed.meta[name];
      if (!now) throw new BadVersionError(`snapshot v${signed.version} no longer lists ${name}`);
      if (now.version < old.version) {
        throw new BadVersionError(`snapshot lists ${name} v${now.version}, older than the trusted v${old.version}`);
      }
    }
    this.#notExpired("snapshot", signed);
    this.#snapshot = { signed, bytes };
  }

  /** The top-level targets the trusted snapshot names, or null if that one is already trusted. */
  targetsToFetch(): MetaFile | null {
    const meta = this.#requireSnapshot().meta["targets.json"];
    if (!meta) throw new InvalidMetadataError("the snapshot lists no targets.json");
    return this.#targets?.signed.version === meta.version ? null : meta;
  }

  /**
   * §5.6.2–§5.6.5: the length and hashes the snapshot lists (if any), signed
   * by the root's targets keys, the version the snapshot names, not expired.
   */
  async updateTargets(bytes: Bytes): Promise<void> {
    const snapshot = this.#requireSnapshot();
    this.#notExpired("snapshot", snapshot);
    const meta = snapshot.meta["targets.json"];
    if (!meta) throw new InvalidMetadataError("the snapshot lists no targets.json");
    await checkLengthAndHashes("targets", bytes, meta);
    const { envelope, signed } = parseSigned(bytes, "targets", RemoteTargetsSchema);
    await verifyThreshold(envelope, this.root.roles.targets, this.root.keys, "targets");
    if (signed.version !== meta.version) {
      throw new BadVersionError(`targets is v${signed.version}, the snapshot names v${meta.version}`);
    }
    this.#notExpired("targets", signed);
    this.#targets = { signed, bytes };
    // Delegated roles were verified with the delegations of the targets they came under: fetch them again.
    this.#delegated.clear();
  }

  /** A delegated role the trusted snapshot names, or null if that version is already trusted (§5.6.7.2). */
  delegatedToFetch(name: string): MetaFile | null {
    const meta = this.#requireSnapshot().meta[`${name}.json`];
    if (!meta) throw new InvalidMetadataError(`the snapshot lists no ${name}.json`);
    return this.#delegated.get(name)?.signed.version === meta.version ? null : meta;
  }

  /**
   * §5.6.7.2: a delegated targets role, checked as top-level targets is
   * (§5.6.2–§5.6.5) but signed by a threshold of the keys its delegator's
   * delegation names. A role trusted again replaces the one trusted before.
   */
  async updateDelegatedTargets(bytes: Bytes, name: string, delegator: string): Promise<void> {
    const snapshot = this.#requireSnapshot();
    this.#notExpired("snapshot", snapshot);
    const meta = snapshot.meta[`${name}.json`];
    if (!meta) throw new InvalidMetadataError(`the snapshot lists no ${name}.json`);
    await checkLengthAndHashes(name, bytes, meta);
    const parent = this.trustedTargets(delegator);
    const role = parent?.delegations?.roles.find((r) => r.name === name);
    if (!parent?.delegations || !role) throw new InvalidMetadataError(`${delegator} does not delegate to ${name}`);
    const { envelope, signed } = parseSigned(bytes, "targets", RemoteTargetsSchema);
    await verifyThreshold(envelope, role, parent.delegations.keys, name);
    if (signed.version !== meta.version) {
      throw new BadVersionError(`${name} is v${signed.version}, the snapshot names v${meta.version}`);
    }
    this.#notExpired(name, signed);
    this.#delegated.set(name, { signed, bytes });
  }

  /** A trusted targets role ("targets" or a delegated role's name), refused once expired (§5.6.5). */
  trustedTargets(name: string): RemoteTargets | undefined {
    const role = name === "targets" ? this.#targets?.signed : this.#delegated.get(name)?.signed;
    if (role) this.#notExpired(name, role);
    return role;
  }

  #requireTimestamp(): RemoteTimestamp {
    if (!this.#timestamp) throw new InvalidMetadataError("no trusted timestamp");
    return this.#timestamp.signed;
  }

  #requireSnapshot(): RemoteSnapshot {
    if (!this.#snapshot) throw new InvalidMetadataError("no trusted snapshot");
    return this.#snapshot.signed;
  }
}
