/**
 * The reference: @sigstore/verify (with @sigstore/bundle and the trusted
 * root of the fixtures) under Node, on every case of
 * test/unit/attestations/cases.ts. Each case records the verdict the
 * reference gave; this test checks it still gives it, and that our verifier,
 * run here in Node too, agrees on accept/reject except where a case documents
 * a divergence. (The workerd tests run our verifier on the same cases.)
 *
 * @sigstore/verify does not look at in-toto subjects or predicate types, so
 * the harness checks those itself on the statement @sigstore/verify
 * authenticated, and reports SUBJECT_DIGEST / SUBJECT_NAME / PREDICATE_TYPE.
 *
 * Then both, bundled by wrangler and run by workerd (`wrangler dev`) as
 * stand-alone Workers at a compatibility date before nodejs_compat became
 * the default (2026-08-04): ours with no compatibility flag at all, the
 * Sigstore JS packages without and with nodejs_compat.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalInstance,
  PROJECT_ROOT,
  randomSecrets,
  startLocalInstance,
} from "../../scripts/lib/local-instance.ts";
import { loadCorpus } from "../../scripts/lib/sigstore-corpus.ts";
import {
  compareOnCorpus,
  npmKeyMaterial,
  referenceOnCorpus,
  referenceVerdict,
} from "../../scripts/lib/sigstore-reference.ts";
import { npmAttestationKeys, trustedRootFromJSON, verifyBundle } from "../../src/attestations/index.ts";
import { type Case, CASES, trustMaterial } from "../unit/attestations/cases.ts";
import { ARTIFACTS, CONFORMANCE, TRUSTED_ROOT } from "../unit/attestations/material.ts";
import { defined } from "../../scripts/lib/defined.ts";

const FIXTURES = join(import.meta.dirname, "../unit/attestations/fixtures");

function artifactBytes(c: Case): Buffer | undefined {
  const a = ARTIFACTS[c.artifact];
  return "file" in a ? readFileSync(join(FIXTURES, a.file)) : undefined;
}

function reference(c: Case): string {
  const { root, npmKeys } = trustMaterial(c.root);
  const a = ARTIFACTS[c.artifact] as { sha256?: string; sha512?: string };
  return referenceVerdict({
    bundle: c.bundle(),
    root,
    keys: npmKeyMaterial(npmKeys),
    ...(artifactBytes(c) ? { artifact: defined(artifactBytes(c)) } : {}),
    digest: a,
    ...(c.identity ? { identity: c.identity } : {}),
    ...(c.subjectName !== undefined ? { subjectName: c.subjectName } : {}),
    ...(c.predicateTypes ? { predicateTypes: c.predicateTypes } : {}),
  });
}

describe("@sigstore/verify under Node: the reference verdicts", () => {
  for (const c of CASES) {
    it(c.id, async () => {
      const verdict = reference(c);
      expect(verdict, `reference verdict for ${c.id}`).toBe(c.reference);
    });
  }
});

describe("our verifier under Node agrees with the reference", () => {
  for (const c of CASES) {
    it(c.id, async () => {
      const { root, npmKeys } = trustMaterial(c.root);
      const a = ARTIFACTS[c.artifact] as { sha256?: string; sha512?: string };
      const verdict = await verifyBundle(c.bundle(), trustedRootFromJSON(root, npmAttestationKeys(npmKeys)), {
        digest: { ...(a.sha256 ? { sha256: a.sha256 } : {}), ...(a.sha512 ? { sha512: a.sha512 } : {}) },
        ...(c.subjectName !== undefined ? { name: c.subjectName } : {}),
        ...(c.predicateTypes ? { predicateTypes: c.predicateTypes } : {}),
        ...(c.identity ? { identity: c.identity } : {}),
      });
      expect(verdict.ok ? "ok" : verdict.code).toBe(c.expect);
      if (!c.divergence) expect(verdict.ok).toBe(reference(c) === "ok");
    });
  }
});

// ---------------------------------------------------------------------------
// The corpus: every real bundle collected from Sigstore's clients, conformance
// suite, pypi-attestations and npm responses (fixtures/corpus/PROVENANCE.md)

/**
 * Cases where our verifier and @sigstore/verify do not agree yet, and why.
 * Each one is a refusal of something the reference accepts (the test below
 * fails on any case where we accept and the reference refuses).
 */
const CORPUS_DISAGREEMENTS: Readonly<Record<string, string>> = {
  "conformance/trust-root-tlog-missing-validity-start_fail":
    "the log key has no validFor.start: protobuf-specs requires one and sigstore-conformance expects a refusal (a _fail case); @sigstore/verify 4.x accepts",
};

describe("the corpus of real bundles: our verifier and @sigstore/verify under Node", () => {
  const corpus = loadCorpus();

  it("covers every collected case, and agrees with the reference except for the listed disagreements", async () => {
    const rows = await compareOnCorpus(corpus);
    const agreed = rows.filter((r) => r.agree).length;
    console.log(`corpus: ${agreed}/${rows.length} cases agree with @sigstore/verify`);
    // Never more lenient than the reference.
    const lenient = rows.filter((r) => r.ours === "ok" && r.reference !== "ok");
    const disagreements = Object.fromEntries(
      rows.filter((r) => !r.agree).map((r) => [r.id, `ours ${r.ours} / reference ${r.reference}`]),
    );
    expect(lenient).toEqual([]);
    expect(Object.keys(disagreements).sort()).toEqual(Object.keys(CORPUS_DISAGREEMENTS).sort());
    expect(corpus.length).toBeGreaterThanOrEqual(140);
  });

  it("the reference accepts every case upstream calls valid and refuses every case upstream calls invalid", () => {
    const wrong = corpus
      .filter((c) => c.upstream !== undefined)
      .map((c) => ({ id: c.id, upstream: c.upstream, reference: referenceOnCorpus(c) }))
      .filter((r) => (r.reference === "ok") !== (r.upstream === "valid"));
    // @sigstore/verify 4.x accepts a log key without a validity start (see CORPUS_DISAGREEMENTS).
    expect(wrong.map((r) => r.id)).toEqual(["conformance/trust-root-tlog-missing-validity-start_fail"]);
  });
});

