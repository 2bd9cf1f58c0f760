/**
 * GET /{repo}/tasks/{id} reports the versions of the publish round that first
 * carried the change (issue 10, class 9), so a registry can tell its clients
 * which timestamp version to wait for, however many rounds came after.
 */
import { describe, expect, it } from "vitest";
import type { TaskView } from "../../src/repository-api.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { getJson, publishedTarget, withHmacRegistry } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

async function addEvent(path: string) {
  return { type: "targets.add" as const, path, length: path.length, hashes: { sha256: await sha256Hex(utf8(path)) } };
}

describe("class 9: a task's versions are the first that carried it", () => {
  it("keeps the publishing round's versions after later rounds, for waited and async pushes", async () => {
    const repo = "task-first-versions";
    const { registry } = await withHmacRegistry(repo);
    const first = await registry.push([await addEvent("v/first")]);
    expect(first.task.state).toBe("published");
    const seen = await publishedTarget(repo, "v/first");
    expect(defined(first.task.versions).timestamp).toBe(seen.timestamp);
    expect(defined(first.task.versions).snapshot).toBe(seen.snapshot);

    const queued = await registry.push([await addEvent("v/async")], { async: true });
    await registry.push([await addEvent("v/later")]);
    const later = await registry.push([await addEvent("v/latest")]);
    expect(defined(later.task.versions).timestamp).toBeGreaterThan(defined(first.task.versions).timestamp + 1);
    expect((await publishedTarget(repo, "v/latest")).timestamp).toBe(defined(later.task.versions).timestamp);

    const { json: polled } = await getJson<TaskView>(`/${repo}/tasks/${first.task.id}`);
    expect(polled).toMatchObject({ state: "published", versions: first.task.versions });

    const { json: asyncTask } = await getJson<TaskView>(`/${repo}/tasks/${queued.task.id}`);
    expect(asyncTask.state).toBe("published");
    // The async push was published by a round between the first push's and the latest one's.
    expect(defined(asyncTask.versions).timestamp).toBeGreaterThan(defined(first.task.versions).timestamp);
    expect(defined(asyncTask.versions).timestamp).toBeLessThan(defined(later.task.versions).timestamp);
    // That timestamp version's snapshot lists the bin that carries the async push's target.
    const { json: snapshot } = await getJson(`/${repo}/metadata/${defined(asyncTask.versions).snapshot}.snapshot.json`);
    expect(snapshot.signed.version).toBe(defined(asyncTask.versions).snapshot);
  });
});
