import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { toHex } from "../../src/lib/bytes.ts";
import { parseEnvelope, verifyThreshold } from "../../src/tuf/metadata.ts";
import { parseRoot } from "../../src/tuf/root.ts";
import { BASE, bootstrapped, getJson, rootSigners, workerFetch } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

afterEach(() => vi.useRealTimers());

/** The repository must look exactly as before: same root chain, same timestamp. */
async function expectUnchanged(repo: string, timestampVersion: number) {
  expect((await workerFetch(`${BASE}/${repo}/metadata/2.root.json`)).status).toBe(404);
  const { json } = await getJson(`/${repo}/metadata/timestamp.json`);
  expect(json.signed.version).toBe(timestampVersion);
}

describe("online-key rotation", () => {
  it("publishes root 2 at both thresholds, re-signs every online role with the new key, destroys the old", async () => {
    const { client, signers, onlineKeyId } = await bootstrapped("cer-rotate", { bins: 16 });
    const opened = await client.openCeremony({ kind: "online-key-rotation", reason: "quarterly" });
    expect(opened).toMatchObject({ kind: "online-key-rotation", state: "awaiting-signatures", rootVersion: 2 });
    expect(opened.summary?.roles.timestamp.keyidsRemoved).toEqual([onlineKeyId]);
    expect(opened.summary?.keysRemoved.map((k) => k.keyid)).toEqual([onlineKeyId]);
    expect(opened.progress.trustedRoot).toEqual({ signed: 0, threshold: 2 });
    const newKeyId = defined(opened.summary?.roles.timestamp.keyidsAdded[0]);

    const first = await client.submitSignature(opened.id, await signDraft(opened, defined(signers[0])));
    expect(first.ceremony.state).toBe("awaiting-signatures");
    expect(first.ceremony.progress.trustedRoot?.signed).toBe(1);
    await expectUnchanged("cer-rotate", 1);

    const second = await client.submitSignature(opened.id, await signDraft(opened, defined(signers[1])));
    expect(second.ceremony.state).toBe("published");
    expect(defined(second.versions).timestamp).toBe(2);

    const root2 = await workerFetch(`${BASE}/cer-rotate/metadata/2.root.json`);
    expect(root2.status).toBe(200);
    const envelope = parseEnvelope(new Uint8Array(await root2.arrayBuffer()), "root");
    const root = await parseRoot(envelope.signed);
    expect(root.roles.timestamp.keyids).toEqual([newKeyId]);
    // Every online role is now signed by the new key only.
    const { json: ts } = await getJson("/cer-rotate/metadata/timestamp.json");
    expect(ts.signatures.map((s: { keyid: string }) => s.keyid)).toEqual([newKeyId]);
    await verifyThreshold(ts, root.roles.timestamp, root.keys, "timestamp");
    const { json: snapshot } = await getJson(
      `/cer-rotate/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`,
    );
    for (const [file, meta] of Object.entries(snapshot.signed.meta) as Array<[string, { version: number }]>) {
      expect(meta.version, file).toBe(2);
      const { json } = await getJson(`/cer-rotate/metadata/2.${file}`);
      expect(json.signatures[0].keyid, file).toBe(newKeyId);
    }
    const status = await client.status();
    expect(status.onlineKeyId).toBe(newKeyId);
    expect(status.openCeremony).toBeNull();
    // The old key's private material is gone.
    const oldKey = await runInDurableObject(env.REPOSITORY.getByName("cer-rotate"), (_i: Repository, state) =>
      state.storage.sql
        .exec<{ state: string; n: number }>(
          "SELECT state, length(sealed) AS n FROM online_keys WHERE keyid = ?",
          onlineKeyId,
        )
        .one(),
    );
    expect(oldKey).toEqual({ state: "retired", n: 0 });
    const events = (await client.ceremony(opened.id)).events.map((e) => e.kind);
    expect(events).toEqual([
      "ceremony-opened",
      "signature-accepted",
      "signature-accepted",
      "root-accepted",
      "online-key-destroyed",
      "online-key-activated",
    ]);
  });

  it("an emergency rotation cancels the open ceremony and starts at once", async () => {
    const { client } = await bootstrapped("cer-emergency");
    const routine = await client.openCeremony({ kind: "online-key-rotation" });
    await expect(client.openCeremony({ kind: "online-key-rotation" })).rejects.toMatchObject({
      status: 409,
      problem: { code: "ceremony_open" },
    });
    const emergency = await client.openCeremony({
      kind: "online-key-rotation",
      reason: "key exposed in a log",
      emergency: true,
    });
    expect(emergency.id).not.toBe(routine.id);
    expect((await client.ceremony(routine.id)).state).toBe("cancelled");
  });
});

