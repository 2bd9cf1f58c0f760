/**
 * End to end: an offline delegation whose targets are in hash bins its owners
 * sign (src/tuf/offline-bins.ts), on a real local instance (wrangler dev),
 * driven by the CLI as its owners would: `delegation init` writes the role
 * and its empty bins, each owner signs them all with one `delegation sign`,
 * the operator adds the delegation with them. Registry uploads into the
 * namespace wait for the owners in the bin that holds each path; the owners
 * fetch one draft per bin, sign and submit them all in one command each, and
 * tuf-js downloads the targets only then. A bin re-signed with the
 * repository's actual online key is refused by tuf-js.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RegistryClient } from "../../scripts/lib/registry-client.ts";
import { findLocalR2Objects, tamperLocalR2Object } from "../../scripts/lib/tamper-local-r2.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { startBootstrappedInstance } from "./bootstrapped-instance.ts";
import { json, ok } from "./cli-harness.ts";
import { useCliInstance } from "./cli-instance.ts";
import { stealOnlineKey } from "./stolen-online-key.ts";
import { lookUpWithTufJs } from "./tuf-js-lookup.ts";

const REPO = "e2e-offline-bins";
const bins = new HashBins(2, "big.bins");

/** Two paths of the namespace in different bins. */
async function pathsInTwoBins(): Promise<[string, string]> {
  const byBin = new Map<string, string>();
  for (let i = 0; byBin.size < 2; i++) {
    const path = `big/tool-${i}.tgz`;
    const bin = await bins.binFor(path);
    if (!byBin.has(bin)) byBin.set(bin, path);
  }
  return [...byBin.values()] as [string, string];
}

