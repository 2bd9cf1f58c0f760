/**
 * The public pages in workerd: rendered from what the repository published
 * in R2 (never asking its Durable Object), cached like the data they show,
 * escaping pushed text; and the browser's check (src/browser/check-target.ts)
 * run here against the Worker, passing on genuine files and failing on a bin
 * altered in R2. (The same pages in a real browser: test/e2e/pages.test.ts.)
 */
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkTarget } from "../../src/browser/check-target.ts";
import { VERIFY_SCRIPT_URL } from "../../src/routes/pages.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { ARTIFACTS, NPM } from "../unit/attestations/material.ts";
import {
  BASE,
  copyPublished,
  PYPI_PATH,
  publishedTarget,
  pypiAttestedEvents,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";

function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`no ${what}`);
  return value;
}

const HOSTILE_PATH = `x/<script>alert(1)</script>.txt`;
const HOSTILE_REASON = `<img src=x onerror=alert(2)>`;

/** Waits until the repository object has published the pages' document `name` with `text` in it. */
async function siteDocument(repo: string, name: string, text = ""): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const object = await env.BUCKET.get(`${repo}/site/${name}`);
    const body = object ? await object.text() : "";
    if (object && body.includes(text)) return body;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${repo}/site/${name} never held ${text}`);
}

async function pypiRepository(repo: string) {
  const setup = await withHmacRegistry(repo);
  await setup.client.setAttestationPolicy({ flavour: "pypi" });
  await setup.registry.push([
    ...pypiAttestedEvents(),
    { type: "targets.add", path: HOSTILE_PATH, length: 1, hashes: { sha256: "ab".repeat(32) } },
  ]);
  await setup.registry.push([{ type: "targets.yank", path: HOSTILE_PATH, reason: HOSTILE_REASON }]);
  await siteDocument(repo, `targets/${HOSTILE_PATH}`, "target.yank");
  await siteDocument(repo, "status.json", "target.yank");
  return setup;
}

const page = (path: string, init?: RequestInit) => workerFetch(`${BASE}${path}`, init);
const targetPage = (repo: string, path: string) =>
  page(`/${repo}/-/target/${path.split("/").map(encodeURIComponent).join("/")}`);

describe("pages", () => {
  it("are rendered from R2 alone: the same files under a repository name no object was ever asked about", async () => {
    await pypiRepository("pages-src");
    await copyPublished("pages-src", "pages-copy");
    const copyId = env.REPOSITORY.idFromName("pages-copy");
    const created = async () => (await listDurableObjectIds(env.REPOSITORY)).some((id) => id.equals(copyId));

    const overview = await page("/pages-copy/");
    expect(overview.status).toBe(200);
    const html = await overview.text();
    expect(html).toContain("2 targets in 16 hash bins");
    expect(html).toContain("Recent changes");
    const target = await targetPage("pages-copy", PYPI_PATH);
    expect(target.status).toBe(200);
    const targetHtml = await target.text();
    expect(targetHtml).toContain("PyPI publish attestation");
    expect(targetHtml).toContain("https://github.com/trailofbits/pypi-attestations");
    expect(targetHtml).toMatch(/Rekor entry<\/dt><dd><a href="https:\/\/search.sigstore.dev\/\?logIndex=\d+">/);
    const list = await (await page("/pages-copy/-/targets?prefix=packages/")).text();
    expect(list).toContain(`href="/pages-copy/-/target/packages/pypi_attestations-0.0.19.tar.gz"`);
    const log = await (await page("/pages-copy/log/?entry=1")).text();
    expect(log).toContain("verified against the checkpoint&#39;s root");
    expect(await created()).toBe(false);

    // The check can fail: a route that does ask the object (a log proof by path) creates it.
    await page(`/pages-copy/log/proof/inclusion?path=${PYPI_PATH}`);
    expect(await created()).toBe(true);
  });

  it("escape pushed paths and reasons, and answer a page's ETag with 304", async () => {
    await pypiRepository("pages-escape");
    const response = await targetPage("pages-escape", HOSTILE_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=10");
    const html = await response.text();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("x/&lt;script&gt;alert(1)&lt;/script&gt;.txt");
    expect(html).toContain("&lt;img src=x onerror=alert(2)&gt;");
    for (const path of ["/pages-escape/", "/pages-escape/log/", "/pages-escape/-/targets?prefix=x/"]) {
      const body = await (await page(path)).text();
      expect(body, path).not.toContain("<script>alert");
    }
    const etag = must(response.headers.get("ETag"), "ETag");
    expect(etag).toBe(`"${await sha256Hex(utf8(`<!doctype html>${html.slice("<!doctype html>".length)}`))}"`);
    const again = await page(`/pages-escape/-/target/${HOSTILE_PATH.split("/").map(encodeURIComponent).join("/")}`, {
      headers: { "If-None-Match": etag },
    });
    expect(again.status).toBe(304);
    // The same rule for a weak or listed tag, and for the page's script.
    const listed = await page(`/pages-escape/-/target/${HOSTILE_PATH.split("/").map(encodeURIComponent).join("/")}`, {
      headers: { "If-None-Match": `"other", W/${etag}` },
    });
    expect(listed.status).toBe(304);
    const script = await page(VERIFY_SCRIPT_URL);
    expect(script.status).toBe(200);
    const scriptTag = must(script.headers.get("ETag"), "script ETag");
    expect((await page(VERIFY_SCRIPT_URL, { headers: { "If-None-Match": `W/${scriptTag}` } })).status).toBe(304);
    expect((await page(VERIFY_SCRIPT_URL, { headers: { "If-None-Match": '"other"' } })).status).toBe(200);
  });

  it("refuse bad input with problem+json and say what is missing", async () => {
    await pypiRepository("pages-input");
    expect((await page("/pages-input/-/target/a/../b")).status).toBe(404);
    const badList = await page("/pages-input/-/targets?prefix=%01");
    expect(badList.status).toBe(400);
    expect(badList.headers.get("Content-Type")).toContain("application/problem+json");
    expect((await page("/pages-input/log/?entry=abc")).status).toBe(400);
    const unknown = await targetPage("pages-input", "packages/none.tar.gz");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("Cache-Control")).toBe("no-store");
    expect((await page("/pages-never/")).status).toBe(404);
    const bare = await page("/pages-input", { redirect: "manual" });
    expect([bare.status, bare.headers.get("Location")]).toEqual([301, "/pages-input/"]);
    const far = await (await page("/pages-input/log/?entry=99999")).text();
    expect(far).toContain("entry 99999 is not in the checkpoint");
  });

  it("serve the verifying script immutable, at the URL the target page names", async () => {
    await pypiRepository("pages-asset");
    const html = await (await targetPage("pages-asset", PYPI_PATH)).text();
    const src = /<script type="module" src="([^"]+)"/.exec(html)?.[1];
    expect(src).toMatch(/^\/-\/assets\/verify-[0-9a-f]{16}\.js$/);
    const script = await page(must(src, "the script URL"));
    expect(script.status).toBe(200);
    expect(script.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(src).toContain((await sha256Hex(new Uint8Array(await script.arrayBuffer()))).slice(0, 16));
  });

  it("publish the status document only when it changes", async () => {
    await pypiRepository("pages-status");
    const before = await env.BUCKET.head("pages-status/site/status.json");
    await workerFetch(`${BASE}/pages-status/admin/refresh`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    const after = await env.BUCKET.head("pages-status/site/status.json");
    expect(after?.uploaded.getTime()).toBe(before?.uploaded.getTime());
    expect(after).not.toBeNull();
    const status = JSON.parse(await siteDocument("pages-status", "status.json")) as {
      recent: Array<{ index: number; type: string }>;
    };
    expect(status.recent.map((r) => r.type)).toEqual([
      "target.yank",
      "target.add",
      "attestation.add",
      "target.add",
      "root.change",
    ]);
    // Each as its log entry says: its index, and its path or version where it has one (read by SQLite).
    const entries = await Promise.all(
      status.recent.map(async ({ index }) => {
        const read = await workerFetch(`${BASE}/pages-status/log/proof/inclusion?index=${index}`);
        const entry = JSON.parse(((await read.json()) as { entry: string }).entry) as Record<string, unknown>;
        return {
          index,
          type: entry.type,
          ...(typeof entry.path === "string" ? { path: entry.path } : {}),
          ...(typeof entry.version === "number" ? { version: entry.version } : {}),
        };
      }),
    );
    expect(status.recent).toEqual(entries);
    expect(status.recent.filter((r) => "path" in r)).toHaveLength(4);
    expect(status.recent.at(-1)).toMatchObject({ type: "root.change", version: 1 });
  });
});

describe("the browser's check, run against the Worker", () => {
  const fetchBytes = async (url: string) => {
    const response = await workerFetch(BASE + url);
    if (response.status === 404) return null;
    return new Uint8Array(await response.arrayBuffer());
  };

  async function claims(repo: string, path: string) {
    const { target } = await publishedTarget(repo, path, 16);
    const root = await (await workerFetch(`${BASE}/${repo}/metadata/1.root.json`)).arrayBuffer();
    const doc = JSON.parse(await siteDocument(repo, `targets/${path}`, path)) as { entries: Array<{ index: number }> };
    return {
      base: `/${repo}`,
      path,
      pinnedRootSha256: await sha256Hex(new Uint8Array(root)),
      length: target.length as number,
      hashes: target.hashes as Record<string, string>,
      yanked: target.custom?.yanked === true,
      logIndexes: doc.entries.map((e) => e.index),
    };
  }

  it("passes on genuine files: npm publish and provenance attestations, log entries included", async () => {
    const repo = "check-npm";
    const { registry, client } = await withHmacRegistry(repo);
    await client.setAttestationPolicy({ flavour: "npm" });
    const path = "gundam-visor/-/gundam-visor-1.0.1.tgz";
    await registry.push([
      { type: "targets.add", path, length: 1, hashes: { sha512: ARTIFACTS["gundam-visor-1.0.1.tgz"].sha512 } },
      { type: "attestations.add", path, bundle: JSON.stringify(NPM["publish.sigstore"]) },
      { type: "attestations.add", path, bundle: JSON.stringify(NPM["provenance.sigstore"]) },
    ]);
    await siteDocument(repo, `targets/${path}`, 'attestation.add"},{"index');
    const steps = await checkTarget(await claims(repo, path), fetchBytes);
    expect(steps.map((s) => [s.check, s.ok])).toEqual([
      ["Root chain", true],
      ["Timestamp", true],
      ["Snapshot", true],
      ["Targets", true],
      ["Hash bin", true],
      ["Entry", true],
      ["Log checkpoint", true],
      ["Log entries", true],
      ["Attestations", true],
    ]);
    expect(steps[7]?.detail).toBe("3 entries about this target included in the checkpoint");
  });

  it("fails with the reason on a page that shows other digests, another pin, or a bin altered in R2", async () => {
    const repo = "check-tamper";
    const { registry } = await pypiRepository(repo);
    const genuine = await claims(repo, PYPI_PATH);
    const reason = async (c: typeof genuine) => (await checkTarget(c, fetchBytes)).find((s) => !s.ok)?.detail;
    expect(await reason(genuine)).toBeUndefined();
    expect(await reason({ ...genuine, hashes: { sha256: "00".repeat(32) } })).toBe(
      "the page's sha256 is not the signed entry's",
    );
    expect(await reason({ ...genuine, pinnedRootSha256: "11".repeat(32) })).toMatch(
      /^root 1 has SHA-256 [0-9a-f]{64}, not the pinned 1111/,
    );

    // A new bin version, altered in R2 before anyone read it (so no cache holds the genuine bytes).
    const path = "packages/late-1.0.tar.gz";
    await registry.push([{ type: "targets.add", path, length: 3, hashes: { sha256: "cd".repeat(32) } }]);
    const snapshot = await (await workerFetch(`${BASE}/${repo}/metadata/timestamp.json`)).json<{
      signed: { meta: { "snapshot.json": { version: number } } };
    }>();
    const snap = await env.BUCKET.get(
      `${repo}/metadata/${snapshot.signed.meta["snapshot.json"].version}.snapshot.json`,
    );
    const meta = (
      (await must(snap, "the snapshot").json()) as { signed: { meta: Record<string, { version: number }> } }
    ).signed.meta;
    // The bin is rewritten in its pack (src/storage/bin-pack.ts: the round signed few bins, so its step pack),
    // its neighbours kept.
    const bucket = new RepositoryBucket(env.BUCKET, repo);
    let altered = false;
    for (const [file, { version }] of Object.entries(meta)) {
      if (!file.startsWith("bins-")) continue;
      const text = await must(await bucket.getMetadata(`${version}.${file}`), file).text();
      if (!text.includes(path)) continue;
      const pack: Array<{ index: number; bytes: Uint8Array }> = [];
      for (const [other, m] of Object.entries(meta)) {
        if (!other.startsWith("bins-") || m.version !== version) continue;
        const bytes = new Uint8Array(await must(await bucket.getMetadata(`${version}.${other}`), other).arrayBuffer());
        const index = Number.parseInt(other.slice("bins-".length, -".json".length), 16);
        pack.push({
          index,
          bytes: other === file ? utf8(text.replace("cd".repeat(32), `ce${"cd".repeat(31)}`)) : bytes,
        });
      }
      await bucket.putStepPack(version, 1, pack);
      altered = true;
    }
    expect(altered).toBe(true);
    const late = { ...genuine, path, length: 3, hashes: { sha256: `ce${"cd".repeat(31)}` }, logIndexes: [] };
    expect(await reason(late)).toMatch(/^bins-[0-9a-f]: 0 valid signature\(s\) from authorised keys, threshold is 1$/);
  });
});
