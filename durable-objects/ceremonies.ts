/**
 * Root ceremonies: a draft root N+1 is opened, root key holders sign its
 * canonical bytes offline and submit signatures one at a time, and when the
 * draft meets both the trusted root's threshold and its own (spec §5.3.4) it
 * is published. Kinds:
 *   online-key-rotation  a new online key (generated here) replaces the old one
 *   root-change          an operator's draft: root keys, thresholds, expiries
 *   root-refresh         the same root with a later expiry
 * One ceremony is open at a time. Each step is recorded in the audit log.
 */
import { failure, type CeremonyView, type Failure, type RootData } from "../src/repository-api.ts";
import { canonicalBytes } from "../src/tuf/canonical.ts";
import { fromHex, fromUtf8, toHex } from "../src/lib/bytes.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import { TufError } from "../src/tuf/errors.ts";
import { expiresAt } from "../src/tuf/expiry.ts";
import { serialize, type Signature } from "../src/tuf/metadata.ts";
import { diffRoots } from "../src/tuf/root-diff.ts";
import { parseRoot, type Root, verifyRootSuccessor } from "../src/tuf/root.ts";
import { verifySignature } from "../src/tuf/verify.ts";
import type { AuditLog } from "./audit-log.ts";
import type { RootHistory } from "./root-history.ts";
import { type Ceremony, CeremonyBook, type CeremonyKind } from "./ceremony-book.ts";
import type { KeyVault } from "./key-vault.ts";
import type { Settings } from "./settings.ts";

const ONLINE_ROLES = ["targets", "snapshot", "timestamp"] as const;

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
}

type CeremonyResult = { ok: true; ceremony: CeremonyView } | Failure;

export class Ceremonies {
  readonly #deps: CeremonyDeps;
  readonly book: CeremonyBook;

  constructor(deps: CeremonyDeps) {
    this.#deps = deps;
    this.book = new CeremonyBook(deps.sql);
  }

  /** Opens an online-key rotation; `emergency` first cancels whatever ceremony is open. */
  async openRotation(reason: string, emergency = false): Promise<CeremonyResult> {
    if (emergency) this.#cancelOpen(`superseded by an emergency rotation: ${reason}`);
    const open = this.#refuseIfOpen();
    if (open) return open;
    const trusted = await this.#deps.trustedRoot();
    const next = await this.#deps.vault.generate("pending");
    const draft = structuredClone(trusted) as Root;
    const oldOnline = new Set(ONLINE_ROLES.flatMap((r) => trusted.roles[r].keyids));
    for (const role of ONLINE_ROLES) draft.roles[role] = { keyids: [next.keyid], threshold: 1 };
    for (const keyid of oldOnline) if (!draft.roles.root.keyids.includes(keyid)) delete draft.keys[keyid];
    draft.keys[next.keyid] = next.key;
    return this.#open(
      "online-key-rotation",
      draft,
      trusted,
      `${emergency ? "emergency " : ""}rotation: ${reason}`,
      next.keyid,
    );
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
    for (const role of ONLINE_ROLES) {
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
    return this.#open("root-change", draft, trusted, "operator's draft");
  }

  /** Opens a ceremony to re-sign the same root with a later expiry. */
  async openRootRefresh(reason: string): Promise<CeremonyResult> {
    const open = this.#refuseIfOpen();
    if (open) return open;
    const trusted = await this.#deps.trustedRoot();
    return this.#open("root-refresh", structuredClone(trusted) as Root, trusted, reason);
  }

