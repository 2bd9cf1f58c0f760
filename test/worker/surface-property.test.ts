/**
 * Property (issue 10): over the whole write surface (registry pushes and
 * uploads, the operator's target changes and uploads), for ≥ 10,000 generated
 * requests, all correctly signed or authenticated but carrying hostile
 * strings, numbers, nesting, sizes and duplicates:
 *   - every response is 2xx or 4xx, never 5xx;
 *   - every 4xx changes nothing: a state digest (SHA-256 over the published
 *     timestamp.json, which pins the snapshot, every bin and the log head, and
 *     the R2 listing of stored targets and attestations) is the same after it
 *     as before;
 *   - every 2xx change is visible exactly as sent: a model applies the
 *     accepted requests, and after each batch the published metadata (walking
 *     the snapshot and every bin) lists exactly the model's targets, each in its
 *     bin, and R2 holds exactly the accepted uploads' bytes.
 * Requests run sequentially and 2xx answers come once published, so the state
 * is settled between requests. Each property run is a batch of requests; no
 * shrinking (the state is not reset between runs). The seed is printed;
 * FC_SEED=<seed> npx vitest run --project workers test/worker/surface-property.test.ts
 * replays a run.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { defined } from "../../scripts/lib/defined.ts";
import { signPush } from "../../scripts/lib/registry-client.ts";
import { RepositoryBucket } from "../../src/storage/repository-bucket.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { toBase64, toHex, utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { allPublishedTargets, BASE, withHmacRegistry, workerFetch } from "./helpers.ts";

const BINS = 4;
/** Independent repositories, each driven by its own sequential stream of requests, side by side. */
const STREAMS = 4;
/** Property runs (batches of requests per stream); 50 in CI (≥ 10,000 requests). SURFACE_RUNS=<n> changes it for the bench's quick size. */
const CI_RUNS = 50;
const REQUESTS_PER_STREAM = 52;

type Target = { length: number; hashes: Record<string, string>; custom?: Record<string, unknown> };

const bins = new HashBins(HashBins.bitLengthFor(BINS));

// --- the pools the generators draw from --------------------------------------------------

/** Bytes that uploads send; metadata-only adds reuse their digests and lengths so that they meet. */
const CONTENTS = ["abc", "hello", "ünïcödé bytes"].map(utf8);
let digests: string[];
const SHA512 = ["a".repeat(128), "b".repeat(128)];

const goodPath = fc.constantFrom(
  "p/a",
  "p/b",
  "q/ü.tgz",
  "r/😀/x.bin",
  "s/日本語.whl",
  "t/a-1.0.tar.gz",
  "u",
  "v/w/x/y/z",
);
const hostilePath = fc.oneof(
  fc.constantFrom(
    "",
    "../x",
    "p/../a",
    "/abs",
    "a//b",
    "trailing/",
    "a\\b",
    "a/./b",
    "a\u0000b",
    "a\u007fb",
    "a\u0085b",
    "a\u2028b",
    "a\u202eb",
    "a\u2066b",
    "a\u200bb",
    "a\ufeffb",
    "\ufeffp/a",
    "p/\ud800",
    "p/\udc00x",
    "p/\ud83d",
    "p/\ufb01",
    "p/\uff41",
    "p/\ue000",
    "cafe\u0301",
    "q/u\u0308.tgz",
    "x".repeat(801),
    "é".repeat(401),
    `p/${"y".repeat(798)}`,
  ),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
);
const pathArb = fc.oneof({ weight: 3, arbitrary: goodPath }, { weight: 2, arbitrary: hostilePath });

const lengthArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(3, 5, 14) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.constantFrom(-1, 2 ** 53, Number.MAX_SAFE_INTEGER, 1.5, 1e21, "5", null, true),
      fc.double(),
    ),
  },
);

const hashesArb = fc.oneof(
  { weight: 5, arbitrary: fc.nat(2).map((i) => ({ sha256: defined(digests[i]) })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(2), fc.nat(1))
      .map(([i, j]) => ({ sha256: defined(digests[i]), sha512: defined(SHA512[j]) })),
  },
  { weight: 1, arbitrary: fc.nat(1).map((j) => ({ sha512: defined(SHA512[j]) })) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom({}, { sha256: "A".repeat(64) }, { sha256: "a".repeat(63) }, { md5: "abc" }, { sha256: 1 }, []),
      fc.record({ sha256: fc.string({ maxLength: 64 }) }),
    ),
  },
);

