/**
 * Root ceremonies: a draft root N+1 is opened, root key holders sign its
 * canonical bytes offline and submit signatures one at a time, and when the
 * draft meets both the trusted root's threshold and its own (spec §5.3.4) it
 * is published. Kinds:
 *   online-key-rotation  a new online key (generated here) replaces the old one
 *   root-change          an operator's draft: root keys, thresholds, expiries
 *   root-refresh         the same root with a later expiry
 * and, for protected-delegations mode (protected-targets.ts), ceremonies that
 * also or only draft the next top-level targets, signed by the threshold of
 * the targets role's keys:
 *   protect-delegations  root N+1 names offline keys for targets, with the first offline targets
 *   delegation-change    a delegation added to or removed from targets
 *   targets-refresh      the same targets with a later expiry
 * (an online-key-rotation in protected mode drafts targets too: it re-keys
 * the catch-all bins; so does a root-change that gives targets other keys
 * or another threshold: the next targets is signed by the new keys). A signature counts for the draft it verifies over.
 * One ceremony is open at a time. Each step is recorded in the audit log.
 */
import {
  failure,
  type CeremonyView,
  type DelegationSpec,
  type Failure,
  type RootData,
  type ThresholdProgress,
} from "../src/repository-api.ts";
import { canonicalBytes } from "../src/tuf/canonical.ts";
import { fromHex, fromUtf8, toHex } from "../src/lib/bytes.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import { TufError } from "../src/tuf/errors.ts";
import { expiresAt } from "../src/tuf/expiry.ts";
import { serialize, type Signature, verifyThreshold } from "../src/tuf/metadata.ts";
import type { Key } from "../src/tuf/key.ts";
import type { Targets } from "../src/tuf/targets.ts";
import { diffTargets } from "../src/tuf/targets-diff.ts";
import { diffRoots } from "../src/tuf/root-diff.ts";
import { parseRoot, type Root, verifyRootSuccessor } from "../src/tuf/root.ts";
import { verifySignature } from "../src/tuf/verify.ts";
import type { AuditLog } from "./audit-log.ts";
import type { RootHistory } from "./root-history.ts";
import { type Ceremony, CeremonyBook, type CeremonyKind } from "./ceremony-book.ts";
import type { KeyVault } from "./key-vault.ts";
import type { Settings } from "./settings.ts";
import { Refused } from "./refused.ts";
import {
  type DelegationChange,
  describeChange,
  type OfflineFirst,
  type ProtectedTargets,
  targetsRekey,
} from "./protected-targets.ts";

const ONLINE_ROLES = ["targets", "snapshot", "timestamp"] as const;

/** The roles the online key signs: in protected-delegations mode, not targets. */
const onlineRoles = (protectedMode: boolean) => (protectedMode ? (["snapshot", "timestamp"] as const) : ONLINE_ROLES);

/** What a ceremony that drafts targets is opened with. */
interface TargetsPart {
  draft: Targets;
  base: Targets | null;
  change: DelegationChange;
}

export interface CeremonyDeps {
  sql: SqlStorage;
  transaction: <T>(fn: () => T) => T;
  vault: KeyVault;
  audit: AuditLog;
  roots: RootHistory;
  settings: () => Settings;
  now: () => Date;
  /** The newest root. */
  trustedRoot: () => Promise<Root>;
  /**
   * Called inside the publishing transaction: the new root is stored and must
   * be published; `rotated` says whether every online role must be re-signed.
   */
  onRootAccepted: (rotated: boolean, version: number, sha256: string) => void;
  /** Protected-delegations mode: drafting and publishing top-level targets. */
  targets: ProtectedTargets;
  /** The active online key (what the online roles are delegated to). */
  onlineKey: () => { keyid: string; key: Key };
  /** An offline delegation's owners and version 1, checked again when its addition is published. */
  offlineFirst: (spec: DelegationSpec) => Promise<Failure | OfflineFirst>;
  /** The next change sequence number (roles.nextSeq). */
  nextSeq: () => number;
}

