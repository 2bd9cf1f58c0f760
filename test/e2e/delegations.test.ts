/**
 * End to end: tuf-js resolves targets through delegations of a real local
 * instance (wrangler dev): an online delegation, a terminating one that
 * shadows the bins, one with hash bins inside, nested ones, and a path no
 * delegation claims, which falls through to the catch-all bins.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { describe, expect, it } from "vitest";
import { writeTrustedRoot } from "../../scripts/lib/client-setup.ts";
import { findLocalR2Objects, tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { startBootstrappedInstance } from "./bootstrapped-instance.ts";
import { json } from "./cli-harness.ts";
import { useCliInstance } from "./cli-instance.ts";

const REPO = "e2e-delegations";

describe("tuf-js through delegations", () => {
  const local = useCliInstance(() => startBootstrappedInstance("tuf-edge-delegations-", REPO, "unused"));
  const { run } = local;

  /** A fresh client (its own metadata folder, trusting root v1) that finds and downloads `path`. */
  async function fetchWithTufJs(path: string): Promise<{ bytes: Uint8Array | null; roles: string[] }> {
    const metadataDir = await mkdtemp(join(local.scratch, "metadata-"));
    const targetDir = await mkdtemp(join(local.scratch, "targets-"));
    await writeTrustedRoot(join(metadataDir, "root.json"), local.rootBytes);
    const tuf = new Updater({
      metadataDir,
      metadataBaseUrl: local.urls.metadata,
      targetDir,
      targetBaseUrl: local.urls.targets,
    });
    await tuf.refresh();
    const info = await tuf.getTargetInfo(path);
    // The roles tuf-js loaded (and verified) are the files it persisted.
    const roles = (await readdir(metadataDir)).map((file) => decodeURIComponent(file.replace(/\.json$/, ""))).sort();
    if (!info) return { bytes: null, roles };
    const file = await tuf.downloadTarget(info, join(targetDir, "t"));
    return { bytes: new Uint8Array(await readFile(file)), roles };
  }

  const body = (label: string) => new Uint8Array(Buffer.from(`${label} ${randomBytes(8).toString("hex")}\n`));
  const binOf = (path: string, bits: number) =>
    createHash("sha256").update(path).digest().readUInt32BE(0) >>> (32 - bits);

  it("resolves through online, terminating, binned and nested delegations, and falls through to the bins", async () => {
    const files = {
      acme: { path: "@acme/widget-1.0.tgz", bytes: body("acme") },
      shadowed: { path: "vendor/lib-2.0.tgz", bytes: body("vendor") },
      big: { path: "big/item-3.tgz", bytes: body("big") },
      team: { path: "org/team/tool-4.tgz", bytes: body("team") },
      org: { path: "org/other/tool-5.tgz", bytes: body("org") },
      plain: { path: "hello/hello-world.txt", bytes: body("plain") },
    };
    // One target listed before any delegation: it moves into "acme" when that is added.
    await local.client.upload(files.acme.path, files.acme.bytes);
    await local.client.addDelegation({ name: "acme", paths: ["@acme/*"] });
    await local.client.addDelegation({ name: "vendor", paths: ["vendor/*"], terminating: true });
    await local.client.addDelegation({ name: "big", paths: ["big/*"], bins: 4 });
    await local.client.addDelegation({ name: "org", paths: ["org/*/*"] });
    await local.client.addDelegation({ name: "team", parent: "org", paths: ["org/team/*"], bins: 2 });
    for (const key of ["shadowed", "big", "team", "org", "plain"] as const) {
      await local.client.upload(files[key].path, files[key].bytes);
    }

    const acme = await fetchWithTufJs(files.acme.path);
    expect(acme.bytes).toEqual(files.acme.bytes);
    expect(acme.roles).toEqual(["acme", "root", "snapshot", "targets", "timestamp"]);

    const shadowed = await fetchWithTufJs(files.shadowed.path);
    expect(shadowed.bytes).toEqual(files.shadowed.bytes);
    expect(shadowed.roles).toEqual(["root", "snapshot", "targets", "timestamp", "vendor"]);
    // Terminating: a path it claims and does not list is not found, the bins are never asked.
    const missing = await fetchWithTufJs("vendor/none.tgz");
    expect(missing.bytes).toBeNull();
    expect(missing.roles).not.toContain("bins");

    const big = await fetchWithTufJs(files.big.path);
    expect(big.bytes).toEqual(files.big.bytes);
    expect(big.roles).toContain(`big.bins-${binOf(files.big.path, 2).toString(16)}`);

    const team = await fetchWithTufJs(files.team.path);
    expect(team.bytes).toEqual(files.team.bytes);
    expect(team.roles).toEqual(
      ["org", "root", "snapshot", "targets", `team.bins-${binOf(files.team.path, 1)}`, "team", "timestamp"].sort(),
    );
    const org = await fetchWithTufJs(files.org.path);
    expect(org.bytes).toEqual(files.org.bytes);
    expect(org.roles).toEqual(["org", "root", "snapshot", "targets", "timestamp"]);

    const plain = await fetchWithTufJs(files.plain.path);
    expect(plain.bytes).toEqual(files.plain.bytes);
    const bin = `bins-${binOf(files.plain.path, 4).toString(16)}`;
    expect(plain.roles).toEqual(["bins", bin, "root", "snapshot", "targets", "timestamp"].sort());

    // The CLI's verify (tuf-js from the pinned root) resolves each of them the same way and downloads its bytes.
    await writeFile(join(local.scratch, "root.json"), local.rootBytes);
    for (const file of Object.values(files)) {
      const args = ["verify", "--root", "root.json", "--target", file.path, "--download", "verified", "--json"];
      const verified = await run(args);
      expect(verified.code, `${file.path}: ${verified.stderr}`).toBe(0);
      expect(json(verified)).toMatchObject({ verified: true, target: file.path, length: file.bytes.length });
      expect(new Uint8Array(await readFile(json(verified).downloaded))).toEqual(file.bytes);
    }
    // A path the terminating delegation claims and does not list: not found, exit 1.
    const unlisted = await run(["verify", "--root", "root.json", "--target", "vendor/none.tgz"]);
    expect(unlisted.code).toBe(1);
    expect(unlisted.stderr).toContain("is not in the repository");

    // Removing a delegation gives its paths back to the bins: the client finds them there.
    await local.client.removeDelegation("acme");
    const back = await fetchWithTufJs(files.acme.path);
    expect(back.bytes).toEqual(files.acme.bytes);
    expect(back.roles).toContain("bins");
    expect(back.roles).not.toContain("acme");
  });

  it("tuf-js refuses a delegated role altered in storage: it is checked against the keys its delegator names", async () => {
    await local.client.addDelegation({ name: "sealed", paths: ["sealed/*"], terminating: true });
    const genuine = { path: "sealed/app-1.0.tgz", bytes: body("sealed") };
    await local.client.upload(genuine.path, genuine.bytes);
    // The newest sealed.json, read from R2's files (nothing has fetched it through the Worker yet).
    const versions = await findLocalR2Objects(local.persistTo, '"_type":"targets"');
    const sealed = versions
      .map((bytes) => ({ bytes, signed: JSON.parse(Buffer.from(bytes).toString("utf8")).signed }))
      .filter((f) => Object.hasOwn(f.signed.targets, genuine.path))
      .sort((a, b) => b.signed.version - a.signed.version)[0];
    if (!sealed) throw new Error("no stored sealed.json lists the target");
    // Same length, another digest: what an attacker with write access to storage, and no key, could serve.
    const digest = createHash("sha256").update(genuine.bytes).digest("hex");
    const forgedDigest = `${digest[0] === "0" ? "1" : "0"}${digest.slice(1)}`;
    const forged = Buffer.from(Buffer.from(sealed.bytes).toString("utf8").replace(digest, forgedDigest));
    await tamperLocalR2Object(local.persistTo, sealed.bytes, new Uint8Array(forged));
    await expect(fetchWithTufJs(genuine.path)).rejects.toThrow("sealed was signed by 0/1 keys");
  });

  it("the CLI adds, shows and removes delegations, refusing bad ones before any request", async () => {
    const added = await run([
      "delegation",
      "add",
      "cli-ns",
      "--path",
      "cli/*",
      "--terminating",
      "--position",
      "0",
      "--json",
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(json(added).delegation).toEqual({
      name: "cli-ns",
      parent: "targets",
      terminating: true,
      signing: "online",
      paths: ["cli/*"],
    });
    const shown = await run(["delegation", "show", "--json"]);
    expect(json(shown)[0]).toMatchObject({ name: "cli-ns" });
    const table = await run(["delegation", "show"]);
    expect(table.stdout).toMatch(/^cli-ns\s+targets\s+cli\/\*\s+yes/m);

    await local.client.upload("cli/tool.tgz", body("cli"));
    const found = await fetchWithTufJs("cli/tool.tgz");
    expect(found.roles).toContain("cli-ns");

    const usage = await run(["delegation", "add", "cli-2", "--path", "a/{b,c}"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("braces");
    const refused = await run(["delegation", "add", "cli-ns", "--path", "x/*"]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("delegation_exists");

    const removed = await run(["delegation", "remove", "cli-ns"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain("delegation cli-ns removed");
    expect((await fetchWithTufJs("cli/tool.tgz")).roles).not.toContain("cli-ns");
  });
});
