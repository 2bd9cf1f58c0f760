/**
 * When the repository wakes up next, and what it does then on its own:
 * its single Durable Object alarm is set for the earliest of (a) a publish
 * round that must continue, (b) a failed publish or refresh to retry, (c) the
 * next role coming due for re-signing, (d) an open ceremony expiring, (e) the
 * root coming within `rootRefreshLead` of expiry, (f) the online key reaching
 * its rotation period, (g) in protected-delegations mode, the offline top-level
 * targets coming within `rootRefreshLead` of expiry (its holders must re-sign
 * it: the service cannot), (h) the deadline of an import's hold on publishing
 * (import-hold.ts), while its stored batches wait. It also keeps the last
 * failure until a success clears it.
 */
import type { Root } from "../src/tuf/root.ts";
import type { AuditLog } from "./audit-log.ts";
import type { Ceremonies } from "./ceremonies.ts";
import type { Freshness } from "./freshness.ts";
import type { KeyVault } from "./key-vault.ts";
import type { RoleTable } from "./role-table.ts";
import type { Settings } from "./settings.ts";

const LAST_FAILURE = "last-failure";

/** Delay before a failed publish or refresh runs again. */
export const RETRY_DELAY_MS = 10_000;

/**
 * How far ahead of the present an alarm for work that continues "now" is
 * set. Never at or before the present: workerd's handling of such an alarm
 * set from inside alarm() is unreliable (cloudflare/workerd#6866, open):
 * locally the running handler's end can clear it, and on the platform it can
 * stay set, past due, without firing. Its reporter found one millisecond
 * ahead reliable in both.
 */
export const ALARM_SOON_MS = 1;

/**
 * An alarm this long past due has not fired when it should have (see
 * ALARM_SOON_MS). An alarm set while a handler runs waits for that handler,
 * an invocation of bounded CPU, so it is late by less than this.
 */
export const ALARM_OVERDUE_MS = 30_000;

export interface SchedulerDeps {
  storage: DurableObjectStorage;
  roles: RoleTable;
  freshness: Freshness;
  ceremonies: Ceremonies;
  vault: KeyVault;
  audit: AuditLog;
  trustedRoot: () => Promise<Root>;
  /** The expiry of top-level targets when its key holders sign it (protected-delegations mode), else null. */
  offlineTargetsExpiry: () => string | null;
  /** Opens the ceremony that re-signs the offline targets with a later expiry. */
  openTargetsRefresh: () => Promise<unknown>;
  /** Until when stored changes wait for an import's end (import-hold.ts), or null. */
  importHold: (now: number) => number | null;
}

export class Scheduler {
  readonly #deps: SchedulerDeps;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  /** Sets the alarm: now if a round must continue, else the next deadline. */
  async arm(settings: Settings, continueNow = false): Promise<void> {
    const { roles, freshness, ceremonies, vault, storage } = this.#deps;
    const held = this.#deps.importHold(Date.now());
    const changed = roles.hasChanges();
    if (continueNow || roles.roundActive() || (changed && held === null)) {
      await this.soon();
      return;
    }
    const deadlines: number[] = [];
    if (changed && held !== null) deadlines.push(held);
    const fresh = freshness.nextDeadline(settings);
    if (fresh !== null) deadlines.push(fresh);
    const open = ceremonies.book.current();
    if (open) deadlines.push(open.expiresAt);
    else {
      const root = await this.#deps.trustedRoot();
      deadlines.push(Date.parse(root.expires) - settings.rootRefreshLead * 1000);
      const targets = this.#deps.offlineTargetsExpiry();
      if (targets !== null) deadlines.push(Date.parse(targets) - settings.rootRefreshLead * 1000);
      const active = vault.find("active");
      if (active && settings.onlineKeyRotationPeriod > 0) {
        deadlines.push(vault.createdAt(active.keyid) + settings.onlineKeyRotationPeriod * 1000);
      }
    }
    await storage.setAlarm(Math.max(Date.now() + ALARM_SOON_MS, Math.min(...deadlines)));
  }

  /** Sets the alarm for work that continues at once: the next invocation, ALARM_SOON_MS from now. */
  async soon(): Promise<void> {
    await this.#deps.storage.setAlarm(Date.now() + ALARM_SOON_MS);
  }

  /**
   * Sets again an alarm that is ALARM_OVERDUE_MS past due, as if it had not
   * been set: a fresh value reaches the runtime's scheduler, which may have
   * lost the old one (cloudflare/workerd#6866). Called on operators' reads
   * (status, metrics); the minute's cron re-arms the alarm too. Returns how
   * late it was, or null if it was not.
   */
  async rearmIfOverdue(now: number): Promise<number | null> {
    const at = await this.#deps.storage.getAlarm();
    if (at === null || now - at < ALARM_OVERDUE_MS) return null;
    await this.soon();
    return now - at;
  }

  /**
   * Opens the ceremony that is due, if any: a root refresh before root
   * expires, a refresh of the offline targets before it expires, or a
   * scheduled rotation.
   */
  async openDueCeremonies(settings: Settings, now: Date): Promise<void> {
    const { ceremonies, vault } = this.#deps;
    ceremonies.expireStale();
    if (ceremonies.book.current()) return;
    const root = await this.#deps.trustedRoot();
    if (Date.parse(root.expires) - now.getTime() <= settings.rootRefreshLead * 1000) {
      await ceremonies.openRootRefresh(`root ${root.version} expires at ${root.expires}`);
      return;
    }
    const targets = this.#deps.offlineTargetsExpiry();
    if (targets !== null && Date.parse(targets) - now.getTime() <= settings.rootRefreshLead * 1000) {
      await this.#deps.openTargetsRefresh();
      return;
    }
    const active = vault.find("active");
    const period = settings.onlineKeyRotationPeriod * 1000;
    if (active && period > 0 && vault.createdAt(active.keyid) + period <= now.getTime()) {
      await ceremonies.openRotation("scheduled rotation");
    }
  }

  /** Records a failure (audit log, status) and schedules the retry. */
  async failed(kind: "publish-failed" | "refresh-failed", error: unknown): Promise<void> {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";
    this.#deps.audit.record(kind, detail);
    this.#deps.storage.kv.put(LAST_FAILURE, { at: new Date().toISOString(), detail });
    await this.#deps.storage.setAlarm(Date.now() + RETRY_DELAY_MS);
  }

  /** A publish went through: the last failure is over. */
  succeeded(): void {
    this.#deps.storage.kv.delete(LAST_FAILURE);
  }

  lastFailure(): { at: string; detail: string } | null {
    return this.#deps.storage.kv.get<{ at: string; detail: string }>(LAST_FAILURE) ?? null;
  }
}
