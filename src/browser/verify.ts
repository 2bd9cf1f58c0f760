/**
 * The target page's script (bundled by scripts/build-browser.ts): runs
 * checkTarget in the browser against the files the page's claims come from,
 * and shows each check and the verdict. Everything it writes is text
 * (textContent), never HTML.
 */
import { type Fetcher, checkTarget } from "./check-target.ts";

const fetchBytes: Fetcher = async (url) => {
  const response = await fetch(url);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
};

async function run(): Promise<void> {
  const box = document.getElementById("verify");
  const status = document.getElementById("verify-status");
  const list = document.getElementById("verify-result");
  if (!box || !status || !list) return;
  const data = box.dataset;
  status.textContent = "Checking in your browser…";
  const started = performance.now();
  const steps = await checkTarget(
    {
      base: `/${data.repo}`,
      path: data.path ?? "",
      pinnedRootSha256: data.rootSha256 ?? "",
      length: data.length ? Number(data.length) : null,
      hashes: data.hashes ? (JSON.parse(data.hashes) as Record<string, string>) : null,
      yanked: data.yanked === "true",
      logIndexes: JSON.parse(data.log ?? "[]") as number[],
    },
    fetchBytes,
  );
  const ms = performance.now() - started;
  list.replaceChildren(
    ...steps.map((step) => {
      const item = document.createElement("li");
      const mark = document.createElement("strong");
      mark.className = step.ok ? "ok" : "bad";
      mark.textContent = step.ok ? `✓ ${step.check}: ` : "✗ Verification failed: ";
      item.append(mark, step.detail);
      return item;
    }),
  );
  const failed = steps.find((s) => !s.ok);
  status.className = failed ? "bad" : "ok";
  status.textContent = failed
    ? `Verification failed: ${failed.detail}`
    : `Verified in your browser in ${Math.round(ms)} ms: everything below checks out.`;
  box.dataset.outcome = failed ? "failed" : "verified";
  box.dataset.ms = ms.toFixed(1);
}

void run();