/** JSON text parsed, so that keys like __proto__ are own properties, as they arrive from the network. */
const parsed = (text: string) => JSON.parse(text) as Record<string, unknown>;
const nested = (depth: number): unknown => (depth === 0 ? 1 : { n: nested(depth - 1) });

const customArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.dictionary(
      fc.string({ unit: "grapheme", maxLength: 6 }),
      fc.oneof(fc.integer(), fc.boolean(), fc.string({ unit: "grapheme", maxLength: 8 }), fc.constant(null)),
      { maxKeys: 3 },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom(
        parsed('{"__proto__": {"polluted": true}}'),
        parsed('{"a": {"__proto__": 1}}'),
        { "\ufb01": 1, "\u{1f600}": 2 },
        { "\uffff": 1 },
        { "\u{1f600}": 1, "\u00e9": 2 },
        { "k\ud800": 1 },
        { v: "\udfff" },
        { deep: [["\ud800"]] },
        { score: 1.5 },
        { big: 2 ** 60 },
        nested(8) as Record<string, unknown>,
        nested(9) as Record<string, unknown>,
        { blob: "x".repeat(5000) },
        { [`${"k".repeat(257)}`]: 1 },
        { yanked: true },
        [],
      ),
      fc.jsonValue({ maxDepth: 3 }),
    ),
  },
);

const reasonArb = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  fc.constantFrom("", "x".repeat(501), "bad \ud800", 7, null),
);

const addArb = fc.record(
  { type: fc.constant("targets.add"), path: pathArb, length: lengthArb, hashes: hashesArb, custom: customArb },
  { requiredKeys: ["type", "path", "length", "hashes"] },
);
const eventArb = fc.oneof(
  { weight: 4, arbitrary: addArb },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("targets.remove"), path: pathArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("targets.yank"), path: pathArb, reason: reasonArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("targets.unyank"), path: pathArb }) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.record({ type: fc.constant("attestations.add"), path: pathArb, bundle: fc.string({ maxLength: 40 }) }),
      fc.record({ type: fc.constantFrom("targets.explode", "", 7), path: pathArb }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
);

/** Batches: mostly a few events (some duplicated), sometimes too many, sometimes not a batch at all. */
const pushBodyArb = fc.oneof(
  { weight: 12, arbitrary: fc.array(eventArb, { minLength: 1, maxLength: 4 }).map((events) => ({ events })) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.array(eventArb, { minLength: 1, maxLength: 3 }), fc.nat()).map(([events, i]) => ({
      events: [...events, events[i % events.length]],
    })),
  },
  { weight: 1, arbitrary: fc.constant({ events: [] }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { events: Array.from({ length: 1001 }, (_, i) => ({ type: "targets.remove", path: `n/${i}` })) },
      { events: [{ type: "targets.add", path: "p/a", length: 3, hashes: { sha256: "0".repeat(64) } }], extra: 1 },
      { events: "nope" },
      { repository: "someone-else", events: [{ type: "targets.remove", path: "p/a" }] },
      { repository: "Not A Name", events: [{ type: "targets.remove", path: "p/a" }] },
    ),
  },
);

type UploadPlan = {
  kind: "upload";
  path: string;
  content: number;
  declared: number | null;
  custom?: unknown;
  id: number;
};
type AdminUploadPlan = {
  kind: "admin-upload";
  path: string;
  query: string | null;
  content: number;
  declared: number | null;
};
type Plan =
  | { kind: "push"; body: Record<string, unknown>; id: number }
  | UploadPlan
  | { kind: "admin-change"; add: unknown[]; remove: unknown[] }
  | AdminUploadPlan
  /** Two uploads of one path sent at once, by the registry or the operator, of the same or other bytes. */
  | { kind: "race"; racers: [UploadPlan | AdminUploadPlan, UploadPlan | AdminUploadPlan] };

/** One side of a race: a registry or an operator upload of one of the contents, declared truthfully. */
const racerArb = () => fc.record({ operator: fc.boolean(), content: fc.nat(2), id: fc.nat() });
const raceOf = ([path, ...sides]: [string, ...Array<{ operator: boolean; content: number; id: number }>]): Plan => ({
  kind: "race",
  racers: sides.map(({ operator, content, id }) =>
    operator
      ? { kind: "admin-upload" as const, path, query: "same", content, declared: null }
      : { kind: "upload" as const, path, content, declared: null, id },
  ) as [UploadPlan | AdminUploadPlan, UploadPlan | AdminUploadPlan],
});

/** Delivery ids from a small range, so that some repeat (redeliveries). */
const idArb = fc.oneof({ weight: 9, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.nat(20) });

