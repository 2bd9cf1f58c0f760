/**
 * (e) Online-key rotation: how long re-signing every online role with a new
 * key takes, for a repository with many bins and targets. The rotation is a
 * root ceremony: root v2 names the new online key; once a threshold of root
 * keys signed it, the repository destroys the old key and re-signs targets,
 * every bin, snapshot and timestamp with the new one (in bounded chunks, the
 * rest continued by alarms).
 *
 * Measured from the final signature's submission (POST …/ceremonies/{id}/
 * signatures, which answers once the publish carrying the new root is done)
 * until (a) that call returns and (b) GET timestamp.json serves a timestamp
 * signed by the new key (polled). Beside it: bootstrap, which signs the same
 * roles once, measured in the same run, and RSTUF's published figure for
 * re-signing 2,048 roles (not measured here).
 */
import { signDraft } from "../../lib/admin-client.ts";
import { startBenchInstance } from "../instance.ts";
import { loadRepository } from "../loaded-repository.ts";
import { InstanceMonitor } from "../monitor.ts";
import { getJson, makePoolFetch, sleep } from "../pool-fetch.ts";
import { ratio } from "../stats.ts";
import type { BenchContext, Section, SectionResult, Table } from "../types.ts";
import { defined } from "../../lib/defined.ts";

const REPO = "bench-rotation";
const ROOT_KEYS = 3;
const THRESHOLD = 2;
/** RSTUF's published figure (not measured here): about 360 s to re-sign 2,048 roles. */
const RSTUF = { roles: 2048, seconds: 360 };
const SERVE_TIMEOUT_MS = 30 * 60_000;

interface TimestampFile {
  signed: { version: number; meta: Record<string, { version: number }> };
  signatures: Array<{ keyid: string }>;
}
interface SnapshotFile {
  signed: { version: number; meta: Record<string, { version: number }> };
}

