/**
 * A client reading beside the write load: GET one URL again and again, one
 * request at a time with a pause between, timing each answer. Issue 17 asks
 * that `GET timestamp.json` is unaffected by publishing; locally the Worker,
 * its Durable Object and the R2 and cache simulators share one thread, so a
 * read waits for whatever the object is doing.
 */
import { sleep } from "./pool-fetch.ts";

/** Pause between two reads, ms. */
const PAUSE_MS = 50;

export interface ReadProbe {
  /** Stops reading; resolves with each read's time, ms (failed reads are left out and counted). */
  stop(): Promise<{ ms: number[]; failed: number }>;
}

/**
 * `init`: the request's headers, e.g. an operator's token for a read that
 * reaches the object, or an If-None-Match that makes each read a revalidation.
 */
export function startReadProbe(url: string, init?: RequestInit): ReadProbe {
  const ms: number[] = [];
  let failed = 0;
  let reading = true;
  const loop = (async () => {
    while (reading) {
      const t0 = performance.now();
      const ok = await fetch(url, init)
        .then(async (r) => {
          await r.arrayBuffer();
          // A 304 answers a revalidation (If-None-Match in `init`) as well as a 200 answers a read.
          return r.ok || r.status === 304;
        })
        .catch(() => false);
      if (ok) ms.push(performance.now() - t0);
      else failed++;
      await sleep(PAUSE_MS);
    }
  })();
  return {
    async stop() {
      reading = false;
      await loop;
      return { ms, failed };
    },
  };
}

/** Reads `url` for `seconds` with nothing else going on (the figure to compare with). */
export async function readFor(
  url: string,
  seconds: number,
  init?: RequestInit,
): Promise<{ ms: number[]; failed: number }> {
  const probe = startReadProbe(url, init);
  await sleep(seconds * 1000);
  return probe.stop();
}

/**
 * The headers that revalidate `url` (If-None-Match with the ETag it answers
 * now), so each read is answered 304 with no body; none if it has no ETag.
 */
export async function revalidating(url: string): Promise<RequestInit | undefined> {
  const response = await fetch(url);
  await response.arrayBuffer();
  const etag = response.headers.get("ETag");
  return etag ? { headers: { "If-None-Match": etag } } : undefined;
}
