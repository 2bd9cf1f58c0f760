/**
 * When the pages' target documents are written. Since 5f657ff the object
 * sends them to the site-documents queue and the queue's consumer writes
 * them (src/pages/site-document-consumer.ts), so the object's gauge
 * tuf_edge_site_documents_behind at 0 says every document is sent, not
 * written. The bench then reads the target pages of a sample of the targets
 * (evenly spread over those added, the last one included) until each shows
 * its log entries: a page without its document says "None on this page yet"
 * (src/pages/target.tsx). A page once complete is not read again.
 */
import { sleep } from "./pool-fetch.ts";

/** What a target page says while its document is not written. */
const NOT_YET = "None on this page yet";

/** `count` indexes below `length`, evenly spread, the last one included (all of them if there are fewer). */
export function spread(length: number, count: number): number[] {
  if (length <= count) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: count }, (_, k) => Math.round(((k + 1) * (length - 1)) / count));
}

/** Whether the target page of `path` shows its document. */
async function written(base: string, repo: string, path: string): Promise<boolean> {
  const response = await fetch(`${base}/${repo}/-/target/${path.split("/").map(encodeURIComponent).join("/")}`);
  const text = await response.text();
  return response.status === 200 && !text.includes(NOT_YET);
}

/**
 * Reads the pages of `paths` every `everyMs` until all show their
 * documents: ms until then, or null at `limitMs` (and how many were still missing).
 */
export async function untilWritten(
  base: string,
  repo: string,
  paths: readonly string[],
  limitMs: number,
  everyMs = 500,
): Promise<{ ms: number | null; missing: number }> {
  const start = performance.now();
  let missing = [...paths];
  for (;;) {
    const done = await Promise.all(missing.map((path) => written(base, repo, path)));
    missing = missing.filter((_, i) => !done[i]);
    const ms = performance.now() - start;
    if (missing.length === 0) return { ms, missing: 0 };
    if (ms >= limitMs) return { ms: null, missing: missing.length };
    await sleep(everyMs);
  }
}