export const rotation: Section = {
  name: "rotation",
  title: "Online-key rotation: re-signing every online role",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const notes: string[] = [];
    const fmt = (n: number) => n.toLocaleString("en-US");
    const pool = makePoolFetch(8);
    const bench = await startBenchInstance(context, "rotation");
    const monitor = new InstanceMonitor(bench.instance.port, 200);
    try {
      const admin = bench.client(REPO);
      const base = bench.instance.baseUrl;
      const metadataUrl = (file: string) => `${base}/${REPO}/metadata/${file}`;
      log(`rotation: loading "${REPO}" with ${fmt(options.targets)} targets in ${fmt(options.bins)} bins`);
      const loaded = await loadRepository(admin, {
        bins: options.bins,
        targets: options.targets,
        rootKeys: ROOT_KEYS,
        threshold: THRESHOLD,
        log,
      });

      const before = await admin.status();
      const timestampBefore = await getJson<TimestampFile>(pool.fetch, metadataUrl("timestamp.json"));
      const snapshotBefore = await getJson<SnapshotFile>(
        pool.fetch,
        metadataUrl(`${defined(timestampBefore.signed.meta["snapshot.json"]).version}.snapshot.json`),
      );

      log("rotation: opening the online-key rotation ceremony");
      const openStart = performance.now();
      const ceremony = await admin.openCeremony({ kind: "online-key-rotation", reason: "benchmark" });
      const openMs = performance.now() - openStart;
      const newKeyId = defined(ceremony.draft?.roles.timestamp.keyids[0]);
      if (newKeyId === before.onlineKeyId) throw new Error("the draft names the current online key");

      // Every signature but the last: recorded, nothing published yet.
      const signatures = await Promise.all(loaded.rootSigners.slice(0, THRESHOLD).map((s) => signDraft(ceremony, s)));
      const earlyStart = performance.now();
      for (const sig of signatures.slice(0, -1)) {
        const { ceremony: c } = await admin.submitSignature(ceremony.id, sig);
        if (c.state !== "awaiting-signatures") throw new Error(`the ceremony is ${c.state} before its threshold`);
      }
      const earlyMs = (performance.now() - earlyStart) / Math.max(1, THRESHOLD - 1);

      // The final signature; a poller watches timestamp.json for the new key meanwhile.
      log(`rotation: submitting signature ${THRESHOLD} of ${THRESHOLD} (re-signs ${fmt(options.bins + 3)} roles)`);
      monitor.resetPeak();
      const mark = monitor.mark();
      const t0 = performance.now();
      let servedAt: number | null = null;
      let servedVersion: number | null = null;
      let polls = 0;
      let stopPolling = false;
      const poller = (async () => {
        while (!stopPolling && performance.now() - t0 < SERVE_TIMEOUT_MS) {
          try {
            polls++;
            const ts = await getJson<TimestampFile>(pool.fetch, metadataUrl("timestamp.json"));
            if (ts.signatures.some((s) => s.keyid === newKeyId)) {
              servedAt = performance.now();
              servedVersion = ts.signed.version;
              return;
            }
          } catch {
            // keep polling
          }
          await sleep(options.quick ? 25 : 100);
        }
      })();
      const ticker = setInterval(
        () => log(`  rotation running: ${((performance.now() - t0) / 1000).toFixed(0)} s`),
        15_000,
      );
      let submitMs: number;
      let versions: { timestamp: number; snapshot: number; targets: number } | undefined;
      try {
        const result = await admin.submitSignature(ceremony.id, defined(signatures.at(-1)));
        submitMs = performance.now() - t0;
        versions = result.versions;
        if (result.ceremony.state !== "published")
          throw new Error(`the ceremony is ${result.ceremony.state} after the final signature`);
      } finally {
        clearInterval(ticker);
      }
      await poller;
      stopPolling = true;
      const usage = { ...monitor.since(mark), peak: monitor.peakHwm };
      const servedMs = servedAt === null ? null : (servedAt as number) - t0;
      log(
        `  submitSignature returned after ${(submitMs / 1000).toFixed(1)} s; new-key timestamp served after ${servedMs === null ? "?" : (servedMs / 1000).toFixed(1)} s`,
      );
      if (servedMs === null)
        notes.push(`No timestamp signed by the new key was served within ${SERVE_TIMEOUT_MS / 1000} s.`);

      // What was re-signed: roles whose version moved between the snapshots before and after.
      const after = await admin.status();
      const timestampAfter = await getJson<TimestampFile>(pool.fetch, metadataUrl("timestamp.json"));
      const snapshotAfter = await getJson<SnapshotFile>(
        pool.fetch,
        metadataUrl(`${defined(timestampAfter.signed.meta["snapshot.json"]).version}.snapshot.json`),
      );
      const listed = Object.keys(snapshotAfter.signed.meta);
      const moved = listed.filter(
        (f) => (snapshotAfter.signed.meta[f]?.version ?? 0) > (snapshotBefore.signed.meta[f]?.version ?? 0),
      ).length;
      const rolesResigned = moved + 2; // + snapshot and timestamp
      const root2 = await pool.fetch(metadataUrl(`${ceremony.rootVersion}.root.json`));
      await root2.text();
      if (root2.status !== 200) notes.push(`${ceremony.rootVersion}.root.json answered ${root2.status}.`);
      if (after.onlineKeyId !== newKeyId)
        notes.push(`status names online key ${after.onlineKeyId}, not the new ${newKeyId}.`);
      if (after.pendingChanges) notes.push("status still shows pending changes after the rotation.");
      if (moved !== listed.length)
        notes.push(`${listed.length - moved} of ${listed.length} roles listed in the snapshot kept their version.`);
      if (usage.restarts.length) notes.push("The Worker's workerd restarted during the rotation.");

      const rolesPerS = (roles: number, ms: number | null) => (ms === null || ms <= 0 ? null : roles / (ms / 1000));
      const rstufRate = RSTUF.roles / RSTUF.seconds;
      const bootRoles = options.bins + 3;
      const table: Table = {
        title: `Online-key rotation: ${fmt(options.bins)} bins, ${fmt(loaded.targetsCount)} targets; root keys ${THRESHOLD}-of-${ROOT_KEYS}`,
        columns: [
          { header: "what", align: "left" },
          { header: "source", align: "left" },
          { header: "roles signed" },
          { header: "seconds", digits: 1 },
          { header: "roles/s", digits: 1 },
          { header: "÷ RSTUF roles/s", digits: 1 },
        ],
        rows: [
          [
            "rotation: final submitSignature returned",
            "measured",
            rolesResigned,
            submitMs / 1000,
            rolesPerS(rolesResigned, submitMs),
            ratio(rolesPerS(rolesResigned, submitMs) ?? Number.NaN, rstufRate),
          ],
          [
            "rotation: timestamp signed by the new key served",
            "measured",
            rolesResigned,
            servedMs === null ? null : servedMs / 1000,
            rolesPerS(rolesResigned, servedMs),
            ratio(rolesPerS(rolesResigned, servedMs) ?? Number.NaN, rstufRate),
          ],
          [
            "bootstrap (signs the same roles once)",
            "measured",
            bootRoles,
            loaded.bootstrapMs / 1000,
            rolesPerS(bootRoles, loaded.bootstrapMs),
            ratio(rolesPerS(bootRoles, loaded.bootstrapMs) ?? Number.NaN, rstufRate),
          ],
          [
            "RSTUF: re-sign 2,048 roles",
            "RSTUF's published figure, not measured here",
            RSTUF.roles,
            RSTUF.seconds,
            rstufRate,
            1,
          ],
        ],
        notes: [
          `Roles signed by the rotation: ${moved} targets roles (targets + bins) whose version moved between the snapshots before and after, + snapshot + timestamp; root ${ceremony.rootVersion} is signed offline by the root keys (signDraft), not by the online key.`,
          `Timed from POST …/ceremonies/{id}/signatures with signature ${THRESHOLD} of ${THRESHOLD} (that call answers once the publish carrying root ${ceremony.rootVersion} is done); "served": GET timestamp.json polled every ${options.quick ? 25 : 100} ms (${polls} polls) until its signature is by the new key ${newKeyId.slice(0, 12)}… (version ${servedVersion ?? "?"}; the call reported timestamp ${versions?.timestamp ?? "?"}).`,
          `Before: opening the ceremony took ${openMs.toFixed(0)} ms, each earlier signature ${earlyMs.toFixed(0)} ms. Default binsPerInvocation (1,024): ${Math.ceil((options.bins + 1) / 1024)} invocations, continued by alarms.`,
          `During the rotation: workerd ${usage.workerdCores.toFixed(2)} cores, other processes ${usage.otherCores.toFixed(2)} cores on the ${context.machineCores}-core machine; the Worker's workerd peaked at ${(usage.peak / 1024 ** 2).toFixed(0)} MiB.`,
          `RSTUF's figure (about ${RSTUF.seconds} s for ${fmt(RSTUF.roles)} roles) is RSTUF's published number on its own hardware, not measured here; the ratio compares rates across different machines and deployments.`,
          `Setup: bootstrap ${(loaded.bootstrapMs / 1000).toFixed(1)} s; ${loaded.batches} batch(es) of 10,000 targets published ${(loaded.loadMs / 1000).toFixed(1)} s after the first was sent.`,
        ],
      };
      if (pool.retries() > 0)
        notes.push(
          `${pool.retries()} request(s) were sent again after the server closed a kept-alive connection as it was reused.`,
        );
      return {
        tables: [table],
        notes,
        data: {
          bins: options.bins,
          targets: loaded.targetsCount,
          rootKeys: ROOT_KEYS,
          threshold: THRESHOLD,
          rolesResigned,
          rolesListed: listed.length,
          submitMs,
          servedMs,
          openMs,
          earlySignatureMs: earlyMs,
          versions: versions ?? null,
          servedTimestampVersion: servedVersion,
          polls,
          bootstrapMs: loaded.bootstrapMs,
          loadMs: loaded.loadMs,
          cpuCores: { workerd: usage.workerdCores, others: usage.otherCores },
          peakRssBytes: usage.peak || null,
          rstuf: { ...RSTUF, source: "RSTUF's published figure, not measured here" },
        },
      };
    } finally {
      monitor.stop();
      pool.close();
      await bench.stop();
    }
  },
};
