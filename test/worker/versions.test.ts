import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { bootstrapped, getJson } from "./helpers.ts";

describe("versions", () => {
  it("never reuses a version reserved by a publish that did not finish", async () => {
    const { client } = await bootstrapped("ver-reuse");
    const stub = env.REPOSITORY.getByName("ver-reuse");
    // A publish that died after reserving its snapshot and timestamp versions
    // (e.g. an R2 write failed) leaves those numbers spent.
    await runInDurableObject(stub, (_instance: Repository, state) => {
      const roles = new RoleTable(state.storage.sql);
      expect([roles.reserveVersion("snapshot"), roles.reserveVersion("timestamp")]).toEqual([2, 2]);
    });
    const path = "x/y.tgz";
    const { versions } = await client.changeTargets({
      add: [{ path, length: 1, hashes: { sha256: await sha256Hex(utf8(path)) } }],
    });
    expect(versions.snapshot).toBe(3);
    expect(versions.timestamp).toBe(3);
    const { json } = await getJson("/ver-reuse/metadata/timestamp.json");
    expect(json.signed.version).toBe(3);
    expect(json.signed.meta["snapshot.json"].version).toBe(3);
    expect((await getJson("/ver-reuse/metadata/2.snapshot.json")).response.status).toBe(404);
  });

  it("resumes a round interrupted between staging and the timestamp", async () => {
    const { client } = await bootstrapped("ver-resume", { bins: 16, binsPerInvocation: 4 });
    const stub = env.REPOSITORY.getByName("ver-resume");
    // Mark every bin changed and start a round, as if the object was evicted mid-publish.
    await runInDurableObject(stub, (_instance: Repository, state) => {
      state.storage.sql.exec(
        `INSERT INTO role_changes (name, dirty, seq) SELECT name, 2, 0 FROM roles WHERE name LIKE 'bins-%'
         ON CONFLICT (name) DO UPDATE SET dirty = 2`,
      );
      state.storage.sql.exec(
        "INSERT INTO state (key, value) VALUES ('round_active', 1) ON CONFLICT (key) DO UPDATE SET value = 1",
      );
    });
    expect((await client.status()).pendingChanges).toBe(true);
    const { versions } = await client.changeTargets({ remove: ["not/there"] });
    expect(versions.timestamp).toBe(2);
    const { json: snapshot } = await getJson("/ver-resume/metadata/2.snapshot.json");
    // Step packs of at most the budget's 4 bins, each at the next version.
    for (let i = 0; i < 16; i++)
      expect(snapshot.signed.meta[`bins-${i.toString(16)}.json`].version).toBe(2 + Math.floor(i / 4));
    expect((await client.status()).pendingChanges).toBe(false);
  });
});
