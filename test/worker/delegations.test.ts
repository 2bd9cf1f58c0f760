import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signDraft } from "../../scripts/lib/admin-client.ts";
import { checkTarget } from "../../src/browser/check-target.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import {
  applied,
  BASE,
  bootstrapped,
  getJson,
  publishedTargets,
  refusal,
  resolve,
  targetEntry,
  withHmacRegistry,
  workerFetch,
} from "./helpers.ts";

describe("delegations: online named roles before the catch-all bins", () => {
  it("moves the targets a new delegation claims into it; a path none claims falls through to the bins", async () => {
    const repo = "dlg-basic";
    const { client, root } = await bootstrapped(repo);
    await client.changeTargets({ add: [await targetEntry("@acme/a-1.0.tgz"), await targetEntry("hello/world.txt")] });
    expect((await resolve(repo, root, "@acme/a-1.0.tgz")).visited).toEqual([
      "targets",
      expect.stringMatching(/^bins-/),
    ]);

    const added = applied(await client.addDelegation({ name: "acme", paths: ["@acme/*"] }));
    expect(added.delegation).toEqual({
      name: "acme",
      parent: "targets",
      terminating: false,
      signing: "online",
      paths: ["@acme/*"],
    });

    const { targets, snapshot } = await publishedTargets(repo);
    expect(targets.delegations.succinct_roles).toBeUndefined();
    expect(targets.delegations.roles.map((r: { name: string }) => r.name)).toEqual(["acme", "bins"]);
    expect(targets.delegations.roles[1]).toMatchObject({
      terminating: true,
      path_hash_prefixes: [..."0123456789abcdef"],
    });
    expect(snapshot.meta["acme.json"]).toBeDefined();
    expect(snapshot.meta["bins.json"]).toBeDefined();

    const acme = await resolve(repo, root, "@acme/a-1.0.tgz");
    expect(acme).toMatchObject({ role: "acme", visited: ["targets", "acme"] });
    expect(acme.target?.length).toBe("@acme/a-1.0.tgz".length);
    const hello = await resolve(repo, root, "hello/world.txt");
    expect(hello.visited).toEqual(["targets", "bins", expect.stringMatching(/^bins-[0-9a-f]$/)]);
    // A later change goes where the tree says.
    await client.changeTargets({ add: [await targetEntry("@acme/b-2.0.tgz")] });
    expect((await resolve(repo, root, "@acme/b-2.0.tgz")).role).toBe("acme");
  });

  it("a terminating delegation shadows the bins; a non-terminating one that lacks the path lets the search go on", async () => {
    const repo = "dlg-terminating";
    const { client, root } = await bootstrapped(repo);
    await client.addDelegation({ name: "first", paths: ["pkg/*"] });
    await client.addDelegation({ name: "shadow", paths: ["pkg/*"], terminating: true, position: 0 });
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["shadow", "first"]);
    await client.changeTargets({ add: [await targetEntry("pkg/a.tgz")] });
    expect(await resolve(repo, root, "pkg/a.tgz")).toMatchObject({ role: "shadow", visited: ["targets", "shadow"] });
    // An unknown path under a terminating delegation: the search stops there, never reaching the bins.
    expect((await resolve(repo, root, "pkg/none.tgz")).role).toBeNull();
  });

  it("holds a delegation's targets in its own hash bins (TAP 15), and nests delegations", async () => {
    const repo = "dlg-nested";
    const { client, root } = await bootstrapped(repo);
    await client.addDelegation({ name: "big", paths: ["big/*"], bins: 4 });
    await client.addDelegation({ name: "org", paths: ["org/*/*"] });
    await client.addDelegation({ name: "team", parent: "org", paths: ["org/team/*"], bins: 2 });
    await client.changeTargets({
      add: [await targetEntry("big/x.tgz"), await targetEntry("org/team/y.tgz"), await targetEntry("org/other/z.tgz")],
    });
    const big = await resolve(repo, root, "big/x.tgz");
    expect(big.visited).toEqual(["targets", "big", expect.stringMatching(/^big\.bins-[0-3]$/)]);
    const team = await resolve(repo, root, "org/team/y.tgz");
    expect(team.visited).toEqual(["targets", "org", "team", expect.stringMatching(/^team\.bins-[01]$/)]);
    expect(await resolve(repo, root, "org/other/z.tgz")).toMatchObject({ role: "org", visited: ["targets", "org"] });

    const { json: bigRole } = await getJson(`/${repo}/metadata/1.big.json`);
    expect(bigRole.signed.delegations.succinct_roles).toMatchObject({ bit_length: 2, name_prefix: "big.bins" });
  });

  it("removing a delegation moves its targets back and keeps its role in the snapshot, at a higher version", async () => {
    const repo = "dlg-remove";
    const { client, root } = await bootstrapped(repo);
    await client.addDelegation({ name: "acme", paths: ["@acme/*"] });
    await client.changeTargets({ add: [await targetEntry("@acme/a.tgz")] });
    const before = (await publishedTargets(repo)).snapshot.meta["acme.json"].version;
    await client.removeDelegation("acme");
    const { snapshot, targets } = await publishedTargets(repo);
    expect(snapshot.meta["acme.json"].version).toBeGreaterThan(before);
    expect(targets.delegations.roles.map((r: { name: string }) => r.name)).toEqual(["bins"]);
    expect((await resolve(repo, root, "@acme/a.tgz")).visited?.[1]).toBe("bins");
    // The name can be taken again; its versions go on.
    await client.addDelegation({ name: "acme", paths: ["@acme/*"], terminating: true });
    expect((await resolve(repo, root, "@acme/a.tgz")).role).toBe("acme");
    expect((await publishedTargets(repo)).snapshot.meta["acme.json"].version).toBeGreaterThan(before + 1);
  });

  it("routes a registry's push for a claimed path to the delegation", async () => {
    const repo = "dlg-push";
    const { client, root, registry } = await withHmacRegistry(repo);
    await client.addDelegation({ name: "acme", path_hash_prefixes: ["0", "1", "2", "3", "4", "5", "6", "7"] });
    // sha256("@acme/p.tgz") and sha256("@acme/q.tgz"): one starts with 0–7, one does not.
    const paths = ["@acme/p.tgz", "@acme/q.tgz"];
    await registry.push(
      await Promise.all(paths.map(async (p) => ({ type: "targets.add" as const, ...(await targetEntry(p)) }))),
    );
    for (const path of paths) {
      const low = "01234567".includes((await sha256Hex(utf8(path)))[0] as string);
      expect((await resolve(repo, root, path)).visited?.[1]).toBe(low ? "acme" : "bins");
    }
  });

  it("a delegation added while a round runs waits for the next round: no snapshot lists a role at version 0", async () => {
    const repo = "dlg-mid-round";
    const { client } = await bootstrapped(repo, { bins: 1024, binsPerInvocation: 1 });
    // A round over many bins, one bin per invocation: it is still running when the delegation arrives.
    const add = await Promise.all(Array.from({ length: 24 }, (_, i) => targetEntry(`many/t-${i}.tgz`)));
    await client.changeTargets({ add }, { wait: false });
    // Wait until the round has stored some bins and not all (its gauge, from the metrics endpoint).
    const roundRoles = async (state: string) => {
      const response = await workerFetch(`${BASE}/${repo}/admin/metrics`, {
        headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
      });
      const line = (await response.text())
        .split("\n")
        .find((l) => l.startsWith(`tuf_edge_publish_round_roles{`) && l.includes(`state="${state}"`));
      return Number(line?.split(" ").at(-1) ?? 0);
    };
    while (!((await roundRoles("staged")) > 0 && (await roundRoles("pending")) > 0))
      await new Promise((r) => setTimeout(r, 5));
    const { versions } = applied(await client.addDelegation({ name: "acme", paths: ["@acme/*"] }));
    for (let v = 1; v <= versions.snapshot; v++) {
      const { response, json } = await getJson(`/${repo}/metadata/${v}.snapshot.json`);
      if (response.status === 404) continue; // a version reserved by a round that did not finish
      for (const [file, meta] of Object.entries(json.signed.meta as Record<string, { version: number }>)) {
        expect(meta.version, `${v}.snapshot.json lists ${file}`).toBeGreaterThan(0);
      }
    }
    expect((await publishedTargets(repo)).snapshot.meta["acme.json"].version).toBe(1);
  });

  it("the target page and the browser's check follow delegations to the role that lists the target", async () => {
    const repo = "dlg-pages";
    const { client } = await bootstrapped(repo);
    await client.addDelegation({ name: "org", paths: ["org/*/*"] });
    await client.addDelegation({ name: "team", parent: "org", paths: ["org/team/*"], bins: 2 });
    const target = await targetEntry("org/team/tool.tgz");
    await client.changeTargets({ add: [target, await targetEntry("plain/file.txt")] });
    const { role } = await resolve(repo, (await getJson(`/${repo}/metadata/1.root.json`)).json, target.path);

    const page = await workerFetch(`${BASE}/${repo}/-/target/${target.path}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`${role}`);

    const fetchBytes = async (url: string) => {
      const response = await workerFetch(BASE + url);
      return response.status === 404 ? null : new Uint8Array(await response.arrayBuffer());
    };
    const root = new Uint8Array(await (await workerFetch(`${BASE}/${repo}/metadata/1.root.json`)).arrayBuffer());
    const claims = {
      base: `/${repo}`,
      path: target.path,
      pinnedRootSha256: await sha256Hex(root),
      length: target.length,
      hashes: target.hashes,
      yanked: false,
      logIndexes: [],
    };
    const steps = await checkTarget(claims, fetchBytes);
    expect(steps.map((s) => [s.check, s.ok])).toEqual([
      ["Root chain", true],
      ["Timestamp", true],
      ["Snapshot", true],
      ["Targets", true],
      ["Delegation", true],
      ["Delegation", true],
      ["Hash bin", true],
      ["Entry", true],
      ["Log checkpoint", true],
      ["Log entries", true],
      ["Attestations", true],
    ]);
    expect(steps[6]?.detail).toMatch(
      /^team\.bins-[01] version \d+, signed by a threshold of the keys team delegates to$/,
    );
    // A page that claims other digests fails, naming the role.
    const forged = await checkTarget({ ...claims, hashes: { sha256: "00".repeat(32) } }, fetchBytes);
    expect(forged.find((s) => !s.ok)?.detail).toBe("the page's sha256 is not the signed entry's");
  });

  it("an online-key rotation re-signs every delegated role: a client trusting root 2 still resolves through them", async () => {
    const repo = "dlg-rotate";
    const { client, signers } = await bootstrapped(repo);
    await client.addDelegation({ name: "org", paths: ["org/*/*"] });
    await client.addDelegation({ name: "team", parent: "org", paths: ["org/team/*"], bins: 2 });
    await client.changeTargets({ add: [await targetEntry("org/team/tool.tgz")] });
    const opened = await client.openCeremony({ kind: "online-key-rotation" });
    for (const signer of signers.slice(0, 2)) await client.submitSignature(opened.id, await signDraft(opened, signer));
    const { json: root2 } = await getJson(`/${repo}/metadata/2.root.json`);
    const found = await resolve(repo, root2, "org/team/tool.tgz");
    expect(found.visited).toEqual(["targets", "org", "team", expect.stringMatching(/^team\.bins-[01]$/)]);
  });

  it("refuses what it cannot publish, and a refused change changes nothing", async () => {
    const repo = "dlg-refusals";
    const { client } = await bootstrapped(repo);
    await client.changeTargets({ add: [await targetEntry(".npmrc")] });
    await client.addDelegation({ name: "withbins", paths: ["b/*"], bins: 2 });
    await client.addDelegation({ name: "org", paths: ["org/*"] });
    await client.addDelegation({ name: "team", parent: "org", paths: ["org/t*"] });
    const before = await publishedTargets(repo);

    expect(await refusal(client.addDelegation({ name: "org", paths: ["x/*"] }))).toEqual({
      status: 409,
      code: "delegation_exists",
    });
    expect(await refusal(client.addDelegation({ name: "x", parent: "nope", paths: ["x/*"] }))).toEqual({
      status: 409,
      code: "unknown_delegation",
    });
    expect(await refusal(client.addDelegation({ name: "x", parent: "withbins", paths: ["b/x"] }))).toEqual({
      status: 409,
      code: "delegation_has_bins",
    });
    // python-tuf's fnmatch lets * match ".npmrc", tuf-js's minimatch does not: no role can list it for both.
    expect(await refusal(client.addDelegation({ name: "dots", paths: ["*"] }))).toEqual({
      status: 409,
      code: "ambiguous_delegation",
    });
    expect(await refusal(client.removeDelegation("org"))).toEqual({ status: 409, code: "delegation_has_delegations" });
    expect(await refusal(client.removeDelegation("none"))).toEqual({ status: 404, code: "not_found" });
    for (const bad of [
      { name: "targets", paths: ["x/*"] },
      { name: "bins-0a", paths: ["x/*"] },
      { name: "Acme", paths: ["x/*"] },
      { name: "x", paths: ["{a,b}/*"] },
      { name: "x", paths: ["x/*"], path_hash_prefixes: ["ab"] },
      { name: "x" },
      { name: "x", path_hash_prefixes: ["AB"] },
      { name: "x", paths: ["x/*"], bins: 3 },
      { name: "x", paths: ["x/*"], signing: "offline" },
    ]) {
      expect(await refusal(client.addDelegation(bad as never)), JSON.stringify(bad)).toMatchObject({ status: 400 });
    }
    const after = await publishedTargets(repo);
    expect(after.snapshot.version).toBe(before.snapshot.version);
    expect((await client.delegations()).delegations.map((d) => d.name)).toEqual(["withbins", "org", "team"]); // preorder

    // Bodies: capped before they are read, JSON only; answered as problem+json.
    const post = (body: string) =>
      workerFetch(`${BASE}/${repo}/admin/delegations`, {
        method: "POST",
        headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body,
      });
    const huge = await post(JSON.stringify({ name: "x", paths: ["x/*"], pad: "x".repeat(70_000) }));
    expect(huge.status).toBe(413);
    expect(huge.headers.get("Content-Type")).toContain("application/problem+json");
    expect((await huge.json<{ code: string }>()).code).toBe("body_too_large");
    const junk = await post("{not json");
    expect(junk.status).toBe(400);
    expect(junk.headers.get("Content-Type")).toContain("application/problem+json");
    const unknownField = await post(JSON.stringify({ name: "x", paths: ["x/*"], keys: {} }));
    expect(unknownField.status).toBe(400);
    expect((await publishedTargets(repo)).snapshot.version).toBe(before.snapshot.version);

    await client.addDelegation({ name: "dots", paths: ["d/*"] });
    expect(await refusal(client.changeTargets({ add: [await targetEntry("d/.hidden")] }))).toEqual({
      status: 409,
      code: "ambiguous_delegation",
    });
  });
});