  /** Adds one root key holder's signature; publishes the draft once both thresholds are met. */
  async sign(id: string, signature: Signature): Promise<CeremonyResult> {
    const ceremony = this.#openCeremony(id);
    if (!ceremony.ok) return ceremony;
    const { draft } = ceremony.value;
    const trusted = await this.#deps.trustedRoot();
    const rootKeyIds = new Set([...trusted.roles.root.keyids, ...draft.roles.root.keyids]);
    const reject = (code: "not_a_root_key" | "invalid_signature", detail: string) => {
      this.#deps.audit.record("signature-rejected", detail, { ceremonyId: id, keyid: signature.keyid });
      return failure(422, code, detail);
    };
    if (!rootKeyIds.has(signature.keyid)) {
      return reject(
        "not_a_root_key",
        `key ${signature.keyid} is not a root key of root ${trusted.version} or of the draft`,
      );
    }
    const key = draft.keys[signature.keyid] ?? trusted.keys[signature.keyid];
    if (!key) return reject("not_a_root_key", `key ${signature.keyid} is listed without its key`);
    let valid = false;
    try {
      valid = await verifySignature(key, fromHex(signature.sig), canonicalBytes(draft));
    } catch (error) {
      if (!(error instanceof TufError) && !(error instanceof TypeError)) throw error;
    }
    if (!valid) {
      return reject(
        "invalid_signature",
        `the signature by ${signature.keyid} does not verify over this draft's canonical bytes`,
      );
    }
    // The ceremony may have changed while the signature was checked.
    const current = this.#openCeremony(id);
    if (!current.ok) return current;
    const signatures = [
      ...current.value.signatures.filter((s) => s.keyid !== signature.keyid),
      { keyid: signature.keyid, sig: signature.sig },
    ];
    this.book.setSignatures(id, signatures);
    this.#deps.audit.record("signature-accepted", `signature ${signatures.length} accepted`, {
      ceremonyId: id,
      keyid: signature.keyid,
    });
    await this.#publishIfComplete({ ...current.value, signatures }, trusted);
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
    const trusted = await this.#trustedAt(c.rootVersion - 1);
    const count = (keyids: string[]) => c.signatures.filter((s) => keyids.includes(s.keyid)).length;
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      id: c.id,
      kind: c.kind,
      state: c.state,
      rootVersion: c.rootVersion,
      openedAt: iso(c.openedAt),
      expiresAt: iso(c.expiresAt),
      closedAt: c.closedAt === null ? null : iso(c.closedAt),
      draft: c.draft as RootData,
      canonical: fromUtf8(canonicalBytes(c.draft)),
      summary: diffRoots(trusted, c.draft),
      signatures: c.signatures,
      progress: {
        trustedRoot: { signed: count(trusted.roles.root.keyids), threshold: trusted.roles.root.threshold },
        draftRoot: { signed: count(c.draft.roles.root.keyids), threshold: c.draft.roles.root.threshold },
      },
      events: this.#deps.audit.forCeremony(id).map(({ at, kind, keyid, detail }) => ({ at, kind, keyid, detail })),
    };
  }

  async #open(kind: CeremonyKind, draft: Root, trusted: Root, reason: string, newOnlineKeyId: string | null = null) {
    const now = this.#deps.now();
    const settings = this.#deps.settings();
    draft.version = trusted.version + 1;
    if (kind !== "root-change") draft.expires = expiresAt(settings.expiry, "root", now);
    const id = toHex(crypto.getRandomValues(new Uint8Array(8)));
    this.#deps.transaction(() => {
      this.book.open({
        id,
        kind,
        rootVersion: draft.version,
        draft,
        newOnlineKeyId,
        openedAt: now.getTime(),
        expiresAt: now.getTime() + settings.ceremonyTtl * 1000,
      });
      this.#deps.audit.record("ceremony-opened", `${kind} to root ${draft.version} (${reason})`, {
        ceremonyId: id,
        ...(newOnlineKeyId ? { keyid: newOnlineKeyId } : {}),
      });
    });
    return { ok: true as const, ceremony: await this.view(id) };
  }

  async #publishIfComplete(ceremony: Ceremony, trusted: Root): Promise<void> {
    const envelope = { signed: ceremony.draft, signatures: ceremony.signatures };
    try {
      await verifyRootSuccessor(trusted, envelope);
    } catch (error) {
      if (error instanceof TufError) return; // below a threshold: keep collecting
      throw error;
    }
    const file = serialize(envelope);
    const sha256 = await sha256Hex(file.bytes);
    const now = this.#deps.now().getTime();
    this.#deps.transaction(() => {
      this.#deps.roots.add(ceremony.rootVersion, file.bytes, ceremony.draft.expires, now);
      this.book.close(ceremony.id, "published", now);
      this.#deps.audit.record("root-accepted", `root ${ceremony.rootVersion} met both thresholds`, {
        ceremonyId: ceremony.id,
      });
      const newOnlineKeyId = ceremony.newOnlineKeyId;
      const rotated = newOnlineKeyId !== null;
      if (rotated) {
        for (const old of new Set(ONLINE_ROLES.flatMap((r) => trusted.roles[r].keyids))) {
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
      this.#deps.onRootAccepted(rotated, ceremony.rootVersion, sha256);
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
