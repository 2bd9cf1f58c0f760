/**
 * Webhook deliveries (Standard Webhooks): a registry names each message by
 * its webhook-id, which belongs to that registry. The same id seen again
 * within DELIVERY_RETENTION_MS with the same body is the same delivery,
 * answered with its original task and applied once; with another body it is
 * a conflict (409). A push earlier in the group being written counts as
 * stored (group-rows.ts), so two copies of one message in one group apply
 * once too.
 */
import { utf8 } from "../src/lib/bytes.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import { failure, type Failure, type SignedPush } from "../src/repository-api.ts";
import type { GroupRows } from "./group-rows.ts";
import type { TaskRow } from "./tasks.ts";

/**
 * How long a delivery's id is remembered. Standard Webhooks senders retry a
 * message with the same id (and a fresh timestamp) for up to about a day and
 * a half, so ids are kept far longer than the timestamp tolerance.
 */
export const DELIVERY_RETENTION_MS = 7 * 86_400_000;

/** One delivery as its registry identifies it: the id is unique per registry, and its body is hashed. */
export interface Delivery {
  registry: string;
  id: string;
  bodySha256: string;
}

export class Deliveries {
  readonly #sql: SqlStorage;
  readonly #repo: string;
  readonly #rows: GroupRows<TaskRow>;

  /** `rows`: the group being written (Pushes'), whose deliveries count as stored. */
  constructor(deps: { sql: SqlStorage; repo: string; rows: GroupRows<TaskRow> }) {
    this.#sql = deps.sql;
    this.#repo = deps.repo;
    this.#rows = deps.rows;
  }

  /** The delivery `push` is, from `registry`. */
  async of(push: SignedPush, registry: string): Promise<Delivery> {
    return { registry, id: push.id, bodySha256: await sha256Hex(utf8(push.body)) };
  }

  /**
   * The task of an earlier delivery with this registry's id, or a conflict if
   * that delivery had another body (ids are the registry's own: another
   * registry's id is another delivery).
   */
  seen(delivery: Delivery): { task: TaskRow } | Failure | null {
    const grouped = this.#rows.delivery(delivery.registry, delivery.id);
    const found = grouped ? { task: grouped.task, bodySha256: grouped.delivery.body_sha256 } : this.#stored(delivery);
    if (!found) return null;
    const { task, bodySha256 } = found;
    if (bodySha256 !== null && bodySha256 !== delivery.bodySha256) {
      return failure(
        409,
        "delivery_conflict",
        `webhook-id "${delivery.id}" was delivered by registry "${delivery.registry}" with another body: it is task ${task.id} (/${this.#repo}/tasks/${task.id}); a new message needs a new id`,
      );
    }
    return { task };
  }

  /** Forgets the deliveries received DELIVERY_RETENTION_MS or more before `now`. */
  prune(now: number): void {
    this.#sql.exec("DELETE FROM deliveries WHERE received_at < ?", now - DELIVERY_RETENTION_MS);
  }

  /**
   * A stored delivery and its task, in two lookups by key rather than one
   * join: a join's plan reads the bound values, so workerd would prepare it
   * again for every push (stable-plans.ts).
   */
  #stored(delivery: Delivery): { task: TaskRow; bodySha256: string | null } | null {
    const stored = this.#sql
      .exec<{ task_id: string; body_sha256: string | null }>(
        "SELECT task_id, body_sha256 FROM deliveries WHERE registry = ? AND id = ?",
        delivery.registry,
        delivery.id,
      )
      .toArray()[0];
    const task = stored && this.#sql.exec<TaskRow>("SELECT * FROM tasks WHERE id = ?", stored.task_id).toArray()[0];
    return stored && task ? { task, bodySha256: stored.body_sha256 } : null;
  }
}