describe("tuf-js through hash bins inside an offline delegation", () => {
  const local = useCliInstance(() => startBootstrappedInstance("tuf-edge-offline-bins-", REPO, "owners passphrase"));
  const { run } = local;

  const lookUp = (path: string) => lookUpWithTufJs(local.scratch, local.rootBytes, local.urls, path);

  it("targets in an offline bin reach tuf-js only once the owners signed that bin; a bin signed with the online key is refused", async () => {
    // Two owners (Ed25519 and ECDSA P-256 key files), 2 of 2; the first versions of the role and its 4 bins.
    ok(await run(["keys", "generate", "--type", "ed25519", "--out", "owner-a.key"]));
    ok(await run(["keys", "generate", "--type", "ecdsa-p256", "--out", "owner-b.key"]));
    const owners = ["--owner-key", "owner-a.key", "--owner-key", "owner-b.key", "--threshold", "2"];
    const init = json(
      ok(await run(["delegation", "init", "big", "--bins", "4", ...owners, "--out", "big-1.json", "--json"])),
    );
    expect(init.roles).toEqual(["big", ...bins.names()]);
    // One command per owner signs every role of the set.
    const signed = json(ok(await run(["delegation", "sign", "big-1.json", "--key", "owner-a.key", "--json"])));
    expect(signed.roles).toHaveLength(5);
    ok(await run(["delegation", "sign", "big-1.json", "--key", "owner-b.key"]));
    const added = json(
      ok(
        await run([
          "delegation",
          "add",
          "big",
          "--path",
          "big/*",
          "--terminating",
          "--offline",
          "--bins",
          "4",
          ...owners,
          "--metadata",
          "big-1.json",
          "--json",
        ]),
      ),
    );
    expect(added.delegation).toMatchObject({ name: "big", signing: "offline", bins: 4, version: 1 });

    // The registry uploads two releases, into two bins: accepted, waiting for the owners of each bin.
    const { secret } = await local.client.addRegistryCredential("npm", { kind: "hmac" });
    const registry = new RegistryClient({
      baseUrl: local.instance.baseUrl,
      repo: REPO,
      registry: "npm",
      credential: { kind: "hmac", secret: secret as string },
    });
    const [p1, p2] = await pathsInTwoBins();
    const [bin1, bin2] = [await bins.binFor(p1), await bins.binFor(p2)];
    const bytes1 = new Uint8Array(Buffer.from("big tool one\n"));
    const up1 = await registry.upload(p1, bytes1);
    const up2 = await registry.upload(p2, new Uint8Array(Buffer.from("big tool two\n")));
    expect(up1.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: [bin1] });
    expect(up2.task).toMatchObject({ state: "awaiting-owners", awaitingOwners: [bin2] });
    expect((await lookUp(p1)).info).toBeNull();
    // The CLI's verify (tuf-js from the pinned root) does not find it either: exit 1.
    await writeFile(join(local.scratch, "root.json"), local.rootBytes);
    const verify = ["verify", "--root", "root.json", "--target", p1];
    const early = await run(verify);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("is not in the repository");
    const status = json(ok(await run(["delegation", "status", "--json"])));
    expect(status.find((r: { name: string }) => r.name === "big")).toMatchObject({ version: 1, pending: 2 });

    // Owner A: the drafts (one per bin with changes, each checked against its published version) in one file.
    const drafts = json(ok(await run(["delegation", "draft", "big", "--out", "big-next.json", "--json"])));
    expect(drafts.map((d: { delegation: string; version: number }) => [d.delegation, d.version])).toEqual(
      [
        [bin1, 2],
        [bin2, 2],
      ].sort(),
    );
    ok(await run(["delegation", "sign", "big-next.json", "--key", "owner-a.key"]));
    const half = json(ok(await run(["delegation", "submit", "big", "big-next.json", "--signatures", "--json"])));
    expect(half).toMatchObject({ submitted: 2, published: null });
    expect(half.drafts.map((d: { signatures: number }) => d.signatures)).toEqual([1, 1]);
    expect((await lookUp(p1)).info).toBeNull();

    // Owner B signs the same file: both bins published in one round.
    ok(await run(["delegation", "sign", "big-next.json", "--key", "owner-b.key"]));
    const done = json(ok(await run(["delegation", "submit", "big", "big-next.json", "--signatures", "--json"])));
    expect(done.published.roles.map((r: { role: string }) => r.role).sort()).toEqual([bin1, bin2].sort());
    const { info, roles, tuf, targetDir } = await lookUp(p1);
    expect(info?.hashes).toEqual({ sha256: createHash("sha256").update(bytes1).digest("hex") });
    expect(roles).toEqual(expect.arrayContaining(["big", bin1]));
    if (!info) throw new Error(`${p1} is not listed`);
    expect(new Uint8Array(await readFile(await tuf.downloadTarget(info, join(targetDir, "tool.tgz"))))).toEqual(bytes1);
    expect((await registry.task(up1.task.id)).state).toBe("published");
    // And so does the CLI's verify, through the owners' role and bin.
    const verified = json(ok(await run([...verify, "--download", "verified", "--json"])));
    expect(verified).toMatchObject({ verified: true, target: p1, length: bytes1.length });
    expect(new Uint8Array(await readFile(verified.downloaded))).toEqual(bytes1);

    // The thief of the online key re-signs bin2's version 2 (not fetched by any client yet) to list other bytes.
    const stolen = (await stealOnlineKey(local.persistTo, REPO, local.secrets.KEY_ENCRYPTION_KEY)).signer;
    const stored = (await findLocalR2Objects(local.persistTo, `"${p2}"`)).find((b) => {
      const text = Buffer.from(b).toString("utf8");
      return text.includes('"_type":"targets"') && text.includes('"version":2');
    });
    if (!stored) throw new Error(`the bin listing ${p2} is not stored`);
    const text = Buffer.from(stored).toString("utf8");
    const envelope = JSON.parse(text) as { signed: { targets: Record<string, { hashes: { sha256: string } }> } };
    const genuine = envelope.signed.targets[p2]?.hashes.sha256 as string;
    const evil = createHash("sha256").update("evil\n").digest("hex");
    const forgedText = text.replace(genuine, evil);
    const parsed = JSON.parse(forgedText) as { signed: unknown; signatures: Array<{ keyid: string; sig: string }> };
    const ed = parsed.signatures.find((s) => s.sig.length === 128) as { keyid: string; sig: string };
    const sig = Buffer.from(await stolen.sign(canonicalBytes(parsed.signed))).toString("hex");
    const forged = Buffer.from(forgedText.replace(ed.keyid, stolen.keyid).replace(ed.sig, sig));
    await tamperLocalR2Object(local.persistTo, stored, forged);
    await expect(lookUp(p2)).rejects.toThrow(`${bin2} was signed by 0/2 keys`);
    // The genuine bin still resolves.
    expect((await lookUp(p1)).info?.hashes).toEqual(info.hashes);
  });
});
