/**
 * (g) Refusing a forged push: what a push with a wrong signature costs the
 * service as a repository holds 1, 10 and 250 webhook credentials (measured
 * in the same run; the 1-credential level is the baseline).
 *
 * Credentials are spread over registries of at most MAX_CREDENTIALS_PER_REGISTRY
 * each, half HMAC and half Ed25519, as a repository with many registries
 * would hold them. The forged push names the first registry (the fullest
 * one: min(N, cap) credentials) at POST /{repo}/webhooks/registry/{name}
 * and carries a wrong v1 (HMAC) and a wrong v1a (Ed25519) signature, so every
 * credential of that registry is tried with its kind of signature, and is
 * refused 401. One client sends them back to back for a few seconds per
 * level; the figures are its round-trip times (through wrangler's local
 * proxy) and the CPU the workerd processes used per request.
 */
import * as ed from "@noble/ed25519";
import { signPush } from "../../lib/registry-client.ts";
import { MAX_CREDENTIALS_PER_REGISTRY } from "../../../src/schemas/registry-name.ts";
import { toBase64 } from "../../../src/lib/bytes.ts";
import { bootstrap, startBenchInstance } from "../instance.ts";
import { InstanceMonitor } from "../monitor.ts";
import { makePoolFetch } from "../pool-fetch.ts";
import { ratio, summarize } from "../stats.ts";
import type { BenchContext, Section, SectionResult } from "../types.ts";

const REPO = "bench-forged";
const LEVELS = [1, 10, 250];

interface LevelResult {
  credentials: number;
  registries: number;
  tried: number;
  requests: number;
  seconds: number;
  rttMs: number[];
  workerdCpuMsPerRequest: number;
  unexpected: number;
}

const registryName = (i: number) => `reg-${String(i).padStart(3, "0")}`;

export const forgedPushes: Section = {
  name: "forged",
  title: "Refusing a forged push at 1, 10 and 250 credentials",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const seconds = options.quick ? 2 : 5;
    const pool = makePoolFetch(4);
    const bench = await startBenchInstance(context, "forged");
    const monitor = new InstanceMonitor(bench.instance.port, 200);
    try {
      const admin = bench.client(REPO);
      await bootstrap(admin, { bins: 16 });
      const url = `${bench.instance.baseUrl}/${REPO}/webhooks/registry/${registryName(0)}`;
      const body = JSON.stringify({
        repository: REPO,
        events: [{ type: "targets.remove", path: "forged/never.tgz" }],
      });
      const wrongHmac = "whsec_" + toBase64(crypto.getRandomValues(new Uint8Array(32)));
      let held = 0;
      const addCredentials = async (total: number) => {
        for (; held < total; held++) {
          const registry = registryName(Math.floor(held / MAX_CREDENTIALS_PER_REGISTRY));
          if (held % 2 === 0) await admin.addRegistryCredential(registry, { kind: "hmac" });
          else {
            const publicKey = await ed.getPublicKeyAsync(ed.utils.randomSecretKey());
            await admin.addRegistryCredential(registry, { kind: "ed25519", publicKey: `whpk_${toBase64(publicKey)}` });
          }
        }
      };
      const forged = async (i: number) => {
        const id = `msg_forged_${i}`;
        const timestamp = Math.floor(Date.now() / 1000);
        const hmac = await signPush({ kind: "hmac", secret: wrongHmac }, body, id, timestamp);
        const edSig = await signPush({ kind: "ed25519", seed: ed.utils.randomSecretKey() }, body, id, timestamp);
        return pool.fetch(url, {
          method: "POST",
          headers: {
            ...hmac,
            "webhook-signature": `${hmac["webhook-signature"]} ${edSig["webhook-signature"]}`,
            "Content-Type": "application/json",
          },
          body,
        });
      };

      const levels: LevelResult[] = [];
      let serial = 0;
      for (const credentials of LEVELS) {
        log(`forged: ${credentials} credential(s)`);
        await addCredentials(credentials);
        for (let i = 0; i < 20; i++) await (await forged(serial++)).arrayBuffer(); // warm-up
        const rttMs: number[] = [];
        let unexpected = 0;
        const mark = monitor.mark();
        const start = performance.now();
        while (performance.now() - start < seconds * 1000) {
          const sent = performance.now();
          const response = await forged(serial++);
          await response.arrayBuffer();
          rttMs.push(performance.now() - sent);
          if (response.status !== 401) unexpected++;
        }
        const usage = monitor.since(mark);
        levels.push({
          credentials,
          registries: Math.ceil(credentials / MAX_CREDENTIALS_PER_REGISTRY),
          tried: Math.min(credentials, MAX_CREDENTIALS_PER_REGISTRY),
          requests: rttMs.length,
          seconds: usage.seconds,
          rttMs,
          workerdCpuMsPerRequest: (usage.workerdCores * usage.seconds * 1000) / rttMs.length,
          unexpected,
        });
      }
      const base = levels[0];
      const baseP50 = base ? summarize(base.rttMs).p50 : Number.NaN;
      const baseCpu = base?.workerdCpuMsPerRequest ?? Number.NaN;
      return {
        tables: [
          {
            title: `Forged pushes refused (401) at POST /{repo}/webhooks/registry/{name}, ${seconds} s per level, one client`,
            columns: [
              { header: "credentials" },
              { header: "registries" },
              { header: "tried" },
              { header: "requests" },
              { header: "p50 ms", digits: 2 },
              { header: "p99 ms", digits: 2 },
              { header: "p50 × 1 credential", digits: 2 },
              { header: "workerd CPU ms/req", digits: 3 },
              { header: "CPU × 1 credential", digits: 2 },
              { header: "not 401" },
            ],
            rows: levels.map((l) => {
              const s = summarize(l.rttMs);
              return [
                l.credentials,
                l.registries,
                l.tried,
                l.requests,
                s.p50,
                s.p99,
                ratio(s.p50, baseP50),
                l.workerdCpuMsPerRequest,
                ratio(l.workerdCpuMsPerRequest, baseCpu),
                l.unexpected,
              ];
            }),
            notes: [
              `Credentials are spread over registries of at most ${MAX_CREDENTIALS_PER_REGISTRY} (half HMAC, half Ed25519); the push names the fullest registry, so "tried" of them are checked against a wrong v1 and a wrong v1a signature. Other registries' credentials are never tried.`,
              "Round trips go through wrangler's local proxy; workerd CPU is both workerd processes' CPU over the level divided by its requests. Ratios are against the 1-credential level of the same run.",
            ],
          },
        ],
        data: {
          seconds,
          levels: levels.map((l) => ({
            credentials: l.credentials,
            registries: l.registries,
            tried: l.tried,
            requests: l.requests,
            rttMs: summarize(l.rttMs),
            workerdCpuMsPerRequest: l.workerdCpuMsPerRequest,
            unexpected: l.unexpected,
          })),
        },
      };
    } finally {
      monitor.stop();
      pool.close();
      await bench.stop();
    }
  },
};