const planArb: fc.Arbitrary<Plan> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("push" as const), body: pushBodyArb, id: idArb }) },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant("upload" as const),
        path: pathArb,
        content: fc.nat(2),
        // Usually the bytes' own digest; sometimes another content's (R2 must refuse the bytes).
        declared: fc.option(fc.nat(2), { freq: 4 }),
        custom: customArb,
        id: idArb,
      },
      { requiredKeys: ["kind", "path", "content", "declared", "id"] },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("admin-change" as const),
      add: fc.array(
        addArb.map(({ type: _, ...entry }) => entry),
        { maxLength: 3 },
      ),
      remove: fc.array(pathArb, { maxLength: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("admin-upload" as const),
      path: pathArb,
      // The query's path: usually the same; sometimes missing or another one.
      query: fc.option(fc.oneof({ weight: 6, arbitrary: fc.constant("same") }, { weight: 1, arbitrary: pathArb }), {
        freq: 8,
      }),
      content: fc.nat(2),
      declared: fc.option(fc.nat(2), { freq: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.tuple(goodPath, racerArb(), racerArb()).map(raceOf) },
);

// --- one repository's stream: sending, the model, the state digest -------------------------

const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");
const nowSeconds = () => Math.floor(Date.now() / 1000);
const withoutYank = (custom: Record<string, unknown> | undefined) => {
  const { yanked: _y, yanked_reason: _r, ...rest } = custom ?? {};
  return rest;
};

/** What the run did, and where its time went (ms summed over the streams, which run side by side). */
const tally = {
  sent: 0,
  skipped: 0,
  accepted: 0,
  byStatus: new Map<number, number>(),
  ms: { accepted: 0, refused: 0, digest: 0, model: 0 },
};

/** Runs `work`, adding its wall time to `tally.ms[what]`. */
async function timed<T>(what: keyof typeof tally.ms, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    tally.ms[what] += performance.now() - started;
  }
}

class Stream {
  /** What the published metadata must list: path → entry. */
  readonly model = new Map<string, Target>();
  /** The R2 keys of stored targets that must exist (and no others). */
  readonly stored = new Set<string>();
  readonly #bucket: RepositoryBucket;
  readonly #idPrefix = toHex(crypto.getRandomValues(new Uint8Array(4)));

  readonly repo: string;
  readonly secret: string;

  constructor(repo: string, secret: string) {
    this.repo = repo;
    this.secret = secret;
    this.#bucket = new RepositoryBucket(env.BUCKET, repo);
  }

  /** Sends a batch in order, checking each response; then the published state against the model. */
  async run(plans: Plan[]): Promise<void> {
    let digest = await this.digest();
    for (const plan of plans) digest = await this.#send(plan, digest);
    await timed("model", () => this.#expectPublishedIsModel());
  }

  /**
   * SHA-256 over what clients can see: timestamp.json's digest (it pins the snapshot, every bin
   * and the transparency log's head) and the R2 listing of stored targets. (No generated bundle
   * verifies, so no attestation is ever stored; their prefix is not listed.)
   */
  digest(): Promise<string> {
    return timed("digest", () => this.#digest());
  }

  async #digest(): Promise<string> {
    const [timestamp, listing] = await Promise.all([
      env.BUCKET.head(`${this.repo}/metadata/timestamp.json`),
      env.BUCKET.list({ prefix: `${this.repo}/targets/` }),
    ]);
    expect(listing.truncated).toBe(false);
    const parts = [timestamp?.customMetadata?.sha256 ?? "", ...listing.objects.map((o) => `${o.key} ${o.etag}`)];
    return sha256Hex(utf8(parts.join("\n")));
  }

  /** Sends one request (or a race of two) and checks it; returns the state digest after it. */
  async #send(plan: Plan, before: string): Promise<string> {
    if (plan.kind === "race") return this.#race(plan.racers);
    const request = await this.#request(plan);
    if (!request) {
      tally.skipped++;
      return before;
    }
    const started = performance.now();
    const response = await workerFetch(request.url, request);
    const text = await response.text();
    tally.ms[response.ok ? "accepted" : "refused"] += performance.now() - started;
    tally.sent++;
    tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
    const what = `${this.repo}: ${JSON.stringify(plan).slice(0, 400)} → ${response.status} ${text.slice(0, 400)}`;
    expect(response.status, what).toBeLessThan(500);
    expect(response.status, what).toBeGreaterThanOrEqual(200);
    if (response.ok) {
      tally.accepted++;
      this.#apply(plan, JSON.parse(text) as { duplicate?: boolean });
      return this.digest();
    }
    expect(response.headers.get("Content-Type"), what).toBe("application/problem+json");
    expect(await this.digest(), `a refusal changed the state: ${what}`).toBe(before);
    return before;
  }

  /**
   * Sends both uploads at once. Whatever the interleaving, neither is a 5xx, at most one digest
   * wins the path (two acceptances must carry the same bytes), and what was refused is not
   * stored (the batch's final check compares R2 with the accepted uploads).
   */
  async #race(racers: [UploadPlan | AdminUploadPlan, UploadPlan | AdminUploadPlan]): Promise<string> {
    const sent = await Promise.all(
      racers.map(async (plan) => {
        const request = defined(await this.#request(plan));
        const response = await workerFetch(request.url, request);
        const text = await response.text();
        tally.sent++;
        tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
        const what = `${this.repo} race: ${JSON.stringify(plan)} → ${response.status} ${text.slice(0, 400)}`;
        expect(response.status, what).toBeLessThan(500);
        return { plan, response, text };
      }),
    );
    const accepted = sent.filter(({ response }) => response.ok);
    if (accepted.length === 2) {
      expect(
        new Set(accepted.map(({ plan }) => plan.content)).size,
        `both racers accepted with different bytes for ${racers[0].path}`,
      ).toBe(1);
    }
    for (const { plan, text } of accepted) {
      tally.accepted++;
      this.#apply(plan, JSON.parse(text) as { duplicate?: boolean });
    }
    return this.digest();
  }

  /** The request a plan stands for; null when HTTP cannot carry it (e.g. a lone surrogate in a URL). */
  async #request(plan: Exclude<Plan, { kind: "race" }>): Promise<Request | null> {
    const base = `${BASE}/${this.repo}`;
    const admin = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
    const signed = (body: string, id: number) =>
      signPush({ kind: "hmac", secret: this.secret }, body, `msg_${this.#idPrefix}${id}`, nowSeconds());
    try {
      switch (plan.kind) {
        case "push": {
          const body = JSON.stringify({ repository: this.repo, ...plan.body });
          return new Request(`${base}/webhooks/registry`, {
            method: "POST",
            headers: { "Content-Type": "application/json", ...(await signed(body, plan.id)) },
            body,
          });
        }
        case "upload": {
          const bytes = defined(CONTENTS[plan.content]);
          const manifest = JSON.stringify({
            repository: this.repo,
            path: plan.path,
            length: bytes.length,
            sha256: digests[plan.declared ?? plan.content],
            ...(plan.custom === undefined ? {} : { custom: plan.custom }),
          });
          const encoded = toBase64(utf8(manifest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
          return new Request(`${base}/uploads/${encodePath(plan.path)}`, {
            method: "PUT",
            headers: { ...(await signed(manifest, plan.id)), "Upload-Manifest": encoded },
            body: bytes,
          });
        }
        case "admin-change":
          return new Request(`${base}/admin/targets`, {
            method: "POST",
            headers: { ...admin, "Content-Type": "application/json" },
            body: JSON.stringify({ add: plan.add, remove: plan.remove }),
          });
        case "admin-upload": {
          const named = plan.query === "same" ? plan.path : plan.query;
          const query = named === null ? "" : `&path=${encodeURIComponent(named)}`;
          const sha256 = digests[plan.declared ?? plan.content];
          return new Request(`${base}/admin/targets/${encodePath(plan.path)}?sha256=${sha256}${query}`, {
            method: "PUT",
            headers: admin,
            body: defined(CONTENTS[plan.content]),
          });
        }
      }
    } catch {
      return null;
    }
  }

  /** What an accepted request changed, as it was sent. */
  #apply(plan: Exclude<Plan, { kind: "race" }>, response: { duplicate?: boolean }): void {
    if (response.duplicate) return;
    switch (plan.kind) {
      case "push":
        this.#applyEvents(plan.body.events as Array<Record<string, unknown>>);
        break;
      case "admin-change":
        for (const path of plan.remove as string[]) this.model.delete(path);
        this.#applyEvents((plan.add as Array<Record<string, unknown>>).map((e) => ({ type: "targets.add", ...e })));
        break;
      case "upload":
      case "admin-upload": {
        const bytes = defined(CONTENTS[plan.content]);
        const sha256 = defined(digests[plan.content]);
        const custom = plan.kind === "upload" ? plan.custom : undefined;
        this.#applyEvents([{ type: "targets.add", path: plan.path, length: bytes.length, hashes: { sha256 }, custom }]);
        this.stored.add(this.#bucket.targetKey(plan.path, sha256));
        break;
      }
    }
  }

  #applyEvents(sent: Array<Record<string, unknown>>): void {
    // The model holds what went over the wire, not the generated values: JSON has no -0
    // (a generated length of -0 is sent, and published, as 0).
    const events = JSON.parse(JSON.stringify(sent)) as Array<Record<string, unknown>>;
    for (const event of events) {
      const path = event.path as string;
      switch (event.type) {
        case "targets.add": {
          const target: Target = { length: event.length as number, hashes: event.hashes as Record<string, string> };
          if (event.custom !== undefined) target.custom = event.custom as Record<string, unknown>;
          this.model.set(path, target);
          break;
        }
        case "targets.remove":
          this.model.delete(path);
          break;
        case "targets.yank":
        case "targets.unyank": {
          const target = defined(this.model.get(path), path);
          const custom =
            event.type === "targets.yank"
              ? { ...withoutYank(target.custom), yanked: true, yanked_reason: event.reason }
              : withoutYank(target.custom);
          const { custom: _, ...rest } = target;
          this.model.set(path, Object.keys(custom).length ? { ...rest, custom } : rest);
          break;
        }
      }
    }
  }

  /** The published metadata (walking the snapshot and every bin) and R2 hold exactly what the model says. */
  async #expectPublishedIsModel(): Promise<void> {
    const { listings } = await allPublishedTargets(this.repo);
    expect(new Set(listings.keys())).toEqual(new Set(this.model.keys()));
    for (const [path, target] of this.model) {
      const listed = defined(listings.get(path), path);
      expect(listed, path).toHaveLength(1);
      expect(defined(listed[0]).bin, path).toBe(await bins.binFor(path));
      expect(defined(listed[0]).target, path).toEqual(target);
    }
    const listing = await env.BUCKET.list({ prefix: `${this.repo}/targets/` });
    const keys = listing.objects.map((o) => o.key).filter((k) => !k.startsWith(`${this.repo}/targets/tuf-edge/`));
    expect(new Set(keys)).toEqual(this.stored);
  }
}

