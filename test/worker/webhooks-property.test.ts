/**
 * Property: whatever arrives at POST /{repo}/webhooks/registry (arbitrary
 * text, arbitrary JSON, near-valid batches with random mutations, random
 * header values, some correctly signed so that validation is reached), the
 * service never answers 5xx, every refusal is problem+json, and a refusal
 * changes nothing.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { AdminClient } from "../../scripts/lib/admin-client.ts";
import { signPush } from "../../scripts/lib/registry-client.ts";
import type { TaskView } from "../../src/repository-api.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { toBase64, utf8 } from "../../src/lib/bytes.ts";
import { BASE, withHmacRegistry, workerFetch } from "./helpers.ts";
import { defined } from "../../scripts/lib/defined.ts";

const REPO = "wh-property";
const NUM_RUNS = 400;

let client: AdminClient;
let secret: string;
let digests: string[];

beforeAll(async () => {
  ({ client, secret } = await withHmacRegistry(REPO, { bins: 8 }));
  digests = await Promise.all(["a", "b", "c"].map((s) => sha256Hex(utf8(s))));
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function state() {
  const status = await client.status();
  return { targets: status.targetsCount, timestamp: defined(status.roles.timestamp).version };
}

// --- arbitraries ----------------------------------------------------------------------

/** Paths from a small pool (so events meet existing targets). */
const pathArb = fc.constantFrom("p/a", "p/b", "p/c", "q/d.tgz", "r/e/f.bin", "s/g", "s/h", "t/i");
/** Paths no repository accepts, and random text. */
const hostilePathArb = fc.oneof(
  fc.constantFrom("../x", "/abs", "a//b", "a/./b", "a\\b", "a\u0000b", "", "x".repeat(1100), "trailing/"),
  fc.string({ maxLength: 20 }),
);

/** A few digests, so that adds clash with published ones (immutability) as well as pass. */
const hashesArb = fc.integer({ min: 0, max: 2 }).map((i) => ({ sha256: defined(digests[i]) }));
const hostileHashesArb = fc.oneof(
  fc.record({ sha256: fc.string({ maxLength: 70 }) }, { requiredKeys: [] }),
  fc.constantFrom({ sha512: "a".repeat(128) }, { sha512: "A".repeat(128) }, { sha256: "a".repeat(63) }, { md5: "abc" }),
);

const customArb = fc.option(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean()), {
    maxKeys: 3,
  }),
  { nil: undefined },
);
const hostileCustomArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant({ score: 1.5 }),
  fc.constant({ deep: [[[[[[[[[[1]]]]]]]]]] }),
);

/** Valid-looking events (most are valid; some meet the state rules: unknown targets, digest clashes). */
const eventArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      { type: fc.constant("targets.add"), path: pathArb, length: fc.nat(1000), hashes: hashesArb, custom: customArb },
      { requiredKeys: ["type", "path", "length", "hashes"] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("targets.remove"), path: pathArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("targets.yank"),
      path: pathArb,
      reason: fc.string({ minLength: 1, maxLength: 30 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("targets.unyank"), path: pathArb }) },
);

/** Events with a hostile field somewhere. */
const hostileEventArb = fc.oneof(
  fc.record({
    type: fc.constant("targets.add"),
    path: fc.oneof(pathArb, hostilePathArb),
    length: fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 53), fc.string()),
    hashes: fc.oneof(hashesArb, hostileHashesArb),
    custom: hostileCustomArb,
  }),
  fc.record({
    type: fc.constantFrom("targets.remove", "targets.unyank", "targets.yank", "targets.explode", ""),
    path: hostilePathArb,
  }),
  fc.record({
    type: fc.constant("targets.yank"),
    path: pathArb,
    reason: fc.oneof(fc.constant(""), fc.string({ minLength: 501, maxLength: 600 }), fc.integer()),
  }),
);

type Mutation =
  | { kind: "delete-field"; event: number; field: string }
  | { kind: "set-field"; event: number; field: string; value: unknown }
  | { kind: "set-top"; field: string; value: unknown }
  | { kind: "duplicate-event"; event: number }
  | { kind: "replace-events"; value: unknown };

const fieldArb = fc.constantFrom("type", "path", "length", "hashes", "custom", "reason", "extra");
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete-field" as const), event: fc.nat(5), field: fieldArb }),
  fc.record({
    kind: fc.constant("set-field" as const),
    event: fc.nat(5),
    field: fieldArb,
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({
    kind: fc.constant("set-top" as const),
    field: fc.constantFrom("repository", "events", "extra"),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant("wh-elsewhere")),
  }),
  fc.record({ kind: fc.constant("duplicate-event" as const), event: fc.nat(5) }),
  fc.record({ kind: fc.constant("replace-events" as const), value: fc.jsonValue({ maxDepth: 3 }) }),
);

