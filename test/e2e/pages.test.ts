/**
 * The pages, in a real headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core) against a real local instance: the overview, targets with
 * real PEP 740 and npm attestations, the log page; the browser's own
 * verification passing on genuine data and failing on a bin altered in R2; a
 * hostile path and yank reason shown as text; axe-core finds no serious or
 * critical accessibility violation. Screenshots: test-results/screenshots/.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HOSTILE_PATH,
  HOSTILE_REASON,
  NPM_PATH,
  PYPI_PATH,
  populatePagesFixture,
  waitForPage,
  YANKED_PATH,
} from "../../scripts/lib/pages-fixture.ts";
import {
  PROJECT_ROOT,
  randomSecrets,
  startLocalInstance,
  type LocalInstance,
} from "../../scripts/lib/local-instance.ts";
import { tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { AdminClient } from "../../scripts/lib/admin-client.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = join(PROJECT_ROOT, "test-results/screenshots");
const AXE = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const targetUrl = (base: string, repo: string, path: string) =>
  `${base}/${repo}/-/target/${path.split("/").map(encodeURIComponent).join("/")}`;

/** axe-core's serious and critical violations on the loaded page. */
async function seriousViolations(page: Page): Promise<Array<{ id: string; impact: string; nodes: string[] }>> {
  await page.addScriptTag({ content: await AXE });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            o: unknown,
          ) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ html: string }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run({ resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.html) }));
  });
}

async function verification(page: Page): Promise<{ outcome: string; status: string; steps: string[] }> {
  await page.waitForSelector("#verify[data-outcome]", { timeout: 60_000 });
  return page.evaluate(() => ({
    outcome: document.getElementById("verify")?.dataset.outcome ?? "",
    status: document.getElementById("verify-status")?.textContent ?? "",
    steps: [...document.querySelectorAll("#verify-result li")].map((li) => li.textContent ?? ""),
  }));
}