type CeremonyResult = { ok: true; ceremony: CeremonyView } | Failure;

export class Ceremonies {
  readonly #deps: CeremonyDeps;
  readonly book: CeremonyBook;

  constructor(deps: CeremonyDeps) {
    this.#deps = deps;
    this.book = new CeremonyBook(deps.sql);
  }

  /**
   * Opens an online-key rotation; `emergency` first cancels whatever ceremony
   * is open. In protected mode the root keeps targets' offline keys, and the
   * ceremony also drafts the next targets, delegating the online roles to the new key.
   */
  async openRotation(reason: string, emergency = false): Promise<CeremonyResult> {
    if (emergency) this.#cancelOpen(`superseded by an emergency rotation: ${reason}`);
    const open = this.#refuseIfOpen();
    if (open) return open;
    const trusted = await this.#deps.trustedRoot();
    const protectedMode = this.#deps.targets.active();
    const next = await this.#deps.vault.generate("pending");
    const draft = structuredClone(trusted) as Root;
    const rotating = onlineRoles(protectedMode);
    const oldOnline = new Set(rotating.flatMap((r) => trusted.roles[r].keyids));
    for (const role of rotating) draft.roles[role] = { keyids: [next.keyid], threshold: 1 };
    const kept = new Set([...draft.roles.root.keyids, ...draft.roles.targets.keyids]);
    for (const keyid of oldOnline) if (!kept.has(keyid)) delete draft.keys[keyid];
    draft.keys[next.keyid] = next.key;
    let targets: TargetsPart | undefined;
    if (protectedMode) {
      const drafted = await this.#deps.targets.draft({ op: "rotate" }, next);
      if ("ok" in drafted) {
        this.#deps.vault.destroy(next.keyid);
        return drafted;
      }
      targets = { draft: drafted.signed, base: drafted.base, change: { op: "rotate" } };
    }
    return this.#open(
      "online-key-rotation",
      draft,
      trusted,
      `${emergency ? "emergency " : ""}rotation: ${reason}`,
      next.keyid,
      targets,
    );
  }

  /**
   * Opens protected-delegations mode: root N+1 names `keys` (threshold
   * `threshold`) for targets instead of the online key, and the first
   * offline targets (the tree as it is, with the catch-all bins) is drafted
   * beside it. Both are published together, when root's thresholds and
   * the new targets keys' threshold are met.
   */
  async openProtect(keys: Record<string, Key>, threshold: number): Promise<CeremonyResult> {
    if (this.#deps.targets.active())
      return failure(409, "already_protected", "top-level targets is already signed offline");
    const open = this.#refuseIfOpen();
    if (open) return open;
    const trusted = await this.#deps.trustedRoot();
    const online = this.#deps.onlineKey();
    if (online.keyid in keys)
      return failure(422, "invalid_request", "the online key cannot be one of the keys that sign targets offline");
    const draft = structuredClone(trusted) as Root;
    draft.roles.targets = { keyids: Object.keys(keys), threshold };
    for (const [keyid, key] of Object.entries(keys)) draft.keys[keyid] = key;
    const drafted = await this.#deps.targets.draft({ op: "protect" }, online);
    if ("ok" in drafted) return drafted;
    return this.#open("protect-delegations", draft, trusted, "protect delegations", null, {
      draft: drafted.signed,
      base: drafted.base,
      change: { op: "protect" },
    });
  }

  /**
   * In protected mode, a change of the delegations `targets` lists (or the
   * same targets with a later expiry): a draft of the next targets for the
   * targets keys' holders to sign. Nothing changes before their threshold.
   */
  async openTargetsChange(change: DelegationChange, offline?: OfflineFirst): Promise<CeremonyResult> {
    if (!this.#deps.targets.active())
      return failure(409, "not_protected", "top-level targets is signed online: delegations change at once");
    const open = this.#refuseIfOpen();
    if (open) return open;
    const trusted = await this.#deps.trustedRoot();
    const drafted = await this.#deps.targets.draft(change, this.#deps.onlineKey(), offline);
    if ("ok" in drafted) return drafted;
    const kind = change.op === "refresh" ? "targets-refresh" : "delegation-change";
    return this.#open(kind, null, trusted, describeChange(change), null, {
      draft: drafted.signed,
      base: drafted.base,
      change,
    });
  }

  /** Opens a ceremony for an operator's draft of root N+1 (root keys, thresholds, expiries). */
  async openRootChange(signed: unknown): Promise<CeremonyResult> {
    const open = this.#refuseIfOpen();
    if (open) return open;
    const trusted = await this.#deps.trustedRoot();
    let draft: Root;
    try {
      draft = await parseRoot(signed);
    } catch (error) {
      if (error instanceof TufError) return failure(422, "invalid_root", error.message);
      throw error;
    }
    if (draft.version !== trusted.version + 1) {
      return failure(422, "invalid_root", `the draft must be version ${trusted.version + 1}, not ${draft.version}`);
    }
    if (!draft.consistent_snapshot) return failure(422, "invalid_root", "consistent_snapshot must stay true");
    if (Date.parse(draft.expires) <= this.#deps.now().getTime())
      return failure(422, "invalid_root", "the draft has already expired");
    const protectedMode = this.#deps.targets.active();
    for (const role of onlineRoles(protectedMode)) {
      const same = JSON.stringify(draft.roles[role]) === JSON.stringify(trusted.roles[role]);
      const keysSame = trusted.roles[role].keyids.every(
        (k) => JSON.stringify(draft.keys[k]) === JSON.stringify(trusted.keys[k]),
      );
      if (!same || !keysSame) {
        return failure(
          422,
          "invalid_root",
          `a root change keeps the online role ${role} as it is; rotate the online key with an online-key rotation`,
        );
      }
    }
    // Protected mode: new keys for targets sign its next version, published with root N+1 (protected-targets.ts).
    const rekey = protectedMode ? targetsRekey(trusted, draft, this.#deps.onlineKey().keyid) : null;
    if (rekey && "ok" in rekey) return rekey;
    let targets: TargetsPart | undefined;
    if (rekey) {
      const drafted = await this.#deps.targets.draft(rekey, this.#deps.onlineKey());
      if ("ok" in drafted) return drafted;
      targets = { draft: drafted.signed, base: drafted.base, change: rekey };
    }
    return this.#open("root-change", draft, trusted, "operator's draft", null, targets);
  }

  /** Opens a ceremony to re-sign the same root with a later expiry. */
  async openRootRefresh(reason: string): Promise<CeremonyResult> {
    const open = this.#refuseIfOpen();
    if (open) return open;
    const trusted = await this.#deps.trustedRoot();
    return this.#open("root-refresh", structuredClone(trusted) as Root, trusted, reason);
  }

  /**
   * Adds one key holder's signature, to the draft it verifies over (root or
   * targets); publishes once every threshold the ceremony needs is met.
   */
  async sign(id: string, signature: Signature): Promise<CeremonyResult> {
    const ceremony = this.#openCeremony(id);
    if (!ceremony.ok) return ceremony;
    const { draft, targetsDraft } = ceremony.value;
    const trusted = await this.#deps.trustedRoot();
    const reject = (code: "not_a_root_key" | "not_a_signer" | "invalid_signature", detail: string) => {
      this.#deps.audit.record("signature-rejected", detail, { ceremonyId: id, keyid: signature.keyid });
      return failure(422, code, detail);
    };
    const documents: Array<{ which: "root" | "targets"; keys: Record<string, Key>; message: Uint8Array }> = [];
    if (
      draft &&
      (trusted.roles.root.keyids.includes(signature.keyid) || draft.roles.root.keyids.includes(signature.keyid))
    )
      documents.push({ which: "root", keys: { ...trusted.keys, ...draft.keys }, message: canonicalBytes(draft) });
    const targetsRoot = draft ?? trusted;
    if (targetsDraft && targetsRoot.roles.targets.keyids.includes(signature.keyid))
      documents.push({ which: "targets", keys: targetsRoot.keys, message: canonicalBytes(targetsDraft) });
    if (documents.length === 0) {
      return targetsDraft
        ? reject(
            "not_a_signer",
            `key ${signature.keyid} is not a key of this ceremony's signers (${draft ? `root keys of root ${trusted.version} or of the draft, ` : ""}targets keys of root ${targetsRoot.version})`,
          )
        : reject(
            "not_a_root_key",
            `key ${signature.keyid} is not a root key of root ${trusted.version} or of the draft`,
          );
    }
    let signedWhich: "root" | "targets" | null = null;
    for (const document of documents) {
      const key = document.keys[signature.keyid];
      if (!key) continue;
      try {
        if (await verifySignature(key, fromHex(signature.sig), document.message as Uint8Array<ArrayBuffer>)) {
          signedWhich = document.which;
          break;
        }
      } catch (error) {
        if (!(error instanceof TufError) && !(error instanceof TypeError)) throw error;
      }
    }
    if (!signedWhich) {
      return reject(
        "invalid_signature",
        `the signature by ${signature.keyid} does not verify over this ceremony's canonical bytes (${documents.map((d) => `${d.which} draft`).join(" or ")})`,
      );
    }
    // The ceremony may have changed while the signature was checked.
    const current = this.#openCeremony(id);
    if (!current.ok) return current;
    const replace = (list: Signature[]) => [
      ...list.filter((s) => s.keyid !== signature.keyid),
      { keyid: signature.keyid, sig: signature.sig },
    ];
    const next = { ...current.value };
    if (signedWhich === "root") {
      next.signatures = replace(current.value.signatures);
      this.book.setSignatures(id, next.signatures);
    } else {
      next.targetsSignatures = replace(current.value.targetsSignatures);
      this.book.setTargetsSignatures(id, next.targetsSignatures);
    }
    const count = signedWhich === "root" ? next.signatures.length : next.targetsSignatures.length;
    this.#deps.audit.record("signature-accepted", `${signedWhich} signature ${count} accepted`, {
      ceremonyId: id,
      keyid: signature.keyid,
    });
    const refused = await this.#publishIfComplete(next, trusted);
    if (refused) return refused;
    return { ok: true, ceremony: await this.view(id) };
  }

  cancel(id: string, reason: string): CeremonyResult | Promise<CeremonyResult> {
    const ceremony = this.#openCeremony(id);
    if (!ceremony.ok) return ceremony;
    this.#close(ceremony.value, "cancelled", `cancelled: ${reason}`);
    return this.view(id).then((view) => ({ ok: true as const, ceremony: view }));
  }

  /** Closes the open ceremony if its time ran out. */
  expireStale(): void {
    const open = this.book.current();
    if (open && open.expiresAt <= this.#deps.now().getTime())
      this.#close(open, "expired", "draft expired before it was complete");
  }

  async view(id: string): Promise<CeremonyView> {
    const c = this.book.get(id);
    if (!c) throw new Error(`no ceremony ${id}`);
    const trusted = await this.#trustedAt(c.draft ? c.rootVersion - 1 : c.rootVersion);
    const count = (signatures: Signature[], keyids: string[]) =>
      signatures.filter((s) => keyids.includes(s.keyid)).length;
    const iso = (ms: number) => new Date(ms).toISOString();
    const progress = (signatures: Signature[], role: { keyids: string[]; threshold: number }): ThresholdProgress => ({
      signed: count(signatures, role.keyids),
      threshold: role.threshold,
    });
    const targetsRole = (c.draft ?? trusted).roles.targets;
    return {
      id: c.id,
      kind: c.kind,
      state: c.state,
      rootVersion: c.rootVersion,
      openedAt: iso(c.openedAt),
      expiresAt: iso(c.expiresAt),
      closedAt: c.closedAt === null ? null : iso(c.closedAt),
      draft: c.draft as RootData | null,
      canonical: c.draft ? fromUtf8(canonicalBytes(c.draft)) : null,
      summary: c.draft ? diffRoots(trusted, c.draft) : null,
      signatures: c.signatures,
      progress: {
        trustedRoot: c.draft ? progress(c.signatures, trusted.roles.root) : null,
        draftRoot: c.draft ? progress(c.signatures, c.draft.roles.root) : null,
        ...(c.targetsDraft ? { targets: progress(c.targetsSignatures, targetsRole) } : {}),
      },
      targets: c.targetsDraft
        ? {
            version: c.targetsDraft.version,
            canonical: fromUtf8(canonicalBytes(c.targetsDraft)),
            baseVersion: c.targetsBase?.version ?? 0,
            summary: diffTargets(c.targetsBase, c.targetsDraft),
            keyids: targetsRole.keyids,
            threshold: targetsRole.threshold,
            signatures: c.targetsSignatures,
            change: describeChange(c.change),
          }
        : null,
      events: this.#deps.audit.forCeremony(id).map(({ at, kind, keyid, detail }) => ({ at, kind, keyid, detail })),
    };
  }

  async #open(
    kind: CeremonyKind,
    draft: Root | null,
    trusted: Root,
    reason: string,
    newOnlineKeyId: string | null = null,
    targets?: TargetsPart,
  ) {
    const now = this.#deps.now();
    const settings = this.#deps.settings();
    if (draft) {
      draft.version = trusted.version + 1;
      if (kind !== "root-change") draft.expires = expiresAt(settings.expiry, "root", now);
    }
    const id = toHex(crypto.getRandomValues(new Uint8Array(8)));
    this.#deps.transaction(() => {
      this.book.open({
        id,
        kind,
        rootVersion: draft ? draft.version : trusted.version,
        draft,
        newOnlineKeyId,
        openedAt: now.getTime(),
        expiresAt: now.getTime() + settings.ceremonyTtl * 1000,
        targetsDraft: targets?.draft ?? null,
        targetsBase: targets?.base ?? null,
        change: targets?.change ?? null,
      });
      const what = [draft ? `root ${draft.version}` : null, targets ? `targets ${targets.draft.version}` : null];
      this.#deps.audit.record("ceremony-opened", `${kind} to ${what.filter(Boolean).join(" and ")} (${reason})`, {
        ceremonyId: id,
        ...(newOnlineKeyId ? { keyid: newOnlineKeyId } : {}),
      });
    });
    return { ok: true as const, ceremony: await this.view(id) };
  }

  /** Publishes the ceremony once every threshold it needs is met; a refusal at that point changes nothing. */
  async #publishIfComplete(ceremony: Ceremony, trusted: Root): Promise<Failure | null> {
    const { draft, targetsDraft } = ceremony;
    try {
      if (draft) await verifyRootSuccessor(trusted, { signed: draft, signatures: ceremony.signatures });
      if (targetsDraft) {
        const role = (draft ?? trusted).roles.targets;
        const envelope = { signed: targetsDraft, signatures: ceremony.targetsSignatures };
        await verifyThreshold(envelope, role, (draft ?? trusted).keys, "targets");
      }
    } catch (error) {
      if (error instanceof TufError) return null; // below a threshold: keep collecting
      throw error;
    }
    const offline =
      ceremony.change?.op === "add" && ceremony.change.spec.signing === "offline"
        ? await this.#deps.offlineFirst(ceremony.change.spec)
        : undefined;
    if (offline && "ok" in offline) return offline;
    const file = draft ? serialize({ signed: draft, signatures: ceremony.signatures }) : null;
    const sha256 = file ? await sha256Hex(file.bytes) : null;
    const now = this.#deps.now().getTime();
    try {
      this.#deps.transaction(() => {
        if (draft && file && sha256) this.#acceptRoot(ceremony, draft, trusted, file.bytes, now);
        if (targetsDraft && ceremony.change) {
          const newKey = ceremony.newOnlineKeyId;
          const online =
            newKey && draft?.keys[newKey] ? { keyid: newKey, key: draft.keys[newKey] } : this.#deps.onlineKey();
          const refused = this.#deps.targets.apply(
            ceremony.change,
            targetsDraft,
            ceremony.targetsSignatures,
            online,
            this.#deps.nextSeq(),
            offline,
          );
          if (refused) throw new Refused(refused);
          this.#deps.audit.record(
            "targets-accepted",
            `targets ${targetsDraft.version} met its threshold: ${describeChange(ceremony.change)}`,
            { ceremonyId: ceremony.id },
          );
        }
        this.book.close(ceremony.id, "published", now);
        if (draft && sha256) this.#deps.onRootAccepted(ceremony.newOnlineKeyId !== null, ceremony.rootVersion, sha256);
      });
    } catch (error) {
      if (error instanceof Refused) {
        this.#deps.audit.record("ceremony-refused", error.failure.detail, { ceremonyId: ceremony.id });
        return error.failure;
      }
      throw error;
    }
    return null;
  }

  /** Stores root N+1 and, for a rotation, swaps the online keys (in the publishing transaction). */
  #acceptRoot(ceremony: Ceremony, draft: Root, trusted: Root, bytes: Uint8Array, now: number): void {
    this.#deps.roots.add(ceremony.rootVersion, bytes, draft.expires, now);
    this.#deps.audit.record("root-accepted", `root ${ceremony.rootVersion} met both thresholds`, {
      ceremonyId: ceremony.id,
    });
    const newOnlineKeyId = ceremony.newOnlineKeyId;
    if (newOnlineKeyId === null) return;
    const online = new Set(onlineRoles(this.#deps.targets.active()).flatMap((r) => trusted.roles[r].keyids));
    for (const old of online) {
      this.#deps.vault.destroy(old);
      this.#deps.audit.record("online-key-destroyed", "replaced by rotation", {
        ceremonyId: ceremony.id,
        keyid: old,
      });
    }
    this.#deps.vault.setState(newOnlineKeyId, "active");
    this.#deps.audit.record("online-key-activated", "signs every online role from now on", {
      ceremonyId: ceremony.id,
      keyid: newOnlineKeyId,
    });
  }

  #close(ceremony: Ceremony, state: "cancelled" | "expired", detail: string): void {
    this.#deps.transaction(() => {
      this.book.close(ceremony.id, state, this.#deps.now().getTime());
      this.#deps.audit.record(`ceremony-${state}`, detail, { ceremonyId: ceremony.id });
      if (ceremony.newOnlineKeyId) this.#deps.vault.destroy(ceremony.newOnlineKeyId);
    });
  }

  #cancelOpen(reason: string): void {
    this.expireStale();
    const open = this.book.current();
    if (open) this.#close(open, "cancelled", reason);
  }

  #refuseIfOpen(): Failure | null {
    this.expireStale();
    const open = this.book.current();
    return open
      ? failure(409, "ceremony_open", `ceremony ${open.id} (${open.kind}) is still open; complete or cancel it first`)
      : null;
  }

  #openCeremony(id: string): { ok: true; value: Ceremony } | Failure {
    this.expireStale();
    const ceremony = this.book.get(id);
    if (!ceremony) return failure(404, "not_found", `no ceremony ${id}`);
    if (ceremony.state !== "awaiting-signatures")
      return failure(409, "ceremony_closed", `ceremony ${id} is ${ceremony.state}`);
    return { ok: true, value: ceremony };
  }

  async #trustedAt(version: number): Promise<Root> {
    return parseRoot(this.#deps.roots.signed(version));
  }
}
