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

/** `init`: the request's headers, e.g. an operator's token for a read that reaches the object. */
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
          return r.ok;
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
export async function readFor(url: string, seconds: number): Promise<{ ms: number[]; failed: number }> {
  const probe = startReadProbe(url);
  await sleep(seconds * 1000);
  return probe.stop();
}
