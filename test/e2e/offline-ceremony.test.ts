/**
 * End to end: every root ceremony signed offline, as air-gapped key holders
 * do it, with the operator CLI against a local instance (wrangler dev).
 *   bootstrap    a ceremony file signed by 2 of 3 holders; a bin count edited after signing is refused
 *   root change  `rotate root` (root key C replaced by an ECDSA P-256 key HW held outside the CLI),
 *                exported to a file, signed by two holders in processes with no service URL,
 *                repository or token, submitted, published; a tuf-js client follows root v1 → v2
 *   emergency    an emergency online-key rotation the same way, HW's signature made by openssl over
 *                `ceremony bytes` (as a hardware token's own tool would); tuf-js follows to v3
 *   tampering    a draft, a summary or a root chain edited in the file is refused before signing
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { beforeAll, describe, expect, it } from "vitest";
import { json, ok } from "./cli-harness.ts";
import { startCliInstance, useCliInstance } from "./cli-instance.ts";

const REPO = "offline";
const PASSPHRASE = "offline ceremony passphrase";

describe("offline root ceremonies with the CLI", () => {
  const local = useCliInstance(() => startCliInstance("tuf-edge-offline-", { repo: REPO, passphrase: PASSPHRASE }));
  const { run } = local;
  /** The "air-gapped" machine's folder: the ceremony file is carried here and back. */
  let airGapped: string;
  /** A key holder's run: no URL, repository or admin token anywhere, in another folder. */
  const offline = (args: string[]) =>
    run(
      args,
      {
        TUF_EDGE_URL: undefined,
        TUF_EDGE_REPO: undefined,
        TUF_EDGE_ADMIN_TOKEN: undefined,
        HTTP_PROXY: "http://0.0.0.0:9",
      },
      airGapped,
    );
  const carry = async (name: string, from: string, to: string) =>
    writeFile(join(to, name), await readFile(join(from, name)));

  beforeAll(async () => {
    airGapped = join(local.scratch, "air-gapped");
    await mkdir(airGapped);
    for (const name of ["a", "b", "c"])
      ok(await run(["keys", "generate", "--out", `root-${name}.json`], {}, airGapped));
    // HW: a P-256 key that signs with openssl (standing in for a token's tool); it is imported
    // here only to get its public key in TUF form (`keys show --json`); the CLI never signs with it.
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "hw.pem"], {
      cwd: airGapped,
    });
    ok(await run(["keys", "import", "--pem", "hw.pem", "--out", "root-hw.json"], {}, airGapped));
    for (const name of ["a", "b", "c", "hw"]) {
      const shown = ok(await run(["keys", "show", `root-${name}.json`, "--json"], {}, airGapped));
      await writeFile(join(local.scratch, `root-${name}.pub.json`), shown.stdout);
    }
  }, 600_000);

  it("bootstrap: a ceremony file signed offline by 2 of 3; settings edited after signing are refused", async () => {
    const pub = ["a", "b", "c"].flatMap((n) => ["--public-key", `root-${n}.pub.json`]);
    ok(await run(["bootstrap", ...pub, "--threshold", "2", "--bins", "16", "--out", "bootstrap.json"]));
    await carry("bootstrap.json", local.scratch, airGapped);
    const first = ok(await offline(["bootstrap", "sign", "bootstrap.json", "--key", "root-a.json", "--yes"]));
    expect(first.stderr).toContain("hash bins: 16  (signed)");
    expect(first.stderr).toContain("not signed: submit checks the repository there");
    ok(await offline(["bootstrap", "sign", "bootstrap.json", "--key", "root-b.json", "--yes"]));
    const twice = ok(await offline(["bootstrap", "sign", "bootstrap.json", "--key", "root-b.json", "--yes"]));
    expect(twice.stderr).toContain("already signed bootstrap.json; not signing again");
    await carry("bootstrap.json", airGapped, local.scratch);

    // The bin count edited after both signatures: refused, nothing bootstrapped.
    const file = JSON.parse(await readFile(join(local.scratch, "bootstrap.json"), "utf8"));
    await writeFile(
      join(local.scratch, "edited.json"),
      JSON.stringify({ ...file, settings: { ...file.settings, bins: 2 } }),
    );
    const edited = await run(["bootstrap", "submit", "edited.json", "--yes"]);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain("the repository settings (bins, validities) or its repository name are not what");
    expect(json(await run(["status", "--json"])).status.bootstrapped).toBe(false);

    ok(await run(["bootstrap", "submit", "bootstrap.json", "--yes", "--root-out", "offline.1.root.json"]));
    expect(json(ok(await run(["status", "--json"]))).status.bins).toBe(16);
    await carry("offline.1.root.json", local.scratch, airGapped);
  }, 600_000);

  it("a root change exported, signed by two holders with no service configured, submitted; tuf-js follows", async () => {
    const opened = json(
      ok(
        await run([
          "rotate",
          "root",
          "--add-key",
          "root-hw.pub.json",
          "--remove-key",
          "root-c.pub.json",
          "--threshold",
          "2",
          "--yes",
          "--json",
        ]),
      ),
    );
    const exported = json(ok(await run(["ceremony", "export", opened.id, "--out", "change.json", "--json"])));
    expect(exported.summary).toContain("  root keys: threshold 2 of 3 → 2 of 3 (unchanged)");
    expect(exported.summary.join("\n")).toContain(
      "published once signed by 2 of 3 root keys of root v1 and 2 of 3 of root v2",
    );
    await carry("change.json", local.scratch, airGapped);

    // Edits refused before anything is signed: the draft, the summary, the root chain.
    const file = JSON.parse(await readFile(join(airGapped, "change.json"), "utf8"));
    const variants = {
      draft: { ...file, signed: { ...file.signed, expires: "2099-01-01T00:00:00Z" } },
      summary: { ...file, summary: file.summary.slice(1) },
      chain: { ...file, rootChain: [{ ...file.rootChain[0], signatures: [] }] },
    };
    for (const [name, variant] of Object.entries(variants)) {
      await writeFile(join(airGapped, `${name}.json`), JSON.stringify(variant));
      const refused = await offline(["ceremony", "sign", `${name}.json`, "--key", "root-a.json", "--yes"]);
      expect(refused.code, `${name}: ${refused.stderr}`).toBe(1);
      expect(refused.stderr, name).toMatch(/altered|does not verify/);
    }

    const a = json(
      ok(
        await offline([
          "ceremony",
          "sign",
          "change.json",
          "--key",
          "root-a.json",
          "--trusted-root",
          "offline.1.root.json",
          "--yes",
          "--json",
        ]),
      ),
    );
    expect(a).toMatchObject({ complete: false, progress: { trusted: { signed: 1, threshold: 2, of: 3 } } });
    const again = ok(await offline(["ceremony", "sign", "change.json", "--key", "root-a.json", "--yes"]));
    expect(again.stderr).toContain("change.json is already signed by root-a.json");
    // Root v1 needs 2 of A, B, C; the draft 2 of A, B, HW: A and B complete both.
    const b = json(ok(await offline(["ceremony", "sign", "change.json", "--key", "root-b.json", "--yes", "--json"])));
    expect(b).toMatchObject({ complete: true, progress: { trusted: { signed: 2 }, draft: { signed: 2 } } });
    await carry("change.json", airGapped, local.scratch);

    const submitted = json(ok(await run(["ceremony", "submit", "change.json", "--json"])));
    expect(submitted).toMatchObject({ state: "published", rootVersion: 2, submitted: 2 });

    const metadataDir = join(local.scratch, "client");
    await mkdir(metadataDir);
    await carry("offline.1.root.json", local.scratch, metadataDir);
    await writeFile(join(metadataDir, "root.json"), await readFile(join(metadataDir, "offline.1.root.json")));
    const urls = {
      metadata: `${local.instance.baseUrl}/${REPO}/metadata`,
      targets: `${local.instance.baseUrl}/${REPO}/targets`,
    };
    const updater = () =>
      new Updater({
        metadataDir,
        metadataBaseUrl: urls.metadata,
        targetDir: local.scratch,
        targetBaseUrl: urls.targets,
      });
    await updater().refresh();
    const trusted = JSON.parse(await readFile(join(metadataDir, "root.json"), "utf8"));
    expect(trusted.signed.version).toBe(2);
    const hwKeyid = JSON.parse(await readFile(join(local.scratch, "root-hw.pub.json"), "utf8")).keyid;
    expect(trusted.signed.roles.root.keyids).toContain(hwKeyid);

    // An emergency online-key rotation, the same way; HW signs with openssl over `ceremony bytes`.
    const emergency = json(
      ok(await run(["rotate", "online-key", "--emergency", "--reason", "drill", "--yes", "--json"])),
    );
    ok(await run(["ceremony", "export", emergency.id, "--out", "emergency.json"]));
    await carry("emergency.json", local.scratch, airGapped);
    ok(await offline(["ceremony", "bytes", "emergency.json", "--out", "draft.bin"]));
    const openssl = (input: string, output: string) =>
      execFileSync("openssl", ["dgst", "-sha256", "-sign", "hw.pem", "-out", output, input], { cwd: airGapped });
    openssl("draft.bin", "sig.der");
    // A signature over other bytes is refused.
    await writeFile(join(airGapped, "other.bin"), "not the draft");
    openssl("other.bin", "bad.der");
    const external = (sig: string) =>
      offline(["ceremony", "sign", "emergency.json", "--signature", sig, "--public-key", "root-hw.json"]);
    const bad = await external("bad.der");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("does not verify");
    ok(await external("sig.der"));
    ok(await offline(["ceremony", "sign", "emergency.json", "--key", "root-a.json", "--yes"]));
    await carry("emergency.json", airGapped, local.scratch);
    expect(json(ok(await run(["ceremony", "submit", "emergency.json", "--json"])))).toMatchObject({
      state: "published",
      rootVersion: 3,
    });
    await updater().refresh();
    expect(JSON.parse(await readFile(join(metadataDir, "root.json"), "utf8")).signed.version).toBe(3);
  }, 600_000);
});