function mutate(batch: { repository: unknown; events: unknown[] }, mutations: Mutation[]): unknown {
  const out: Record<string, unknown> = structuredClone(batch);
  for (const m of mutations) {
    const events = out.events;
    // Only plain objects are mutated: an event that a mutation replaced with an
    // array or a primitive is left as it is (deleting an array's "length" throws).
    const pick = (i: number): Record<string, unknown> | null => {
      const e = Array.isArray(events) && events.length ? events[i % events.length] : null;
      return e && typeof e === "object" && !Array.isArray(e) ? (e as Record<string, unknown>) : null;
    };
    switch (m.kind) {
      case "delete-field": {
        const e = pick(m.event);
        if (e) delete e[m.field];
        break;
      }
      case "set-field": {
        const e = pick(m.event);
        if (e) e[m.field] = m.value;
        break;
      }
      case "set-top":
        out[m.field] = m.value;
        break;
      case "duplicate-event": {
        const e = pick(m.event);
        if (e && Array.isArray(events)) events.push(structuredClone(e));
        break;
      }
      case "replace-events":
        out.events = m.value;
        break;
    }
  }
  return out;
}

const batchArb = fc.record({
  repository: fc.constant(REPO),
  events: fc.uniqueArray(eventArb, { minLength: 1, maxLength: 4, selector: (e) => e.path }),
});
const hostileBatchArb = fc
  .tuple(batchArb, hostileEventArb, fc.nat())
  .map(([b, bad, at]) => ({ ...b, events: (b.events as unknown[]).toSpliced(at % (b.events.length + 1), 0, bad) }));

/** Arbitrary text, arbitrary JSON, valid-looking batches and mutated ones. */
const bodyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", "null", "[]", "{}", '{"events":[]}', "\u0000", "{".repeat(500), "[".repeat(5000)),
  },
  { weight: 3, arbitrary: batchArb.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: hostileBatchArb.map((b) => JSON.stringify(b)) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(batchArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
      .map(([b, m]) => JSON.stringify(mutate(b, m))),
  },
);

/** A header value as it can travel over HTTP (no NUL, CR, LF; Latin-1). */
const headerValueArb = fc
  .oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: "binary-ascii", maxLength: 60 }),
    fc.string({ maxLength: 5000 }),
  )
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters removed
  .map((s) => s.replace(/[\u0000\r\n]|[^\u0000-\u00ff]/g, ""));

type HeaderPlan =
  | { kind: "signed"; id: string; skew: number; prefer: boolean }
  | { kind: "wrong-secret"; id: string }
  | { kind: "random"; id: string | null; timestamp: string | null; signature: string | null; prefer: string | null };

const idArb = fc.oneof(
  fc.uuid().map((u) => `msg_${u}`),
  fc.stringMatching(/^[\x21-\x7e]{1,12}$/),
);

const headerPlanArb: fc.Arbitrary<HeaderPlan> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("signed" as const),
      id: idArb,
      // Mostly within the 5-minute tolerance; sometimes outside it.
      skew: fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: -250, max: 250 }) },
        { weight: 1, arbitrary: fc.integer({ min: -100_000, max: 100_000 }) },
      ),
      prefer: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("wrong-secret" as const), id: idArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("random" as const),
      id: fc.option(fc.oneof(idArb, headerValueArb)),
      timestamp: fc.option(fc.oneof(fc.integer().map(String), fc.constant(String(nowSeconds())), headerValueArb)),
      signature: fc.option(
        fc.oneof(
          fc.base64String({ maxLength: 88 }).map((b) => `v1,${b}`),
          fc.base64String({ maxLength: 88 }).map((b) => `v1a,${b}`),
          fc.constantFrom("v1,", "v1a,", ",", "v1", " ", `v1,${"A".repeat(44)} v1a,${"A".repeat(88)}`),
          headerValueArb,
        ),
      ),
      prefer: fc.option(fc.oneof(fc.constant("respond-async"), headerValueArb)),
    }),
  },
);

async function headersFor(plan: HeaderPlan, body: string): Promise<Record<string, string>> {
  switch (plan.kind) {
    case "signed": {
      const signed = await signPush({ kind: "hmac", secret }, body, plan.id, nowSeconds() + plan.skew);
      return plan.prefer ? { ...signed, Prefer: "respond-async" } : signed;
    }
    case "wrong-secret":
      return signPush(
        { kind: "hmac", secret: `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}` },
        body,
        plan.id,
        nowSeconds(),
      );
    case "random": {
      const h: Record<string, string> = {};
      if (plan.id !== null) h["webhook-id"] = plan.id;
      if (plan.timestamp !== null) h["webhook-timestamp"] = plan.timestamp;
      if (plan.signature !== null) h["webhook-signature"] = plan.signature;
      if (plan.prefer !== null) h.Prefer = plan.prefer;
      return h;
    }
  }
}