let streams: Stream[];

beforeAll(async () => {
  digests = await Promise.all(CONTENTS.map((c) => sha256Hex(c)));
  streams = await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      const repo = `surface-property-${i}`;
      const { secret } = await withHmacRegistry(repo, { bins: BINS });
      return new Stream(repo, secret);
    }),
  );
}, 300_000);

describe("the write surface under generated hostile requests", () => {
  it(`${CI_RUNS * STREAMS * REQUESTS_PER_STREAM}+ requests: never 5xx; a 4xx changes nothing; a 2xx is published exactly as sent`, async () => {
    const runs = Number.parseInt(inject("SURFACE_RUNS"), 10) || CI_RUNS;
    const given = Number.parseInt(inject("FC_SEED"), 10);
    const seed = Number.isSafeInteger(given) ? given : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
    console.log(`surface property: seed ${seed} (FC_SEED=${seed} replays it)`);
    const started = Date.now();
    const batch = fc.array(planArb, { minLength: REQUESTS_PER_STREAM, maxLength: REQUESTS_PER_STREAM });
    await fc.assert(
      fc.asyncProperty(fc.tuple(...streams.map(() => batch)), async (batches) => {
        await Promise.all(streams.map((stream, i) => stream.run(defined(batches[i]))));
      }),
      { seed, numRuns: runs, endOnFailure: true },
    );
    const published = streams.reduce((n, s) => n + s.model.size, 0);
    console.log(
      `surface property: ${tally.sent} requests (${tally.skipped} not sendable), ${tally.accepted} accepted, ${published} targets published; statuses ${JSON.stringify(Object.fromEntries([...tally.byStatus].sort()))}; ${((Date.now() - started) / 1000).toFixed(1)} s; ms (summed over streams) ${JSON.stringify(Object.fromEntries(Object.entries(tally.ms).map(([k, v]) => [k, Math.round(v)])))}`,
    );
    // The figures scripts/bench/sections/surface.ts reads.
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `surface property (json): ${JSON.stringify({ seed, runs, seconds, published, ...tally, byStatus: Object.fromEntries(tally.byStatus) })}`,
    );
    if (runs === CI_RUNS) expect(tally.sent).toBeGreaterThanOrEqual(10_000);
    // The generators reach acceptance, validation, the state rules and R2's digest check.
    for (const status of [200, 201, 400, 409, 422])
      expect(tally.byStatus.get(status) ?? 0, String(status)).toBeGreaterThan(0);
  }, 1_200_000);
});
