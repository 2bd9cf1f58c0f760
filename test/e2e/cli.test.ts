/**
 * End to end: the operator CLI (scripts/cli.ts), run as a subprocess with the
 * pinned Node (process.execPath) against a real local instance (wrangler dev).
 * Interactive prompts run in a pseudo-terminal made by util-linux `script`;
 * answers are typed once the prompt shows (expect-style).
 *
 *   keys      three root keys (ed25519, ecdsa-p256, ed25519) + one outsider; a passphrase typed at a hidden prompt
 *   bootstrap the wizard (declined, then confirmed) in a pty; by flags with threshold 2; an offline ceremony file
 *             that is tampered with (refused before submission) and an intact one submitted
 *   targets   registry push and upload, 100,000 targets imported (timed), resume, immutable digests
 *   status, verify from pinned root v1, online-key rotation signed with 2 of 3 keys (one in a pty), verify again
 *   failures  wrong passphrase (5), key not in root (5), unreachable server (3), tampered ceremony file (1)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, PROJECT_ROOT } from "../../scripts/lib/local-instance.ts";
import { json, ok } from "./cli-harness.ts";
import { startCliInstance, useCliInstance } from "./cli-instance.ts";
const REPO = "cli";
const PASSPHRASE = "correct horse battery staple";
const IMPORT_COUNT = 100_000;

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

describe("tuf-edge CLI against a local instance", () => {
  const local = useCliInstance(() => startCliInstance("tuf-edge-cli-", { repo: REPO, passphrase: PASSPHRASE }));
  const { run, runInPty } = local;
  /** Key files in `scratch`. */
  const keys = { a: "root-a.json", b: "root-b.json", c: "root-c.json", outsider: "outsider.json" };
  const root1 = "cli.1.root.json";
  let registrySecret: string;

  it("--help lists every command, the settings and the exit codes; every command has examples", async () => {
    const help = ok(await run(["--help"]));
    for (const command of [
      "keys",
      "bootstrap",
      "ceremony",
      "rotate",
      "status",
      "push",
      "upload",
      "registry",
      "import",
      "verify",
      "delegation",
    ]) {
      expect(help.stdout).toContain(command);
    }
    expect(help.stdout).toContain("Exit codes:");
    expect(help.stdout).toMatch(/3 +the server could not be reached/);
    expect(help.stdout).toContain("TUF_EDGE_ADMIN_TOKEN");
    for (const sub of [
      ["keys", "generate"],
      ["bootstrap", "sign"],
      ["ceremony", "sign"],
      ["rotate", "online-key"],
      ["import"],
      ["verify"],
      ["registry", "add"],
      ["push", "yank"],
    ]) {
      expect(ok(await run([...sub, "--help"])).stdout, sub.join(" ")).toContain("Examples:");
    }
    for (const sub of ["add", "remove", "show", "sign", "status"]) {
      const text = ok(await run(["delegation", sub, "--help"])).stdout;
      expect(text, `delegation ${sub}`).toContain("Examples:");
      expect(text, `delegation ${sub}`).toContain("--json");
    }
    const usage = await run(["status", "--watch"]);
    expect(usage.code).toBe(2);
  });

  it("npx tuf-edge prints no engine warning under the Node on PATH, even one older than the pinned Node", async () => {
    const path = (process.env.PATH ?? "")
      .split(":")
      .filter((dir) => !dir.includes("node_modules"))
      .join(":");
    const npx = spawnSync("npx", ["tuf-edge", "--version"], {
      cwd: PROJECT_ROOT,
      env: { PATH: path, HOME: local.scratch },
      encoding: "utf8",
    });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(npx.stderr).not.toMatch(/EBADENGINE|Unsupported engine/);
  });

  it("keys: generates encrypted root keys (mode 0600), shows them, and takes a passphrase typed at a hidden prompt", async () => {
    const a = json(ok(await run(["keys", "generate", "--type", "ed25519", "--out", keys.a, "--json"])));
    const b = json(ok(await run(["keys", "generate", "--type", "ecdsa-p256", "--out", keys.b, "--json"])));
    ok(await run(["keys", "generate", "--out", keys.c]));
    expect(a.key).toMatchObject({ keytype: "ed25519", scheme: "ed25519" });
    expect(b.key).toMatchObject({ keytype: "ecdsa", scheme: "ecdsa-sha2-nistp256" });
    expect(b.key.keyval.public).toContain("-----BEGIN PUBLIC KEY-----");
    expect(statSync(join(local.scratch, keys.a)).mode & 0o777).toBe(0o600);
    const stored = await readFile(join(local.scratch, keys.a), "utf8");
    expect(stored).not.toContain("PRIVATE KEY");
    expect(JSON.parse(stored).encryption).toMatchObject({ kdf: "scrypt", cipher: "aes-256-gcm" });
    expect(json(ok(await run(["keys", "show", keys.a, "--json"]))).keyid).toBe(a.keyid);
    // Never overwrites a key file.
    expect((await run(["keys", "generate", "--out", keys.a])).code).toBe(2);

    // The passphrase prompt: hidden, asked twice for a new key, never echoed.
    const secret = "typed-at-the-prompt-42";
    const typed = await runInPty(
      ["keys", "generate", "--out", keys.outsider],
      [
        { expect: /Passphrase for the new key/, send: `${secret}\r` },
        { expect: /Repeat the passphrase/, send: `${secret}\r` },
      ],
      { TUF_EDGE_PASSPHRASE: undefined },
    );
    expect(typed.code, typed.screen).toBe(0);
    expect(typed.screen).toContain("keyid");
    expect(typed.screen).not.toContain(secret);
    const check = await runInPty(
      ["keys", "check", keys.outsider],
      [{ expect: /Passphrase for outsider\.json/, send: `${secret}\r` }],
      { TUF_EDGE_PASSPHRASE: undefined },
    );
    expect(check.code, check.screen).toBe(0);
    expect(check.screen).toContain("passphrase OK");
    expect(check.screen).not.toContain(secret);

    // A private key written inside a git work tree, where it is not git-ignored, is warned about.
    const checkout = join(local.scratch, "a-checkout");
    await mkdir(checkout);
    execFileSync("git", ["init", "-q", checkout]);
    await writeFile(join(checkout, ".gitignore"), "ignored.json\n");
    const inside = ok(await run(["keys", "generate", "--out", "inside.json"], {}, checkout));
    expect(inside.stderr).toContain("inside.json holds a private key and is inside the git work tree");
    const ignored = ok(await run(["keys", "generate", "--out", "ignored.json"], {}, checkout));
    expect(ignored.stderr).not.toContain("git work tree");
  });

  it("a wrong passphrase exits 5 with a clear message, at the prompt and from the environment", async () => {
    const wrong = await run(["keys", "check", keys.a], { TUF_EDGE_PASSPHRASE: "not the passphrase" });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain("wrong passphrase for root-a.json");
    // At a prompt, a wrong passphrase is asked again, three times in all.
    const typed = await runInPty(
      ["keys", "check", keys.outsider],
      [
        { expect: /Passphrase for outsider\.json/, send: "guess\r" },
        { expect: /try again \(2 attempt\(s\) left\)[\s\S]*Passphrase for outsider\.json/, send: "guess 2\r" },
        { expect: /try again \(1 attempt\(s\) left\)[\s\S]*Passphrase for outsider\.json/, send: "guess 3\r" },
      ],
      { TUF_EDGE_PASSPHRASE: undefined },
    );
    expect(typed.code).toBe(5);
    expect(typed.screen).toContain("wrong passphrase");
  });

  it("an unreachable server exits 3 with a clear message", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const status = await run(["status", "--url", closed]);
    expect(status.code).toBe(3);
    expect(status.stderr).toContain(`cannot reach ${closed}`);
    expect(status.stderr).toContain("connection refused");
    const jsonStatus = await run(["status", "--json"], { TUF_EDGE_URL: closed });
    expect(jsonStatus.code).toBe(3);
    expect(json(jsonStatus).error.exitCode).toBe(3);
  });

  it("bootstrap wizard in a terminal: declining submits nothing; confirming bootstraps", async () => {
    const answers = (confirm: string) => [
      { expect: /Root key files that sign now/, send: `${keys.a} ${keys.b}\r` },
      { expect: /More root keys that will not sign now/, send: `${keys.c}\r` },
      { expect: /Root threshold/, send: "\r" },
      { expect: /Number of hash bins/, send: "16\r" },
      { expect: /Root validity/, send: "\r" },
      { expect: /Targets validity/, send: "\r" },
      { expect: /Hash bins validity/, send: "\r" },
      { expect: /Snapshot validity/, send: "\r" },
      { expect: /Timestamp validity/, send: "\r" },
      { expect: /Publish root v1 and bootstrap "wizard"\?/, send: `${confirm}\r` },
    ];
    const declined = await runInPty(["bootstrap", "--repo", "wizard"], answers("n"));
    expect(declined.code, declined.screen).toBe(1);
    expect(declined.screen).toContain("threshold 2 of 3");
    expect(declined.screen).toContain("nothing was submitted");
    expect(json(await run(["status", "--repo", "wizard", "--json"])).status.bootstrapped).toBe(false);

    const confirmed = await runInPty(["bootstrap", "--repo", "wizard"], answers("y"));
    expect(confirmed.code, confirmed.screen).toBe(0);
    expect(confirmed.screen).toContain('Bootstrapped "wizard"');
    const status = json(ok(await run(["status", "--repo", "wizard", "--json"])));
    expect(status.status).toMatchObject({ bootstrapped: true, bins: 16 });
    expect(existsSync(join(local.scratch, "wizard.1.root.json"))).toBe(true);
  });

  it("bootstrap wizard: each wrong answer is explained and asked again, keeping the earlier ones", async () => {
    const { code, screen } = await runInPty(
      ["bootstrap", "--repo", "wizard-retry"],
      [
        { expect: /Root key files that sign now/, send: "nope.json\r" },
        { expect: /key file nope\.json does not exist/, send: `${keys.a} ${keys.b}\r` },
        { expect: /More root keys that will not sign now/, send: `${keys.a}\r` },
        { expect: /root-a\.json is a key already given/, send: `${keys.c}\r` },
        { expect: /Root threshold/, send: "7\r" },
        { expect: /a whole number from 1 to 3/, send: "2\r" },
        { expect: /Number of hash bins/, send: "100\r" },
        { expect: /a power of two from 2 to 16384/, send: "32\r" },
        { expect: /Root validity/, send: "forever\r" },
        { expect: /"forever" is not a duration/, send: "400d\r" },
        { expect: /Targets validity/, send: "\r" },
        { expect: /Hash bins validity/, send: "\r" },
        { expect: /Snapshot validity/, send: "\r" },
        { expect: /Timestamp validity/, send: "\r" },
        { expect: /Passphrase for root-a\.json/, send: "not it\r" },
        { expect: /try again[\s\S]*Passphrase for root-a\.json/, send: `${PASSPHRASE}\r` },
        { expect: /Passphrase for root-b\.json/, send: `${PASSPHRASE}\r` },
        { expect: /Publish root v1 and bootstrap "wizard-retry"\?/, send: "y\r" },
      ],
      { TUF_EDGE_PASSPHRASE: undefined },
    );
    expect(code, screen).toBe(0);
    expect(screen).toContain("threshold 2 of 3");
    expect(screen).toContain("hash bins: 32");
    expect(json(ok(await run(["status", "--repo", "wizard-retry", "--json"]))).status).toMatchObject({
      bootstrapped: true,
      bins: 32,
    });
  });

  it("bootstrap by flags: three root keys, threshold 2, signed by two", async () => {
    const result = json(
      ok(
        await run([
          "bootstrap",
          "--key",
          keys.a,
          "--key",
          keys.b,
          "--public-key",
          keys.c,
          "--threshold",
          "2",
          "--bins",
          "256",
          "--yes",
          "--json",
          "--root-out",
          root1,
        ]),
      ),
    );
    expect(result).toMatchObject({ repository: REPO, rootVersion: 1, rootFile: root1 });
    const root = JSON.parse(await readFile(join(local.scratch, root1), "utf8"));
    expect(root.signed.roles.root.threshold).toBe(2);
    expect(root.signed.roles.root.keyids).toHaveLength(3);
    expect(root.signatures).toHaveLength(2);
    // Served bytes, byte for byte.
    const served = Buffer.from(
      await (await fetch(`${local.instance.baseUrl}/${REPO}/metadata/1.root.json`)).arrayBuffer(),
    );
    expect(served.equals(await readFile(join(local.scratch, root1)))).toBe(true);
    // A retention the service would refuse is refused here, before anything is asked or sent (exit 2).
    const short = await run(["bootstrap", "--key", keys.a, "--threshold", "1", "--retain-superseded", "5m", "--yes"]);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("--retain-superseded: a replaced version is kept at least 10 minutes");
    // Bootstrapping twice is refused by the service.
    const again = await run(["bootstrap", "--key", keys.a, "--key", keys.b, "--threshold", "2", "--yes"]);
    expect(again.code).toBe(4);
  });

  it("offline bootstrap: a tampered ceremony file is refused before submission (exit 1); an outsider key cannot sign (exit 5)", async () => {
    const repo = ["--repo", "offline"];
    ok(
      await run([
        "bootstrap",
        ...repo,
        "--public-key",
        keys.a,
        "--public-key",
        keys.b,
        "--public-key",
        keys.c,
        "--threshold",
        "2",
        "--retain-superseded",
        "12h",
        "--out",
        "ceremony.json",
      ]),
    );
    // The retention is one of the settings the root keys sign.
    const ceremony = JSON.parse(await readFile(join(local.scratch, "ceremony.json"), "utf8"));
    expect(ceremony.settings.retainSuperseded).toBe(43_200);
    const signing = ok(await run(["bootstrap", "sign", "ceremony.json", "--key", keys.a, "--yes"]));
    expect(signing.stderr).toContain("replaced metadata versions: deleted after 12h  (signed)");
    const outsider = await run(["bootstrap", "sign", "ceremony.json", "--key", keys.outsider, "--yes"]);
    expect(outsider.code).toBe(5);
    expect(outsider.stderr).toContain("is not one of the root keys");
    ok(await run(["bootstrap", "sign", "ceremony.json", "--key", keys.b, "--yes"]));

    // Tamper with the signed part: lower the threshold to 1.
    const file = JSON.parse(await readFile(join(local.scratch, "ceremony.json"), "utf8"));
    file.signed.roles.root.threshold = 1;
    await writeFile(join(local.scratch, "tampered.json"), JSON.stringify(file, null, 2));
    const tampered = await run(["bootstrap", "submit", "tampered.json", ...repo, "--yes"]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain("tampered.json was altered after it was signed");
    expect(tampered.stderr).toContain("nothing was signed or submitted");
    expect(json(await run(["status", ...repo, "--json"])).status.bootstrapped).toBe(false);

    const submitted = json(ok(await run(["bootstrap", "submit", "ceremony.json", ...repo, "--yes", "--json"])));
    expect(submitted).toMatchObject({ repository: "offline", rootVersion: 1 });
  });

  it("registry: add prints the secret once; push events and upload an artifact", async () => {
    const added = json(ok(await run(["registry", "add", "mirror", "--json"])));
    registrySecret = added.secret;
    expect(registrySecret).toMatch(/^whsec_/);
    const listed = ok(await run(["registry", "list"]));
    expect(listed.stdout).toContain("mirror");
    expect(listed.stdout).not.toContain(registrySecret);
    // The newest event is the credential just added; --kind is filtered by the repository, so --limit counts bootstraps.
    const newest = json(ok(await run(["events", "--limit", "1", "--json"])));
    expect(newest.map((e: { kind: string }) => e.kind)).toEqual(["registry-credential-added"]);
    const bootstraps = json(ok(await run(["events", "--kind", "bootstrapped", "--limit", "1", "--json"])));
    expect(bootstraps.map((e: { kind: string }) => e.kind)).toEqual(["bootstrapped"]);
    const badKind = await run(["events", "--kind", "Not A Kind"]);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain("--kind: an event kind is lower-case letters");

    const events = [
      { type: "targets.add", path: "pkg/app-1.0.0.tgz", length: 11, hashes: { sha256: sha256("app 1.0.0\n\n") } },
      {
        type: "targets.add",
        path: "pkg/app-1.1.0.tgz",
        length: 11,
        hashes: { sha256: sha256("app 1.1.0\n\n") },
        custom: { channel: "beta" },
      },
    ];
    await writeFile(join(local.scratch, "events.json"), JSON.stringify(events));
    const pushed = json(
      ok(await run(["push", "--file", "events.json", "--json"], { TUF_EDGE_REGISTRY_SECRET: registrySecret })),
    );
    expect(pushed.task.state).toBe("published");
    ok(
      await run(["push", "yank", "pkg/app-1.0.0.tgz", "--reason", "broken build"], {
        TUF_EDGE_REGISTRY_SECRET: registrySecret,
      }),
    );

    await writeFile(join(local.scratch, "hello.txt"), `hello from the CLI ${randomBytes(8).toString("hex")}\n`);
    const uploaded = json(
      ok(
        await run(["upload", "hello.txt", "--path", "docs/hello.txt", "--json"], {
          TUF_EDGE_REGISTRY_SECRET: registrySecret,
        }),
      ),
    );
    expect(uploaded.task.state).toBe("published");

    // The pages' documents sent again, from an entry or all; the answer says where they start.
    const resent = json(ok(await run(["pages", "resend", "--json"])));
    expect(resent).toEqual({ from: 0, behind: expect.any(Number) });
    // Never forward: from 3, or 0 while the first resend's run has not yet sent entry 3.
    expect(ok(await run(["pages", "resend", "--from", "3"])).stdout).toMatch(
      /from log entry [03]: \d+ log entries to go/,
    );
    const badFrom = await run(["pages", "resend", "--from", "-1"]);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toContain("--from must be a whole number");
  });

  // Its own limit: the import took 30 s on a quiet machine and 121 s under a load average of 10 (the default is 120 s).
  it(`imports ${IMPORT_COUNT.toLocaleString("en")} targets from JSON lines; a rerun is a no-op`, {
    timeout: 400_000,
  }, async () => {
    const lines: string[] = [];
    for (let i = 0; i < IMPORT_COUNT; i++) {
      lines.push(
        JSON.stringify({
          path: `bulk/pkg-${i % 1000}/pkg-${i}-1.0.0.tgz`,
          length: 1000 + i,
          hashes: { sha256: sha256(`bulk target ${i}`) },
        }),
      );
    }
    await writeFile(join(local.scratch, "targets.jsonl"), `${lines.join("\n")}\n`);
    const started = Date.now();
    const result = json(ok(await run(["import", "targets.jsonl", "--json"])));
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `[cli e2e] imported ${IMPORT_COUNT} targets in ${seconds.toFixed(1)} s wall (${result.seconds} s in the CLI, ${result.targetsPerSecond} targets/s)`,
    );
    expect(result).toMatchObject({
      lines: IMPORT_COUNT,
      targetsImported: IMPORT_COUNT,
      targetsSent: IMPORT_COUNT,
      resumedFromLine: 0,
      // By default at most 2,500 targets a request, so what else reaches the object waits for less (DEFAULT_MAX_BATCH).
      batchSize: 2_500,
      batchesSent: IMPORT_COUNT / 2_500,
    });
    expect(result.repositoryTargets).toBe(IMPORT_COUNT + 3);
    const state = JSON.parse(await readFile(join(local.scratch, "targets.jsonl.import-state.json"), "utf8"));
    expect(state).toMatchObject({ acknowledgedLines: IMPORT_COUNT, completedAt: expect.any(String) });

    const again = json(ok(await run(["import", "targets.jsonl", "--json"])));
    expect(again).toMatchObject({ alreadyComplete: true, targets: IMPORT_COUNT });
  });

  it("import resumes after the acknowledged lines, and stops at a path published with another digest (exit 4)", async () => {
    const csv = [
      "path,length,sha256",
      ...Array.from({ length: 30 }, (_, i) => `csv/t-${i}.bin,${i},${sha256(`csv ${i}`)}`),
    ].join("\n");
    await writeFile(join(local.scratch, "small.csv"), `${csv}\n`);
    const first = json(ok(await run(["import", "small.csv", "--batch-size", "10", "--json"])));
    expect(first).toMatchObject({ lines: 31, targetsSent: 30 });
    // As if interrupted after line 21: the rerun sends lines 22-31 again (accepted: same digests).
    const statePath = join(local.scratch, "small.csv.import-state.json");
    const state = JSON.parse(await readFile(statePath, "utf8"));
    await writeFile(
      statePath,
      JSON.stringify({ ...state, acknowledgedLines: 21, acknowledgedTargets: 20, completedAt: null }),
    );
    const resumed = json(ok(await run(["import", "small.csv", "--batch-size", "10", "--json"])));
    expect(resumed).toMatchObject({ resumedFromLine: 21, targetsSent: 10, targetsImported: 30 });

    await writeFile(
      join(local.scratch, "clash.jsonl"),
      [
        JSON.stringify({ path: "csv/new-1.bin", length: 1, sha256: sha256("new 1") }),
        JSON.stringify({ path: "csv/t-3.bin", length: 3, sha256: sha256("other bytes") }),
      ].join("\n"),
    );
    const clash = await run(["import", "clash.jsonl"]);
    expect(clash.code).toBe(4);
    expect(clash.stderr).toContain(
      'clash.jsonl, line 2: target "csv/t-3.bin" is already published with a different digest',
    );
    expect(clash.stderr).toContain("immutable");
  });

  it("import in a terminal: an invalid line stops it; fixed, the rerun resumes after the acknowledged batches, with a progress bar", async () => {
    const line = (i: number) => `fix/t-${i}.bin,${i},${sha256(`fix ${i}`)}`;
    const lines = Array.from({ length: 40 }, (_, i) => line(i));
    lines[25] = "fix/t-25.bin,25,not-a-digest"; // line 26
    await writeFile(join(local.scratch, "fix.csv"), `${lines.join("\n")}\n`);
    const args = ["import", "fix.csv", "--batch-size", "5", "--concurrency", "1"];
    const stopped = await runInPty(args, []);
    expect(stopped.code, stopped.screen).toBe(2);
    expect(stopped.screen).toContain("fix.csv, line 26:");
    expect(stopped.screen).toContain("resumes after the last acknowledged batch");
    const state = JSON.parse(await readFile(join(local.scratch, "fix.csv.import-state.json"), "utf8"));
    expect(state.acknowledgedLines).toBe(25);

    lines[25] = line(25);
    await writeFile(join(local.scratch, "fix.csv"), `${lines.join("\n")}\n`);
    const resumed = await runInPty(args, []);
    expect(resumed.code, resumed.screen).toBe(0);
    expect(resumed.screen).toContain("fix.csv changed after line 25; the lines already imported are unchanged");
    expect(resumed.screen).toContain("resuming fix.csv after line 25 of 40");
    expect(resumed.screen).toMatch(/importing \|.*\| 100% \| 40\/40 lines \| 15 targets/);
    expect(resumed.screen).toContain("imported 15 targets from fix.csv");
  });

  it("status --json: roles, online key, registries, health", async () => {
    const report = json(ok(await run(["status", "--json"])));
    expect(report.healthy).toBe(true);
    expect(report.status.targetsCount).toBe(IMPORT_COUNT + 3 + 30 + 40);
    for (const role of ["root", "targets", "snapshot", "timestamp", "bins"])
      expect(report.status.roles[role], role).toMatchObject({ version: expect.any(Number) });
    expect(report.status.onlineKeyId).toMatch(/^[0-9a-f]{64}$/);
    expect(report.registries.map((r: { name: string }) => r.name)).toEqual(["mirror"]);
    expect(report.health.status).toMatch(/ok|warning/);
    const text = ok(await run(["status"]));
    expect(text.stdout).toMatch(/timestamp +v\d+/);
    expect(text.stdout).toContain("NEXT RE-SIGN");
  });

  it("settings: flags > environment > config file", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await writeFile(
      join(local.scratch, "cfg.json"),
      JSON.stringify({ url: closed, repo: REPO, adminToken: "wrong-token-from-the-file" }),
      { mode: 0o600 },
    );
    const fromFile = await run(["status", "--config", "cfg.json"], {
      TUF_EDGE_URL: undefined,
      TUF_EDGE_ADMIN_TOKEN: undefined,
      TUF_EDGE_REPO: undefined,
    });
    expect(fromFile.code).toBe(3);
    expect(fromFile.stderr).toContain(closed);
    // The environment's URL wins over the file's; the token still comes from the file.
    const envUrl = await run(["status", "--config", "cfg.json"], { TUF_EDGE_ADMIN_TOKEN: undefined });
    expect(envUrl.code).toBe(4);
    expect(envUrl.stderr).toContain("401");
    expect(envUrl.stderr).not.toContain("wrong-token-from-the-file");
    // A flag wins over both.
    const flags = await run(["status", "--config", "cfg.json", "--url", local.instance.baseUrl, "--json"], {
      TUF_EDGE_URL: closed,
    });
    expect(json(flags).repository).toBe(REPO);
  });

  it("verify: a tuf-js client from pinned root v1 resolves and downloads targets; a missing target exits 1", async () => {
    const listed = json(ok(await run(["verify", "--root", root1, "--target", "pkg/app-1.0.0.tgz", "--json"])));
    expect(listed).toMatchObject({
      verified: true,
      length: 11,
      custom: { yanked: true, yanked_reason: "broken build" },
      trustedRoot: { pinnedVersion: 1, version: 1 },
    });
    const bulk = json(
      ok(await run(["verify", "--root", root1, "--target", "bulk/pkg-7/pkg-99007-1.0.0.tgz", "--json"])),
    );
    expect(bulk.hashes.sha256).toBe(sha256("bulk target 99007"));
    const downloaded = json(
      ok(await run(["verify", "--root", root1, "--target", "docs/hello.txt", "--download", "downloads", "--json"])),
    );
    expect(await readFile(downloaded.downloaded, "utf8")).toBe(
      await readFile(join(local.scratch, "hello.txt"), "utf8"),
    );
    const missing = await run(["verify", "--root", root1, "--target", "no/such/target"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('target "no/such/target" is not in the repository');
  });

  it("exit codes as documented: what is wrong here is 2 before any request; log verify with the server down is 3; --json errors are documents", async () => {
    for (const args of [
      ["ceremony", "show", "not-an-id"],
      ["registry", "add", "Bad Name"],
      ["bootstrap", "--repo", "other", "--key", keys.a, "--threshold", "1", "--bins", "100", "--yes"],
      ["keys", "check", "missing.json"],
      ["ceremony", "sign", "0123456789abcdef", "--key", "missing.json"],
      ["rotate", "online-key", "--key", "missing.json", "--yes"],
      ["status", "--watch", "soon"],
    ]) {
      const refused = await run([...args, "--json"]);
      expect(refused.code, `${args.join(" ")}: ${refused.stderr}`).toBe(2);
      expect(json(refused).error.exitCode).toBe(2);
    }
    expect(json(ok(await run(["status", "--json"]))).status.openCeremony).toBeNull();
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await run(["log", "verify", "--root", root1, "--target", "pkg/app-1.0.0.tgz", "--url", closed]);
    expect(down.code, down.stderr).toBe(3);
    expect(down.stderr).toContain(`cannot reach ${closed}`);
  });

  it("online-key rotation signed with 2 of the 3 root keys (the second in a terminal); a key not in root is refused (exit 5)", async () => {
    const before = json(ok(await run(["status", "--json"]))).status.onlineKeyId;
    const opened = json(ok(await run(["rotate", "online-key", "--reason", "e2e", "--yes", "--json"])));
    expect(opened).toMatchObject({ kind: "online-key-rotation", state: "awaiting-signatures", rootVersion: 2 });
    const id: string = opened.id;

    const outsider = await run(["ceremony", "sign", id, "--key", keys.outsider, "--yes"]);
    expect(outsider.code).toBe(5);
    expect(outsider.stderr).toContain("is not a root key of root v1 or of the draft v2; nothing was signed");

    const shown = ok(await run(["ceremony", "show", id]));
    expect(shown.stdout).toContain("online-key-rotation to root v2");
    expect(shown.stdout).toContain(`- key ${before}`);

    const first = json(ok(await run(["ceremony", "sign", id, "--key", keys.a, "--yes", "--json"])));
    expect(first).toMatchObject({
      state: "awaiting-signatures",
      progress: { trustedRoot: { signed: 1, threshold: 2 } },
    });

    // The second key holder confirms and types the passphrase at the prompts.
    const second = await runInPty(
      ["ceremony", "sign", id, "--key", keys.b],
      [
        { expect: /Sign root v2 \(online-key-rotation\)/, send: "y\r" },
        { expect: /Passphrase for root-b\.json/, send: `${PASSPHRASE}\r` },
      ],
      { TUF_EDGE_PASSPHRASE: undefined },
    );
    expect(second.code, second.screen).toBe(0);
    expect(second.screen).toContain("root v2 is published");
    expect(second.screen).not.toContain(PASSPHRASE);

    const after = json(ok(await run(["status", "--json"]))).status.onlineKeyId;
    expect(after).not.toBe(before);
    const listed = json(ok(await run(["ceremony", "list", "--json"])));
    expect(listed[0]).toMatchObject({ id, state: "published" });
  });

  it("verify again from pinned root v1: the client walks to root v2 and trusts the new online key", async () => {
    const result = json(ok(await run(["verify", "--root", root1, "--target", "pkg/app-1.1.0.tgz", "--json"])));
    expect(result).toMatchObject({
      verified: true,
      custom: { channel: "beta" },
      trustedRoot: { pinnedVersion: 1, version: 2 },
    });
  });
});