// ---------------------------------------------------------------------------
// Inside workerd, as stand-alone Workers

const WRANGLER = join(PROJECT_ROOT, "node_modules/.bin/wrangler");
const WORKERS = join(PROJECT_ROOT, "test/unit/attestations/workers");
/** Before 2026-08-04, the date from which nodejs_compat is on by default. */
const COMPATIBILITY_DATE = "2026-07-01";
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" };

function writeConfig(dir: string, entry: string, flags: string[]): string {
  const path = join(dir, `${entry}-${flags.join("-") || "none"}.toml`);
  writeFileSync(
    path,
    `name = "attestations-${entry}"\nmain = ${JSON.stringify(join(WORKERS, `${entry}.ts`))}\n` +
      `compatibility_date = "${COMPATIBILITY_DATE}"\ncompatibility_flags = ${JSON.stringify(flags)}\n`,
  );
  return path;
}

/** A stand-alone Worker under `wrangler dev`, started (with retries on a port race) like tuf-edge's own instances. */
async function wranglerDev(config: string, persistTo: string): Promise<LocalInstance> {
  return startLocalInstance({ config, persistTo, secrets: randomSecrets(), readyTimeoutMs: 90_000 });
}

async function post(dev: LocalInstance, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${dev.baseUrl}/`, { method: "POST", body: JSON.stringify(body) });
  return (await response.json()) as Record<string, unknown>;
}

describe("inside workerd, without nodejs_compat: our verifier", () => {
  let dir: string;
  let dev: LocalInstance | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "attestations-workerd-"));
    dev = await wranglerDev(writeConfig(dir, "ours", []), join(dir, "state-ours"));
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives every case the verdict it expects", async () => {
    const mismatches: string[] = [];
    for (const c of CASES) {
      if (c.identity?.subjectPattern instanceof RegExp) continue; // not JSON
      const { root, npmKeys } = trustMaterial(c.root);
      const a = ARTIFACTS[c.artifact] as { sha256?: string; sha512?: string };
      const expectation = {
        digest: { ...(a.sha256 ? { sha256: a.sha256 } : {}), ...(a.sha512 ? { sha512: a.sha512 } : {}) },
        ...(c.subjectName !== undefined ? { name: c.subjectName } : {}),
        ...(c.predicateTypes ? { predicateTypes: c.predicateTypes } : {}),
        ...(c.identity ? { identity: c.identity } : {}),
      };
      const verdict = await post(defined(dev), { bundle: c.bundle(), root, npmKeys, expectation });
      const got = verdict.ok ? "ok" : String(verdict.code);
      if (got !== c.expect) mismatches.push(`${c.id}: ${got} (${String(verdict.detail)}), expected ${c.expect}`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe("inside workerd: the Sigstore JS packages (@sigstore/verify)", () => {
  let dir: string;
  let dev: LocalInstance | undefined;
  const a = readFileSync(join(FIXTURES, "conformance/a.txt"), "utf8");
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "attestations-workerd-"));
    dev = await wranglerDev(writeConfig(dir, "sigstore-js", ["nodejs_compat"]), join(dir, "state-js"));
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("do not build without nodejs_compat: they require the Node built-ins crypto and util", () => {
    const config = writeConfig(dir, "sigstore-js", []);
    const result = spawnSync(WRANGLER, ["deploy", "--dry-run", "--outdir", join(dir, "out"), "--config", config], {
      cwd: PROJECT_ROOT,
      env: ENV,
      encoding: "utf8",
    });
    expect(result.status).not.toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toContain('Could not resolve "crypto"');
    expect(output).toContain('Could not resolve "util"');
  });

  it("with nodejs_compat, reject the valid v0.3 and DSSE bundles: the inclusion promise (SET) check fails", async () => {
    for (const bundle of [CONFORMANCE["happy-path-v0.3"], CONFORMANCE["happy-path-intoto-in-dsse-v3"]]) {
      const verdict = await post(defined(dev), { bundle, root: TRUSTED_ROOT, artifact: a });
      expect(verdict).toMatchObject({
        ok: false,
        code: "TLOG_INCLUSION_PROMISE_ERROR",
        message: "inclusion promise could not be verified",
      });
    }
  });

  it("accept them once crypto.verify(undefined, …, ecKey, …) defaults to SHA-256 as under OpenSSL: that is the missing piece", async () => {
    for (const bundle of [CONFORMANCE["happy-path-v0.3"], CONFORMANCE["happy-path-intoto-in-dsse-v3"]]) {
      const verdict = await post(defined(dev), { bundle, root: TRUSTED_ROOT, artifact: a, shim: true });
      expect(verdict).toMatchObject({ ok: true });
    }
    // And the shim does not make it accept a broken one.
    const broken = await post(defined(dev), {
      bundle: CONFORMANCE["incorrect-public-key_fail"],
      root: TRUSTED_ROOT,
      artifact: a,
      shim: true,
    });
    expect(broken).toMatchObject({ ok: false });
  });
});
