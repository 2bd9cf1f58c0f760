/**
 * Attestations for targets an offline delegation lists (docs/operators.md
 * §12): an attestation is bound into the target's signed entry
 * (`custom.attestations`), which only the role's owners sign, so it is
 * accepted and queued for them like a target change (task
 * `awaiting-owners`), shown in their draft, and served (entry, attestation
 * list, PEP 740 provenance) once they sign the version that carries it.
 * Quarantine and release of such a path stay refused, with the reason.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import { ARTIFACTS, PEP740 } from "../unit/attestations/material.ts";
import {
  applied,
  BASE,
  getJson,
  inDays,
  PYPI_PATH,
  refused,
  resolve,
  rootSigners,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";

const PUBLISH = "https://docs.pypi.org/attestations/publish/v1";
const pypi = { length: 29882, hashes: { sha256: ARTIFACTS["pypi_attestations-0.0.19.tar.gz"].sha256 } };
const publishText = JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]);
const OTHER_PATH = "mirror/pypi_attestations-0.0.19.tar.gz";

/** A PyPI-flavoured repository whose `packages/*` and `mirror/*` are an offline delegation, version 1 listing PYPI_PATH. */
async function setUp(repo: string) {
  const context = await withHmacRegistry(repo);
  const policy = await workerFetch(`${BASE}/${repo}/admin/attestation-policy`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ flavour: "pypi" }),
  });
  expect(policy.status).toBe(200);
  const owners = await rootSigners(2);
  const signed = {
    _type: "targets",
    spec_version: "1.0.31",
    version: 1,
    expires: inDays(30),
    targets: { [PYPI_PATH]: pypi },
  };
  const message = canonicalBytes(signed);
  const signatures = [];
  for (const o of owners) signatures.push({ keyid: o.keyid, sig: toHex(await o.sign(message)) });
  applied(
    await context.client.addDelegation({
      name: "pkgs",
      paths: ["packages/*", "mirror/*"],
      terminating: true,
      signing: "offline",
      keys: owners.map((o) => o.key),
      threshold: 2,
      metadata: JSON.stringify({ signatures, signed }),
    }),
  );
  return { ...context, owners };
}

describe("attestations in an offline namespace", () => {
  it("wait for the owners like target changes, and are served once they sign the version that lists them", async () => {
    const repo = "att-offline";
    const { client, registry, root, owners } = await setUp(repo);
    const sha256 = await sha256Hex(utf8(publishText));

    const pushed = await registry.push([{ type: "attestations.add", path: PYPI_PATH, bundle: publishText }]);
    expect(pushed.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: ["pkgs"] });
    // Clients see the owners' version 1 as it was: no attestation in the entry, none listed.
    expect((await resolve(repo, root, PYPI_PATH)).target?.custom).toBeUndefined();
    expect((await getJson(`/${repo}/attestations/${PYPI_PATH}`)).json.attestations).toEqual([]);

    // Another attestation of the same predicate type for the same file: PEP 740 allows one, the waiting one counts.
    const respelled = JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.publish"], null, 1);
    expect(
      await refused(registry.push([{ type: "attestations.add", path: PYPI_PATH, bundle: respelled }])),
    ).toMatchObject({
      status: 409,
      code: "duplicate_predicate_type",
    });
    // A target added in the same push is attested against the entry pushed (both wait).
    const both = await registry.push([
      { type: "targets.add", path: OTHER_PATH, ...pypi },
      { type: "attestations.add", path: OTHER_PATH, bundle: publishText },
    ]);
    expect(both.task.state).toBe("awaiting-owners");
    expect(
      await refused(registry.push([{ type: "attestations.add", path: "packages/nope.tar.gz", bundle: publishText }])),
    ).toMatchObject({ status: 409, code: "unknown_target" });

    // The owners' draft shows the change and binds it as the service binds its own.
    const draft = await client.delegationDraft("pkgs");
    expect(draft.changes.map((c) => `${c.type} ${c.path}`)).toEqual([
      `attestations.add ${PYPI_PATH}`,
      `targets.add ${OTHER_PATH}`,
      `attestations.add ${OTHER_PATH}`,
    ]);
    expect(draft.changes[0]).toMatchObject({ sha256, predicate_type: PUBLISH, task: pushed.task.id });
    const listed = [{ predicate_type: PUBLISH, sha256 }];
    const targets = draft.signed.targets as Record<string, { custom?: unknown }>;
    expect(targets[PYPI_PATH]?.custom).toEqual({ attestations: listed });
    expect(targets[OTHER_PATH]?.custom).toEqual({ attestations: listed });

    const sign = (signer: Signer) => signDraft({ draft: draft.signed, canonical: draft.canonical }, signer);
    const [a, b] = owners as unknown as [Signer, Signer];
    await client.signDelegationDraft("pkgs", draft.sha256, await sign(a));
    const done = await client.signDelegationDraft("pkgs", draft.sha256, await sign(b));
    expect(done.published?.version).toBe(2);
    expect(await registry.task(pushed.task.id)).toMatchObject({ state: "published" });

    // Published: the owners' entry names it, and the documents PyPI clients read list it.
    const found = await resolve(repo, root, PYPI_PATH);
    expect(found).toMatchObject({ role: "pkgs", target: { custom: { attestations: listed } } });
    const { json: list } = await getJson(`/${repo}/attestations/${PYPI_PATH}`);
    expect(list.attestations).toEqual([expect.objectContaining({ sha256, predicateType: PUBLISH })]);
    const provenance = await workerFetch(
      `${BASE}/${repo}/integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance`,
    );
    expect(provenance.status).toBe(200);
    const bundle = await workerFetch(`${BASE}/${repo}/attestation-bundles/${sha256}.json`);
    expect(await bundle.text()).toBe(publishText);
  });

  it("quarantine and release of a path the owners sign are refused, with what to do instead", async () => {
    const repo = "att-offline-quarantine";
    const { client, registry } = await setUp(repo);
    for (const attempt of [
      () => client.quarantine({ path: PYPI_PATH, reason: "malware?" }),
      () => registry.push([{ type: "targets.quarantine", path: PYPI_PATH, reason: "malware?" }]),
      () => registry.push([{ type: "targets.release", path: PYPI_PATH }]),
    ]) {
      const refusal = await refused(attempt());
      expect(refusal).toMatchObject({ status: 409, code: "offline_namespace" });
      expect(refusal.detail).toContain('delegation "pkgs", which its owners sign offline');
      expect(refusal.detail).toContain("a targets.remove waits for their next version");
    }
    // What it says works: the removal waits for the owners.
    const removal = await registry.push([{ type: "targets.remove", path: PYPI_PATH }]);
    expect(removal.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: ["pkgs"] });
  });
});