const newTally = () => ({
  sent: 0,
  accepted: 0,
  byStatus: new Map<number, number>(),
  byCode: new Map<string, number>(),
});
let tally = newTally();

function report(name: string) {
  console.log(
    `${name}: ${tally.sent} pushes, ${tally.accepted} accepted; statuses ${JSON.stringify(Object.fromEntries(tally.byStatus))}; codes ${JSON.stringify(Object.fromEntries(tally.byCode))}`,
  );
}

async function waitPublished(location: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const task = await (await workerFetch(BASE + location)).json<TaskView>();
    if (task.state === "published") return;
    if (Date.now() > deadline) throw new Error(`task ${task.id} still ${task.state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends one push and checks the properties; returns the status. */
async function check(body: string, headers: Record<string, string>): Promise<number> {
  let request: Request;
  try {
    request = new Request(`${BASE}/${REPO}/webhooks/registry`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body,
    });
  } catch {
    return -1; // not a request HTTP could carry
  }
  const before = await state();
  const response = await workerFetch(request.url, request);
  const text = await response.text();
  tally.sent++;
  tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
  expect(response.status, text).toBeLessThan(500);
  if (response.ok) {
    tally.accepted++;
    const json = JSON.parse(text) as { task: TaskView; duplicate: boolean };
    expect(json.task.id).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get("Location")).toBe(`/${REPO}/tasks/${json.task.id}`);
    // An async push publishes in the background: let it finish so the next check's "before" is settled.
    if (response.status === 202) await waitPublished(defined(response.headers.get("Location")));
  } else {
    expect(response.headers.get("Content-Type"), text).toBe("application/problem+json");
    const problem = JSON.parse(text) as { status: number; code: string; detail: string };
    expect(problem.status).toBe(response.status);
    expect(problem.code).toMatch(/^[a-z_]+$/);
    expect(typeof problem.detail).toBe("string");
    tally.byCode.set(problem.code, (tally.byCode.get(problem.code) ?? 0) + 1);
    expect(await state(), `${response.status} ${text}`).toEqual(before);
    expect(response.headers.get("Location")).toBeNull();
  }
  return response.status;
}

describe("webhook endpoint under random input", () => {
  it("never 5xx; refusals are problem+json and change nothing", async () => {
    tally = newTally();
    await fc.assert(
      fc.asyncProperty(bodyArb, headerPlanArb, async (body, plan) => {
        await check(body, await headersFor(plan, body));
      }),
      { numRuns: NUM_RUNS },
    );
    report("random pushes");
    // The generators reach past the signature check into validation and the state rules.
    expect(tally.byCode.get("invalid_request") ?? 0).toBeGreaterThan(0);
    expect(tally.accepted).toBeGreaterThan(0);
  }, 60_000);

  it("correctly signed near-valid batches: validation is reached, never 5xx, refusals change nothing", async () => {
    tally = newTally();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          batchArb.map((b) => JSON.stringify(b)),
          hostileBatchArb.map((b) => JSON.stringify(b)),
          fc
            .tuple(batchArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
            .map(([b, m]) => JSON.stringify(mutate(b, m))),
        ),
        idArb,
        async (body, id) => {
          const status = await check(body, await signPush({ kind: "hmac", secret }, body, id, nowSeconds()));
          expect([-1, 200, 400, 403, 409]).toContain(status);
        },
      ),
      { numRuns: NUM_RUNS },
    );
    report("signed near-valid batches");
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.byCode.get("invalid_request") ?? 0).toBeGreaterThan(0);
    expect(tally.byCode.get("immutable_target") ?? 0).toBeGreaterThan(0);
  }, 60_000);

  it("a body over the limit is refused with 413 problem+json", async () => {
    const before = await state();
    const body = JSON.stringify({ repository: REPO, events: [], padding: "x".repeat(1024 * 1024) });
    const response = await workerFetch(`${BASE}/${REPO}/webhooks/registry`, {
      method: "POST",
      headers: {
        ...(await signPush({ kind: "hmac", secret }, body, "msg_big", nowSeconds())),
        "Content-Type": "application/json",
      },
      body,
    });
    expect(response.status).toBe(413);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await state()).toEqual(before);
  });
});
