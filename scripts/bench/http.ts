/**
 * A fetch for long admin calls. Node's built-in fetch gives up on a response
 * whose headers take more than 300 s; a bootstrap of many bins can take
 * longer, and how long it takes is what we measure. This one has no timeout
 * of its own (the caller sets one with `timeoutMs`). It is a pool-fetch
 * (pool-fetch.ts) of 8 sockets, one pool per timeout, shared by the run.
 */
import { makePoolFetch, type PoolFetch } from "./pool-fetch.ts";

const pools = new Map<number, PoolFetch>();

export function makeHttpFetch(timeoutMs = 0): PoolFetch["fetch"] {
  let pool = pools.get(timeoutMs);
  if (!pool) {
    pool = makePoolFetch(8, timeoutMs);
    pools.set(timeoutMs, pool);
  }
  return pool.fetch;
}

export function closeHttpAgent(): void {
  for (const pool of pools.values()) pool.close();
  pools.clear();
}