describe("ceremonies that must publish nothing", () => {
  it("rejects signatures from non-root keys, bad signatures and signatures over other bytes", async () => {
    const { client, signers } = await bootstrapped("cer-reject");
    const opened = await client.openCeremony({ kind: "online-key-rotation" });
    const [outsider] = await rootSigners(1);
    await expect(client.submitSignature(opened.id, await signDraft(opened, defined(outsider)))).rejects.toMatchObject({
      status: 422,
      problem: { code: "not_a_root_key" },
    });
    const good = await signDraft(opened, defined(signers[0]));
    const flipped = good.sig.slice(0, -2) + (good.sig.endsWith("00") ? "01" : "00");
    await expect(client.submitSignature(opened.id, { ...good, sig: flipped })).rejects.toMatchObject({
      problem: { code: "invalid_signature" },
    });
    const otherBytes = canonicalBytes({ ...opened.draft, expires: "2099-01-01T00:00:00Z" });
    const wrongBytes = { keyid: defined(signers[0]).keyid, sig: toHex(await defined(signers[0]).sign(otherBytes)) };
    await expect(client.submitSignature(opened.id, wrongBytes)).rejects.toMatchObject({
      problem: { code: "invalid_signature" },
    });
    // The third root key (not in root 1's threshold set) is not a root key either.
    await expect(client.submitSignature(opened.id, await signDraft(opened, defined(signers[2])))).rejects.toMatchObject(
      {
        problem: { code: "not_a_root_key" },
      },
    );
    // Below threshold: one good signature publishes nothing.
    await client.submitSignature(opened.id, good);
    await expectUnchanged("cer-reject", 1);
    const view = await client.ceremony(opened.id);
    expect(view.state).toBe("awaiting-signatures");
    expect(view.events.filter((e) => e.kind === "signature-rejected")).toHaveLength(4);
  });

  it("publishes nothing once cancelled, and destroys the key it generated", async () => {
    const { client, signers } = await bootstrapped("cer-cancel");
    const opened = await client.openCeremony({ kind: "online-key-rotation" });
    await client.submitSignature(opened.id, await signDraft(opened, defined(signers[0])));
    const cancelled = await client.cancelCeremony(opened.id, "changed our minds");
    expect(cancelled.state).toBe("cancelled");
    await expect(client.submitSignature(opened.id, await signDraft(opened, defined(signers[1])))).rejects.toMatchObject(
      {
        status: 409,
        problem: { code: "ceremony_closed" },
      },
    );
    await expectUnchanged("cer-cancel", 1);
    const newKeyId = defined(opened.summary?.roles.timestamp.keyidsAdded[0]);
    const key = await runInDurableObject(env.REPOSITORY.getByName("cer-cancel"), (_i: Repository, state) =>
      state.storage.sql
        .exec<{ state: string; n: number }>(
          "SELECT state, length(sealed) AS n FROM online_keys WHERE keyid = ?",
          newKeyId,
        )
        .one(),
    );
    expect(key).toEqual({ state: "retired", n: 0 });
  });

  it("publishes nothing once the draft has expired", async () => {
    const { client, signers } = await bootstrapped("cer-expire", { bins: 16, ceremonyTtl: 3600 });
    const opened = await client.openCeremony({ kind: "online-key-rotation" });
    await client.submitSignature(opened.id, await signDraft(opened, defined(signers[0])));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 2 * 3600_000);
    await expect(client.submitSignature(opened.id, await signDraft(opened, defined(signers[1])))).rejects.toMatchObject(
      {
        problem: { code: "ceremony_closed", detail: expect.stringMatching(/expired/) },
      },
    );
    vi.useRealTimers();
    await expectUnchanged("cer-expire", 1);
  });
});

