/**
 * What one invocation of a repository's object (a request or an alarm) may
 * spend on publishing, and what the invocations did spend.
 *
 * Cloudflare bounds every invocation of a Durable Object: CPU time (30 s by
 * default, `limits.cpu_ms` in wrangler.toml, at most 5 minutes), subrequests
 * (`limits.subrequests`), and 128 MB of memory per isolate. A publish run
 * (group-commit.ts) therefore stops and hands over to an alarm (a fresh
 * invocation) when it reaches any of:
 *
 *   - `binsPerInvocation` roles signed (a setting, 1,024 by default): each is
 *     one assembled file, one signature, and at most one R2 write (top-level
 *     bins share one write per step pack of up to 512, src/storage/bin-pack.ts;
 *     a step claims whole packs, of at most `binsPerInvocation` bins, so a
 *     run that starts a pack with budget left goes past it by less than one);
 *   - ROUNDS_PER_INVOCATION completed rounds (each signs a snapshot listing
 *     every role, and a timestamp);
 *   - R2_OPERATIONS_PER_INVOCATION R2 operations (counted on the bucket
 *     binding, so the log's tiles and other writes count too), less a
 *     reserve for finishing the round under way;
 *   - LOG_WRITES_PER_INVOCATION full log tiles and entry bundles stored
 *     ahead of a checkpoint (each also counts against `binsPerInvocation`).
 *
 * Memory does not grow with the work: a role is read, signed, stored and
 * dropped in groups of 32, at most 4 groups in flight (publisher.ts), and
 * nothing is kept between invocations. Every run's spend is recorded, and the largest kept, for
 * /metrics and the bench.
 */

/** Rounds one invocation may finish before handing over to an alarm. */
export const ROUNDS_PER_INVOCATION = 4;

/** R2 operations one invocation's publishing may use (well below the platform's subrequest limit). */
export const R2_OPERATIONS_PER_INVOCATION = 1_500;

/** R2 operations kept back for finishing a round: snapshot, roots, the log's new tiles and checkpoint, timestamp. */
export const R2_FINISH_RESERVE = 128;

/**
 * Of that reserve, the writes of full log tiles (and their entry bundles) a
 * round's finish may make: 48 tiles of 256 entries, the entries of 6 s of
 * pushes at 2,000 targets/s, so the rounds of a steady stream of pushes
 * finish in the invocation that staged their last roles. More wait for the
 * steps that store them ahead of it (publisher.ts; aheadWithin in
 * transparency-log.ts). The rest of the reserve is the snapshot, new roots,
 * the partial tiles (one per level, and one entry bundle), the checkpoint and
 * the timestamp.
 */
export const FINISH_LOG_WRITES = 96;

/**
 * Full log tiles and entry bundles one invocation's publishing may store
 * ahead of a checkpoint (publisher.ts): 128 tiles, 32,768 entries hashed.
 * A tile costs far more than a role (its 256 entries read back and hashed,
 * their nodes written, the tile and its bundle stored): at 1,000,000
 * targets, a run of 1,024 such writes took 14.1 s of wall time in the scale
 * bench, where a run of 1,024 roles takes under 1.5 s.
 */
export const LOG_WRITES_PER_INVOCATION = 256;

/** What one run of the publish loop spent. */
export interface InvocationSpend {
  roles: number;
  /** Full log tiles and entry bundles stored ahead of a checkpoint (publisher.ts); absent in runs recorded before. */
  logWrites?: number;
  rounds: number;
  r2Operations: number;
  /** Wall-clock time of the run: an upper bound of its CPU time. */
  wallMs: number;
  /** How it ended: "idle" (nothing left), "more" (an alarm continues) or "failed". */
  outcome: string;
}

const LARGEST = "publish:largest-invocation";
const RECENT = "publish:recent-invocations";
/** Runs kept in the recent list. */
const RECENT_RUNS = 64;

/**
 * What an R2 key is of: its segment after the repository's name (metadata,
 * packs, log, site, public, targets, staging, quarantine, attestations,
 * shared; the layout is src/storage/repository-bucket.ts), or "other".
 */
export function r2Area(key: unknown): string {
  const text = typeof key === "string" ? key : Array.isArray(key) ? key[0] : (key as { prefix?: unknown })?.prefix;
  if (typeof text !== "string") return "other";
  const area = text.split("/")[1];
  return area && /^[a-z][a-z0-9-]{0,31}$/.test(area) ? area : "other";
}

/** Operations counted by method (put, get, head, delete, list, …) and by area (r2Area). */
export interface R2Operations {
  operation: string;
  area: string;
  count: number;
}

/** Counts the R2 operations made through a bucket binding. */
export class R2Meter {
  /** Every operation since the object started (publish runs take differences of it). */
  operations = 0;
  /** Operations by "method area" since the last take(). */
  readonly #untaken = new Map<string, number>();

  /** The binding, counting each call of its methods (get, put, list, delete, …) by the area of its key. */
  wrap(bucket: R2Bucket): R2Bucket {
    return new Proxy(bucket, {
      get: (target, property) => {
        const value = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        const method = String(property);
        return (...args: unknown[]) => {
          this.operations++;
          const key = `${method} ${r2Area(args[0])}`;
          this.#untaken.set(key, (this.#untaken.get(key) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }

  /** The operations by method and area made since the last take, which it empties. */
  take(): R2Operations[] {
    const taken = [...this.#untaken].map(([key, count]) => {
      const [operation = "", area = "other"] = key.split(" ");
      return { operation, area, count };
    });
    this.#untaken.clear();
    return taken;
  }
}

/** The record of runs: the largest (by R2 operations, then roles) and the most recent ones. */
export class InvocationLog {
  readonly #kv: SyncKvStorage;

  constructor(kv: SyncKvStorage) {
    this.#kv = kv;
  }

  record(spend: InvocationSpend): void {
    const recent = this.recent();
    recent.push(spend);
    this.#kv.put(RECENT, recent.slice(-RECENT_RUNS));
    const largest = this.largest();
    if (
      !largest ||
      spend.r2Operations > largest.r2Operations ||
      (spend.r2Operations === largest.r2Operations && spend.roles > largest.roles)
    )
      this.#kv.put(LARGEST, spend);
  }

  largest(): InvocationSpend | null {
    return this.#kv.get<InvocationSpend>(LARGEST) ?? null;
  }

  /** The latest runs, oldest first. */
  recent(): InvocationSpend[] {
    return this.#kv.get<InvocationSpend[]>(RECENT) ?? [];
  }
}
