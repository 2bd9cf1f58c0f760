/**
 * End to end: tuf-js resolves a target through an offline delegation of a
 * real local instance (wrangler dev), whose role the service stores exactly
 * as its owner signed it, and refuses that role once it is replaced in
 * storage by one signed with a key that is not the owner's, the repository's
 * own online key included. Registry uploads into the namespace wait for the
 * owners, who sign the service's draft with the CLI (a key file, and a
 * hardware-token-style signature made outside it); tuf-js sees the target
 * only once the threshold of signatures is met.
 */
import { createHash, generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RegistryClient } from "../../scripts/lib/registry-client.ts";
import { findLocalR2Objects, tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { ecdsaP256Key } from "../../src/tuf/key.ts";
import { formatExpires } from "../../src/tuf/metadata.ts";
import { Ed25519Signer, type Signer } from "../../src/tuf/signer.ts";
import { startBootstrappedInstance } from "./bootstrapped-instance.ts";
import { json, ok } from "./cli-harness.ts";
import { useCliInstance } from "./cli-instance.ts";
import { stealOnlineKey } from "./stolen-online-key.ts";
import { lookUpWithTufJs } from "./tuf-js-lookup.ts";

const REPO = "e2e-offline-delegations";

/** A version of the owners' role, serialised as they chose (indented): the service serves these bytes. */
async function ownersVersion(signer: Signer, version: number, targets: Record<string, unknown>): Promise<Uint8Array> {
  const expires = formatExpires(new Date(Date.now() + 30 * 86_400_000));
  const signed = { _type: "targets", spec_version: "1.0.31", version, expires, targets };
  const sig = Buffer.from(await signer.sign(canonicalBytes(signed))).toString("hex");
  return new Uint8Array(Buffer.from(JSON.stringify({ signatures: [{ keyid: signer.keyid, sig }], signed }, null, 2)));
}

describe("tuf-js through an offline delegation", () => {
  const local = useCliInstance(() => startBootstrappedInstance("tuf-edge-offline-", REPO, "owners passphrase"));
  const { run } = local;

  const lookUp = (path: string) => lookUpWithTufJs(local.scratch, local.rootBytes, local.urls, path);

  /** Adds offline delegation `name` for `@name/*`, terminating, owned by `owner` alone, with version 1 `v1`. */
  async function addOffline(name: string, owner: Signer, v1: Uint8Array) {
    await local.client.addDelegation({
      name,
      paths: [`@${name}/*`],
      terminating: true,
      signing: "offline",
      keys: [owner.key],
      threshold: 1,
      metadata: Buffer.from(v1).toString("utf8"),
    });
  }

  it("resolves a target the owner listed, through the role served as the owner signed it", async () => {
    const owner = (await Ed25519Signer.generate()).signer;
    const path = "@acme/widget-1.0.tgz";
    const contents = Buffer.from("acme widget\n");
    const sha256 = createHash("sha256").update(contents).digest("hex");
    const v1 = await ownersVersion(owner, 1, { [path]: { length: contents.length, hashes: { sha256 } } });
    await addOffline("acme", owner, v1);
    const served = await fetch(`${local.urls.metadata}/1.acme.json`);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(v1);

    const found = await lookUp(path);
    expect(found.info?.length).toBe(contents.length);
    expect(found.info?.hashes).toEqual({ sha256 });
    expect(found.roles).toEqual(["acme", "root", "snapshot", "targets", "timestamp"]);
  });

  it("tuf-js refuses the role replaced in storage by one signed with a key that is not the owner's", async () => {
    // Another offline role, which nothing fetches through the Worker (and its cache) before it is replaced.
    const owner = (await Ed25519Signer.generate()).signer;
    const path = "@beta/tool-2.0.tgz";
    const entry = { length: 5, hashes: { sha256: createHash("sha256").update("beta\n").digest("hex") } };
    const v1 = await ownersVersion(owner, 1, { [path]: entry });
    await addOffline("beta", owner, v1);
    // What an attacker with another key (the online key is one: it is not among the owner's) and write
    // access to storage could serve: the same role listing other bytes, signed by that key.
    const forger = (await Ed25519Signer.generate()).signer;
    const evil = { length: 5, hashes: { sha256: createHash("sha256").update("evil\n").digest("hex") } };
    const forged = await ownersVersion(forger, 1, { [path]: evil });
    // Only the owners' files are indented (the service's own are compact JSON); this one lists the path.
    const stored = (await findLocalR2Objects(local.persistTo, `"${path}"`)).find((bytes) =>
      Buffer.from(bytes).includes('"_type": "targets"'),
    );
    expect(stored).toEqual(v1);
    await tamperLocalR2Object(local.persistTo, v1, forged);
    await expect(lookUp(path)).rejects.toThrow("beta was signed by 0/1 keys");
  });

  it("the CLI: owners sign with Ed25519 and ECDSA P-256 key files, add the delegation and submit its next version", async () => {
    ok(await run(["keys", "generate", "--type", "ed25519", "--out", "owner-a.key"]));
    ok(await run(["keys", "generate", "--type", "ecdsa-p256", "--out", "owner-b.key"]));
    const contents = Buffer.from("gamma tool\n");
    const entry = { length: contents.length, hashes: { sha256: createHash("sha256").update(contents).digest("hex") } };
    const role = (version: number, targets: Record<string, unknown>) =>
      JSON.stringify({
        _type: "targets",
        spec_version: "1.0.31",
        version,
        expires: formatExpires(new Date(Date.now() + 30 * 86_400_000)),
        targets,
      });
    await writeFile(join(local.scratch, "gamma-1.json"), role(1, {}));
    const signed = json(ok(await run(["delegation", "sign", "gamma-1.json", "--key", "owner-a.key", "--json"])));
    expect(signed.keyids).toHaveLength(1);
    // A second owner signs the same file later: both signatures are kept.
    ok(await run(["delegation", "sign", "gamma-1.json", "--key", "owner-b.key"]));
    const added = json(
      ok(
        await run([
          "delegation",
          "add",
          "gamma",
          "--path",
          "gamma/*",
          "--offline",
          "--owner-key",
          "owner-a.key",
          "--owner-key",
          "owner-b.key",
          "--threshold",
          "2",
          "--metadata",
          "gamma-1.json",
          "--json",
        ]),
      ),
    );
    expect(added.delegation).toMatchObject({ name: "gamma", signing: "offline", threshold: 2, version: 1 });

    await writeFile(join(local.scratch, "gamma-2.json"), role(2, { "gamma/tool-1.0.tgz": entry }));
    ok(await run(["delegation", "sign", "gamma-2.json", "--key", "owner-b.key"]));
    // One of two signatures: refused by the service (exit 4), nothing published.
    const short = await run(["delegation", "submit", "gamma", "gamma-2.json"]);
    expect(short.code).toBe(4);
    expect(short.stderr).toContain("threshold_not_met");
    ok(await run(["delegation", "sign", "gamma-2.json", "--key", "owner-a.key"]));
    const submitted = json(ok(await run(["delegation", "submit", "gamma", "gamma-2.json", "--json"])));
    expect(submitted.version).toBe(2);
    const served = await fetch(`${local.urls.metadata}/2.gamma.json`);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(await readFile(join(local.scratch, "gamma-2.json")));
    const found = await lookUp("gamma/tool-1.0.tgz");
    expect(found.info?.hashes).toEqual(entry.hashes);
    expect(found.roles).toContain("gamma");
  });

  it("a registry upload into the namespace waits for the owners: tuf-js sees it only once their draft has the threshold of signatures", async () => {
    // Owner C: a key file. Owner D: a P-256 key outside the CLI (a hardware token), which signs `delegation bytes` output.
    ok(await run(["keys", "generate", "--type", "ed25519", "--out", "owner-c.key"]));
    const token = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const tokenKey = ecdsaP256Key(token.publicKey.export({ type: "spki", format: "pem" }).toString());
    await writeFile(join(local.scratch, "owner-d.pub.json"), JSON.stringify(tokenKey));
    const tokenSigns = async (file: string) => {
      ok(await run(["delegation", "bytes", file, "--out", "to-sign.bin"]));
      const der = nodeSign("sha256", await readFile(join(local.scratch, "to-sign.bin")), token.privateKey);
      await writeFile(join(local.scratch, "token.sig"), der);
      ok(await run(["delegation", "sign", file, "--signature", "token.sig", "--public-key", "owner-d.pub.json"]));
    };
    const v1 = {
      _type: "targets",
      spec_version: "1.0.31",
      version: 1,
      expires: formatExpires(new Date(Date.now() + 30 * 86_400_000)),
      targets: {},
    };
    await writeFile(join(local.scratch, "delta-1.json"), JSON.stringify(v1));
    ok(await run(["delegation", "sign", "delta-1.json", "--key", "owner-c.key"]));
    await tokenSigns("delta-1.json");
    // The first version needs both owners too: they are the only keys the delegation names.
    ok(
      await run([
        "delegation",
        "add",
        "delta",
        "--path",
        "delta/*",
        "--terminating",
        "--offline",
        "--owner-key",
        "owner-c.key",
        "--owner-key",
        "owner-d.pub.json",
        "--threshold",
        "2",
        "--metadata",
        "delta-1.json",
      ]),
    );

    const { secret } = await local.client.addRegistryCredential("npm", { kind: "hmac" });
    const registry = new RegistryClient({
      baseUrl: local.instance.baseUrl,
      repo: REPO,
      registry: "npm",
      credential: { kind: "hmac", secret: secret as string },
    });
    const path = "delta/tool-3.0.tgz";
    const bytes = new Uint8Array(Buffer.from("delta tool 3.0\n"));
    const uploaded = await registry.upload(path, bytes);
    expect(uploaded.status).toBe(202);
    expect(uploaded.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: ["delta"] });
    expect((await lookUp(path)).info).toBeNull();
    // The CLI's verify (tuf-js from the pinned root) does not find it either: exit 1.
    await writeFile(join(local.scratch, "root.json"), local.rootBytes);
    const verify = ["verify", "--root", "root.json", "--target", path];
    const early = await run(verify);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("is not in the repository");
    const status = json(ok(await run(["delegation", "status", "--json"])));
    expect(status.find((r: { name: string }) => r.name === "delta")).toMatchObject({
      version: 1,
      pending: 1,
      daysLeft: 29,
    });

    // Owner C fetches the draft (checked against published version 1), signs it, submits: 1 of 2, nothing published.
    const draft = json(ok(await run(["delegation", "draft", "delta", "--out", "delta-next.json", "--json"])));
    expect(draft).toMatchObject({ version: 2, changes: [{ type: "targets.add", path, actor: "registry npm" }] });
    ok(await run(["delegation", "sign", "delta-next.json", "--key", "owner-c.key"]));
    const half = json(ok(await run(["delegation", "submit", "delta", "delta-next.json", "--signatures", "--json"])));
    expect(half).toMatchObject({ submitted: 1, signatures: 1, threshold: 2, published: null });
    expect((await lookUp(path)).info).toBeNull();
    expect((await registry.task(uploaded.task.id)).state).toBe("awaiting-owners");

    // Owner D signs the same draft with the token: the threshold is met and version 2 is published.
    await tokenSigns("delta-next.json");
    const done = json(ok(await run(["delegation", "submit", "delta", "delta-next.json", "--signatures", "--json"])));
    expect(done).toMatchObject({ submitted: 1, signatures: 2, published: { version: 2 } });
    const { info, roles, tuf, targetDir } = await lookUp(path);
    expect(info?.hashes).toEqual({ sha256: createHash("sha256").update(bytes).digest("hex") });
    expect(roles).toContain("delta");
    expect((await registry.task(uploaded.task.id)).state).toBe("published");
    // The uploaded bytes download and verify through tuf-js.
    if (!info) throw new Error(`${path} is not listed`);
    expect(new Uint8Array(await readFile(await tuf.downloadTarget(info, join(targetDir, "tool.tgz"))))).toEqual(bytes);
    // And so does the CLI's verify, through the owners' role.
    const verified = json(ok(await run([...verify, "--download", "verified", "--json"])));
    expect(verified).toMatchObject({ verified: true, target: path, length: bytes.length });
    expect(new Uint8Array(await readFile(verified.downloaded))).toEqual(bytes);
  });

  it("with the repository's actual online key, a forged offline role is refused by tuf-js and a forged bin listing the namespace's path is never consulted", async () => {
    const stolen = (await stealOnlineKey(local.persistTo, REPO, local.secrets.KEY_ENCRYPTION_KEY)).signer;
    expect(stolen.keyid).toBe((await local.client.status()).onlineKeyId);
    const owner = (await Ed25519Signer.generate()).signer;
    const listed = "@epsilon/app-1.0.tgz";
    const good = { length: 4, hashes: { sha256: createHash("sha256").update("app\n").digest("hex") } };
    const evil = { length: 4, hashes: { sha256: createHash("sha256").update("bad\n").digest("hex") } };
    const v1 = await ownersVersion(owner, 1, { [listed]: good });
    await addOffline("epsilon", owner, v1);

    // A bin, signed with the online key, that lists a path of the namespace: a path that hashes to the same
    // bin as a target the service lists, and has its length, so the forged bin has the stored one's size.
    const online = "zeta/x-000000.tgz";
    await local.client.changeTargets({ add: [{ path: online, ...good }] });
    const bins = new HashBins(4);
    const bin = await bins.indexFor(online);
    let claimed = "";
    for (let i = 0; !claimed; i++) {
      const candidate = `@epsilon/${String(i).padStart(online.length - "@epsilon/".length - 4, "0")}.tgz`;
      if ((await bins.indexFor(candidate)) === bin) claimed = candidate;
    }
    expect(claimed.length).toBe(online.length);
    const [stored] = (await findLocalR2Objects(local.persistTo, `"${online}"`)).filter((bytes) =>
      Buffer.from(bytes).includes('"_type":"targets"'),
    );
    if (!stored) throw new Error("the bin listing the online target is not stored");
    const text = Buffer.from(stored)
      .toString("utf8")
      .replace(online, claimed)
      .replace(good.hashes.sha256, evil.hashes.sha256);
    const envelope = JSON.parse(text);
    const sig = Buffer.from(await stolen.sign(canonicalBytes(envelope.signed))).toString("hex");
    const forgedBin = Buffer.from(text.replace(envelope.signatures[0].sig, sig));
    expect(forgedBin.length).toBe(stored.length);
    await tamperLocalR2Object(local.persistTo, stored, forgedBin);
    // The forged bin verifies (a client looking up the online path loads it without complaint) …
    expect((await lookUp(online)).info).toBeNull();
    // … but a client looking for the namespace's paths never reaches it: the owners' role ends the search.
    expect((await lookUp(claimed)).info).toBeNull();
    expect((await lookUp(listed)).info?.hashes).toEqual(good.hashes);

    // Another owners' role (not fetched yet, so no cache holds it), re-signed with the online key to list
    // another digest for its path: refused.
    const etaPath = "eta/app-1.0.tgz";
    const etaV1 = await ownersVersion(owner, 1, { [etaPath]: good });
    await local.client.addDelegation({
      name: "eta",
      paths: ["eta/*"],
      terminating: true,
      signing: "offline",
      keys: [owner.key],
      threshold: 1,
      metadata: Buffer.from(etaV1).toString("utf8"),
    });
    const forged = await ownersVersion(stolen, 1, { [etaPath]: evil });
    expect(forged.length).toBe(etaV1.length);
    await tamperLocalR2Object(local.persistTo, etaV1, forged);
    await expect(lookUp(etaPath)).rejects.toThrow("eta was signed by 0/1 keys");
  });
});
