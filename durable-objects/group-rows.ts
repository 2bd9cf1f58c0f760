/**
 * The rows a group of registry pushes (accept-group.ts) writes together,
 * once every push of the group has run: its tasks, its deliveries and the
 * bins it changed, a few statements for the whole group instead of some per
 * push. A push's rows are added only once it has run to its end, so a push
 * rolled back alone (its savepoint) leaves none here; a delivery added here
 * is a delivery the next pushes of the same group see (`delivery`), as if it
 * were stored already.
 */
import { insertRows } from "./plain-inserts.ts";

/** A task's row as it is inserted (the versions of the round that publishes it come later). */
export interface NewTask {
  id: string;
  seq: number;
  registry: string;
  events: number;
  created_at: number;
}

export interface NewDelivery {
  registry: string;
  id: string;
  body_sha256: string;
  received_at: number;
  task_id: string;
}

export class GroupRows<Task extends NewTask> {
  #pushes: Array<{ task: Task; delivery: NewDelivery; bins: Iterable<string> }> = [];
  #deliveries = new Map<string, { delivery: NewDelivery; task: Task }>();

  /** The delivery with this registry's id that a push earlier in the group added, and its task. */
  delivery(registry: string, id: string): { delivery: NewDelivery; task: Task } | undefined {
    return this.#deliveries.get(deliveryKey(registry, id));
  }

  /** A push that ran to its end: its task, its delivery and the bins its change (`task.seq`) touched. */
  add(task: Task, delivery: NewDelivery, bins: Iterable<string>): void {
    this.#pushes.push({ task, delivery, bins });
    this.#deliveries.set(deliveryKey(delivery.registry, delivery.id), { delivery, task });
  }

  /** Forgets the pushes added so far: their group's transaction was rolled back, and they run again. */
  discard(): void {
    this.#pushes = [];
    this.#deliveries = new Map();
  }

  /**
   * Writes, in the group's transaction, the rows of the pushes whose tasks
   * `written` names (those answered as accepted: a push whose savepoint was
   * rolled back is not among them), and starts over for the next group. Each
   * bin is marked once, with the latest change that touched it.
   */
  write(sql: SqlStorage, written: ReadonlySet<string>, touch: (bins: ReadonlyMap<string, number>) => void): void {
    const pushes = this.#pushes.filter((p) => written.has(p.task.id));
    this.#pushes = [];
    this.#deliveries = new Map();
    insertRows(
      sql,
      "tasks",
      ["id", "seq", "registry", "events", "created_at"],
      pushes.map(({ task: t }) => [t.id, t.seq, t.registry, t.events, t.created_at]),
    );
    insertRows(
      sql,
      "deliveries",
      ["registry", "id", "body_sha256", "received_at", "task_id"],
      pushes.map(({ delivery: d }) => [d.registry, d.id, d.body_sha256, d.received_at, d.task_id]),
    );
    const bins = new Map<string, number>();
    for (const { task, bins: touched } of pushes) for (const bin of touched) bins.set(bin, task.seq);
    if (bins.size > 0) touch(bins);
  }
}

const deliveryKey = (registry: string, id: string) => `${registry}\n${id}`;
