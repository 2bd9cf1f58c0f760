/**
 * (g) Pages: what a page costs a reader and the server, and how long the
 * browser's own verification takes. Against an instance holding the pages
 * fixture (scripts/lib/pages-fixture.ts: real PEP 740 and npm attestations):
 *   - page weight: every request a headless Chromium makes to show the
 *     overview and a target page (with its verifying script and the files
 *     the script checks), and their bytes (local wrangler dev does not
 *     compress; gzip figures are given beside);
 *   - server CPU per page view: N sequential GETs of each page, CPU time of
 *     the workerd that runs the Worker divided by N, beside N GETs of
 *     timestamp.json (a file served from the edge cache) in the same run;
 *   - in-browser verification time: the target page loaded in fresh browser
 *     contexts (cold cache) and reloaded (warm), as the script reports it.
 */
import { existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import puppeteer from "puppeteer-core";
import { PYPI_PATH, populatePagesFixture, waitForPage } from "../../lib/pages-fixture.ts";
import { startBenchInstance } from "../instance.ts";
import { cpuSeconds } from "../proc.ts";
import { percentile, ratio } from "../stats.ts";
import type { BenchContext, Section, SectionResult } from "../types.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

interface Weight {
  requests: number;
  bytes: number;
  gzipBytes: number;
  htmlBytes: number;
}

export const pages: Section = {
  name: "pages",
  title: "Pages: weight, server CPU per view, in-browser verification",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options } = context;
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    const views = options.quick ? 100 : 400;
    const verifications = options.quick ? 5 : 20;
    const bench = await startBenchInstance(context, "pages");
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const base = bench.instance.baseUrl;
      await populatePagesFixture(base, bench.token);
      const urls = {
        overview: `${base}/pypi/`,
        target: `${base}/pypi/-/target/${PYPI_PATH}`,
        timestamp: `${base}/pypi/metadata/timestamp.json`,
      };
      await waitForPage(urls.overview, "attestation added to");
      await waitForPage(urls.target, "attestation.add");

      // Page weight, as a browser loads it (cold cache, fresh context).
      const weigh = async (url: string): Promise<Weight> => {
        const browserContext = await browser.createBrowserContext();
        const page = await browserContext.newPage();
        const loading: Array<Promise<Buffer>> = [];
        page.on("response", (response) => {
          loading.push(response.buffer().catch(() => Buffer.alloc(0)));
        });
        await page.goto(url, { waitUntil: "networkidle0" });
        if (url.includes("/-/target/")) await page.waitForSelector("#verify[data-outcome]", { timeout: 60_000 });
        const bodies = await Promise.all(loading);
        const html = bodies[0]?.length ?? 0;
        await browserContext.close();
        return {
          requests: bodies.length,
          bytes: bodies.reduce((s, b) => s + b.length, 0),
          gzipBytes: bodies.reduce((s, b) => s + gzipSync(b).length, 0),
          htmlBytes: html,
        };
      };
      const weights = { overview: await weigh(urls.overview), target: await weigh(urls.target) };

      // Server CPU per view: the workerd that runs the Worker.
      const pid = bench.workerPid;
      const cpuPerView = async (url: string): Promise<number | null> => {
        if (pid === null) return null;
        for (let i = 0; i < 5; i++) await (await fetch(url)).arrayBuffer();
        const before = cpuSeconds(pid);
        for (let i = 0; i < views; i++) {
          const response = await fetch(url);
          if (!response.ok) throw new Error(`${url} answered ${response.status}`);
          await response.arrayBuffer();
        }
        return ((cpuSeconds(pid) - before) * 1000) / views;
      };
      context.log(`pages: ${views} views each of the overview, a target page and timestamp.json`);
      const cpu = {
        timestamp: await cpuPerView(urls.timestamp),
        overview: await cpuPerView(urls.overview),
        target: await cpuPerView(urls.target),
      };

      // In-browser verification time: cold (fresh context) and warm (reload).
      const cold: number[] = [];
      const warm: number[] = [];
      for (let i = 0; i < verifications; i++) {
        const browserContext = await browser.createBrowserContext();
        const page = await browserContext.newPage();
        const measure = async () => {
          await page.waitForSelector("#verify[data-outcome]", { timeout: 60_000 });
          const { outcome, ms } = await page.$eval("#verify", (el) => ({
            outcome: (el as HTMLElement).dataset.outcome,
            ms: Number((el as HTMLElement).dataset.ms),
          }));
          if (outcome !== "verified") throw new Error(`the target page did not verify (${outcome})`);
          return ms;
        };
        await page.goto(urls.target, { waitUntil: "load" });
        cold.push(await measure());
        await page.reload({ waitUntil: "load" });
        warm.push(await measure());
        await browserContext.close();
      }
      const spread = (samples: number[]) => ({
        p50: percentile(samples, 50),
        p95: percentile(samples, 95),
        max: Math.max(...samples),
      });
      const coldS = spread(cold);
      const warmS = spread(warm);
      const fmt = (n: number | null) => (n === null ? null : Number(n.toFixed(3)));
      return {
        tables: [
          {
            title:
              "Page weight (headless Chromium, cold cache; the target page includes its script and the files it checks)",
            columns: [
              { header: "page", align: "left" },
              { header: "requests" },
              { header: "bytes" },
              { header: "gzip bytes" },
              { header: "HTML bytes" },
            ],
            rows: (["overview", "target"] as const).map((name) => [
              name,
              weights[name].requests,
              weights[name].bytes,
              weights[name].gzipBytes,
              weights[name].htmlBytes,
            ]),
          },
          {
            title: `Server CPU per view (${views} sequential GETs; the Worker's workerd)`,
            columns: [
              { header: "URL", align: "left" },
              { header: "CPU ms/view", digits: 3 },
              { header: "vs timestamp.json", digits: 1 },
            ],
            rows: (["timestamp", "overview", "target"] as const).map((name) => [
              name === "timestamp" ? "timestamp.json (baseline)" : `${name} page`,
              fmt(cpu[name]),
              cpu[name] !== null && cpu.timestamp ? ratio(cpu[name] as number, cpu.timestamp) : null,
            ]),
          },
          {
            title: `In-browser verification of the target page (${verifications} loads)`,
            columns: [
              { header: "cache", align: "left" },
              { header: "p50 ms", digits: 0 },
              { header: "p95 ms", digits: 0 },
              { header: "max ms", digits: 0 },
            ],
            rows: [
              ["cold (fresh context)", coldS.p50, coldS.p95, coldS.max],
              ["warm (reload)", warmS.p50, warmS.p95, warmS.max],
            ],
            notes: [
              "From the script's start to its verdict: root chain, timestamp, snapshot, targets, bin, entry, checkpoint, consistency with the timestamp, 3 log entries' inclusion from tiles, 2 attestations by digest.",
            ],
          },
        ],
        data: { weights, cpuMsPerView: cpu, verifyMs: { cold, warm, coldSummary: coldS, warmSummary: warmS }, views },
      };
    } finally {
      await browser.close();
      await bench.stop();
    }
  },
};
