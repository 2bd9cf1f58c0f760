/**
 * Delivery ids are remembered for DELIVERY_RETENTION_MS (durable-objects/
 * deliveries.ts): within it, the same webhook-id with another body is a
 * conflict; once the refresh (the alarm's and the cron's) has forgotten it,
 * the id is a new delivery. Senders retry with a fresh timestamp, so the
 * signature's tolerance does not decide this.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DELIVERY_RETENTION_MS } from "../../durable-objects/deliveries.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { registryClient, refused, targetEntry, withHmacRegistry } from "./helpers.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("deliveries", () => {
  it("remembers a webhook-id for the retention, then forgets it at a refresh", async () => {
    const repo = "deliveries-retention";
    const { secret } = await withHmacRegistry(repo);
    vi.useFakeTimers({ toFake: ["Date"] });
    // The registry's clock is the fake one too: each message is signed now, as a sender's retry is.
    const registry = registryClient(repo, { kind: "hmac", secret }, () => Math.floor(Date.now() / 1000), "registry");
    const add = async (path: string) => [{ type: "targets.add" as const, ...(await targetEntry(path)) }];
    const refresh = () =>
      runInDurableObject(env.REPOSITORY.getByName(repo), (instance: Repository) => instance.refresh());

    const first = await registry.push(await add("kept/a.tgz"), { id: "msg_kept" });
    expect(first.status).toBe(200);

    // A minute short of the retention: refreshed, still remembered.
    vi.setSystemTime(Date.now() + DELIVERY_RETENTION_MS - 60_000);
    await refresh();
    expect(await refused(registry.push(await add("kept/b.tgz"), { id: "msg_kept" }))).toMatchObject({
      status: 409,
      code: "delivery_conflict",
      detail: expect.stringContaining(`it is task ${first.task.id}`),
    });
    expect((await registry.push(await add("kept/a.tgz"), { id: "msg_kept" })).task.id).toBe(first.task.id);

    // Past it: the refresh forgets the id, and the same id is a new delivery.
    vi.setSystemTime(Date.now() + 2 * 60_000);
    await refresh();
    const again = await registry.push(await add("kept/b.tgz"), { id: "msg_kept" });
    expect(again.status).toBe(200);
    expect(again.duplicate).toBe(false);
    expect(again.task.id).not.toBe(first.task.id);
  });
});