describe("root-key rotation", () => {
  it("publishes an operator's draft with new root keys once old and new thresholds are met", async () => {
    const { client, signers, root } = await bootstrapped("cer-rootkeys");
    const [newKey] = await rootSigners(1);
    const draft = structuredClone(root.signed) as any;
    draft.version = 2;
    const oldRootKeyIds: string[] = draft.roles.root.keyids;
    draft.keys[defined(newKey).keyid] = defined(newKey).key;
    delete draft.keys[defined(oldRootKeyIds[1])];
    draft.roles.root = { keyids: [oldRootKeyIds[0], defined(newKey).keyid], threshold: 2 };
    const opened = await client.openCeremony({ kind: "root-change", signed: draft });
    expect(opened.summary?.roles.root.keyidsAdded).toEqual([defined(newKey).keyid]);
    expect(opened.summary?.roles.root.keyidsRemoved).toEqual([oldRootKeyIds[1]]);
    // The new key and one old key meet the new threshold but not the old one (2 of the old keys).
    await client.submitSignature(opened.id, await signDraft(opened, defined(newKey)));
    const two = await client.submitSignature(opened.id, await signDraft(opened, defined(signers[0])));
    expect(two.ceremony.state).toBe("awaiting-signatures");
    expect(two.ceremony.progress).toEqual({
      trustedRoot: { signed: 1, threshold: 2 },
      draftRoot: { signed: 2, threshold: 2 },
    });
    const done = await client.submitSignature(opened.id, await signDraft(opened, defined(signers[1])));
    expect(done.ceremony.state).toBe("published");
    expect((await workerFetch(`${BASE}/cer-rootkeys/metadata/2.root.json`)).status).toBe(200);
    // Online key unchanged: the timestamp is still signed by it.
    const { json } = await getJson("/cer-rootkeys/metadata/timestamp.json");
    expect(json.signatures[0].keyid).toBe((await client.status()).onlineKeyId);
  });

  it("refuses a draft that changes the online roles or skips a version", async () => {
    const { client, root } = await bootstrapped("cer-baddraft");
    const skip = { ...(root.signed as object), version: 3 };
    await expect(client.openCeremony({ kind: "root-change", signed: skip })).rejects.toMatchObject({ status: 422 });
    const online = structuredClone(root.signed) as any;
    online.version = 2;
    online.roles.timestamp = { keyids: [online.roles.root.keyids[0]], threshold: 1 };
    await expect(client.openCeremony({ kind: "root-change", signed: online })).rejects.toMatchObject({
      problem: { detail: expect.stringMatching(/online role timestamp/) },
    });
    expect((await client.ceremonies()).ceremonies).toHaveLength(0);
  });
});

describe("status while a ceremony is open", () => {
  it("lists the open ceremony as a warning until it is closed", async () => {
    const { client } = await bootstrapped("cer-warn");
    expect((await client.status()).warnings).toEqual([]);
    const opened = await client.openCeremony({ kind: "root-refresh" });
    const { warnings } = await client.status();
    expect(warnings.join(" ")).toContain(`ceremony ${opened.id} (root-refresh to root v2) is open`);
    await client.cancelCeremony(opened.id, "test");
    expect((await client.status()).warnings).toEqual([]);
  });
});

describe("scheduled ceremonies", () => {
  it("opens a root re-signing ceremony before root expires, and health warns", async () => {
    const { client } = await bootstrapped("cer-rootexp");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 340 * 86_400_000);
    await client.changeTargets({ remove: ["x"] }); // any activity; the alarm would do the same
    await env.REPOSITORY.getByName("cer-rootexp").refresh();
    const status = await client.status();
    expect(status.openCeremony?.kind).toBe("root-refresh");
    expect(status.warnings.join(" ")).toMatch(/root 1 expires/);
    vi.useRealTimers();
  });

  it("opens an online-key rotation when the key is older than the rotation period", async () => {
    const { client } = await bootstrapped("cer-sched", { bins: 16, onlineKeyRotationPeriod: 86_400 * 30 });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31 * 86_400_000);
    await env.REPOSITORY.getByName("cer-sched").refresh();
    const status = await client.status();
    expect(status.openCeremony?.kind).toBe("online-key-rotation");
    vi.useRealTimers();
  });
});