describe("pages in a real browser", () => {
  let instance: LocalInstance;
  let scratch: string;
  let browser: Browser;
  let base: string;
  let persistTo: string;
  const secrets = randomSecrets();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-pages-"));
    persistTo = join(scratch, "state");
    instance = await startLocalInstance({ persistTo, secrets });
    base = instance.baseUrl;
    await populatePagesFixture(base, secrets.ADMIN_TOKEN);
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await instance?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  async function open(
    url: string,
    name: string,
    options: { dark?: boolean; phone?: boolean; noHttpCache?: boolean } = {},
  ) {
    const page = await browser.newPage();
    // The browser's HTTP cache is shared by every page of the run: a timestamp.json an earlier test read
    // may be reused for its max-age (10 s), as a browser should.
    if (options.noHttpCache) await page.setCacheEnabled(false);
    await page.setBypassCSP(true); // only so that the test can inject axe-core
    await page.setViewport(options.phone ? { width: 390, height: 844, isMobile: true } : { width: 1000, height: 800 });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: options.dark ? "dark" : "light" }]);
    const response = await page.goto(url, { waitUntil: "load" });
    return { page, response, shot: () => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true }) };
  }

  it("shows the overview: root fingerprint and pinning, role timeline, recent changes, log head", async () => {
    await waitForPage(`${base}/pypi/`, "attestation added to");
    const { page, response, shot } = await open(`${base}/pypi/`, "overview");
    expect(response?.status()).toBe(200);
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain("Trusted root");
    expect(text).toMatch(/Root 1 SHA-256\s+[0-9a-f]{64}/);
    expect(text).toContain("1.root.json");
    expect(await page.$$eval("svg.timeline rect.bar", (bars) => bars.length)).toBeGreaterThanOrEqual(4);
    expect(text).toContain("Recent changes");
    expect(text).toMatch(/Size\s+\d+ entries/);
    await shot();
    expect(await seriousViolations(page)).toEqual([]);
    const phone = await open(`${base}/pypi/`, "overview-phone-dark", { phone: true, dark: true });
    await phone.shot();
    expect(await seriousViolations(phone.page)).toEqual([]);
  });

  it("answers a page's ETag with 304", async () => {
    const first = await fetch(`${base}/pypi/log/`);
    const etag = first.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(first.headers.get("Cache-Control")).toMatch(/^public, max-age=\d+$/);
    const again = await fetch(`${base}/pypi/log/`, { headers: { "If-None-Match": etag ?? "" } });
    expect(again.status).toBe(304);
  });

  it("shows a PyPI target's PEP 740 attestations in plain words, and the browser verifies it", async () => {
    const url = targetUrl(base, "pypi", PYPI_PATH);
    await waitForPage(url, "attestation.add");
    const { page, shot } = await open(url, "target-pypi");
    const result = await verification(page);
    expect(result.outcome, result.status).toBe("verified");
    expect(result.steps.join("\n")).toMatch(
      /Root chain.*Timestamp.*Snapshot.*Targets.*Hash bin.*Entry.*Log checkpoint.*Log entries.*Attestations/s,
    );
    const text = await page.evaluate(() => document.querySelector("main")?.innerText ?? "");
    expect(text).toContain("https://docs.pypi.org/attestations/publish/v1");
    expect(text).toContain("https://slsa.dev/provenance/v1");
    expect(text).toContain("GitHub");
    expect(text).toContain("https://github.com/trailofbits/pypi-attestations");
    expect(text).toMatch(/Commit\s+[0-9a-f]{40}/);
    expect(text).toMatch(/Rekor entry\s+\d+/);
    expect(text).toMatch(/Signed by\s+hash bin bins-[0-9a-f] version \d+/);
    expect(
      await page.$eval("a[href^='https://github.com/trailofbits/pypi-attestations/commit/']", (a) => a.textContent),
    ).toMatch(/^[0-9a-f]{40}$/);
    await shot();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("shows an npm target's publish and provenance attestations, verified in the browser", async () => {
    const url = targetUrl(base, "npm", NPM_PATH);
    await waitForPage(url, "attestation.add");
    const { page, shot } = await open(url, "target-npm");
    const result = await verification(page);
    expect(result.outcome, result.status).toBe("verified");
    const text = await page.evaluate(() => document.querySelector("main")?.innerText ?? "");
    expect(text).toContain("https://github.com/npm/attestation/tree/main/specs/publish/v0.1");
    expect(text).toContain("Registry key");
    expect(text).toContain("https://slsa.dev/provenance/v1");
    expect(text).toContain("pkg:npm/gundam-visor@1.0.1");
    expect(text).toContain("SHA512");
    await shot();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("shows a yanked target with its reason, and renders a hostile path and reason as inert text", async () => {
    const yanked = await open(targetUrl(base, "pypi", YANKED_PATH), "target-yanked");
    expect(await yanked.page.evaluate(() => document.querySelector("main")?.innerText ?? "")).toContain(
      "yanked CVE-2026-0001: remote code execution",
    );
    const url = targetUrl(base, "pypi", HOSTILE_PATH);
    await waitForPage(url, "target.yank");
    const { page, response, shot } = await open(url, "target-hostile");
    expect(response?.status()).toBe(200);
    const seen = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      h1: document.querySelector("h1")?.textContent,
      main: document.querySelector("main")?.textContent ?? "",
      injected: document.querySelectorAll("main script, main img, main b").length,
    }));
    expect(seen).toMatchObject({ pwned: null, h1: HOSTILE_PATH, injected: 0 });
    expect(seen.main).toContain(HOSTILE_REASON);
    expect((await verification(page)).outcome).toBe("verified");
    await shot();
    // The listing and the overview's recent changes show it as text too.
    const list = await open(`${base}/pypi/-/targets?prefix=evil/`, "targets-list");
    expect(await list.page.evaluate(() => document.querySelector("main li")?.textContent)).toBe(HOSTILE_PATH);
    expect(await list.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned ?? null)).toBeNull();
    await list.shot();
    expect(await seriousViolations(list.page)).toEqual([]);
  });

  it("shows the log page's checkpoint and an entry's inclusion proof, verified", async () => {
    const { page, shot } = await open(`${base}/pypi/log/?entry=3`, "log");
    const text = await page.evaluate(() => document.querySelector("main")?.innerText ?? "");
    expect(text).toMatch(/Log signature\s+verified/);
    expect(text).toContain("Entry 3");
    expect(text).toMatch(/Inclusion\s+verified against the checkpoint's root/);
    await shot();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("fails verification, with the reason, when a bin was altered in R2", async () => {
    // A new target in a new bin version no one has read yet (so no cache holds it).
    const path = "packages/tampered-1.0.tar.gz";
    const sha = "ef".repeat(32);
    const admin = new AdminClient({ baseUrl: base, repo: "pypi", token: secrets.ADMIN_TOKEN });
    await admin.changeTargets({ add: [{ path, length: 5, hashes: { sha256: sha } }] });
    // The one stored bin file that lists it: one digit of its digest changed, same length.
    const bins: Buffer[] = [];
    for (const entry of await readdir(join(persistTo, "v3", "r2"), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.parentPath.endsWith("blobs")) continue;
      const bytes = await readFile(join(entry.parentPath, entry.name));
      const text = bytes.toString("utf8");
      if (text.includes(`"${path}"`) && text.includes('"_type":"targets"')) bins.push(bytes);
    }
    const [bin, ...others] = bins;
    expect(others).toEqual([]);
    if (!bin) throw new Error("no stored bin lists the new target");
    const tampered = Buffer.from(bin.toString("utf8").replace(sha, `ee${sha.slice(2)}`));
    await tamperLocalR2Object(persistTo, bin, tampered);
    const { page, shot } = await open(targetUrl(base, "pypi", path), "target-tampered", { noHttpCache: true });
    const result = await verification(page);
    expect(result.outcome).toBe("failed");
    expect(result.status).toMatch(/^Verification failed: bins-[0-9a-f]: 0 valid signature\(s\)/);
    await shot();
  });
});
