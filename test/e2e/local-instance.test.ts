/**
 * `startLocalInstance` chooses free ports before wrangler binds them, so a
 * parallel test file can take one in between. CI once failed on exactly that
 * (the inspector's socket, "direct:1:default", in a test Worker started
 * without the retry). Here the first port chosen is one this test holds:
 * the instance still starts, on other ports; a port the caller fixed is never
 * silently replaced. A port taken after the check but before wrangler binds
 * it is answered by its taker: readiness then asks /proc whose socket it is.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, PortTakenError, randomSecrets, startLocalInstance } from "../../scripts/lib/local-instance.ts";
import { listenerBelongsTo } from "../../scripts/lib/port-owner.ts";

/** Hands out `taken` at call number `at` (1-based), free ports otherwise; counts the calls. */
function choosing(taken: number, at: number) {
  let calls = 0;
  const choose = async () => (++calls === at ? taken : freePort());
  return { choose, calls: () => calls };
}

describe("startLocalInstance when a chosen port is taken before wrangler binds it", () => {
  let scratch: string;
  let holder: Server;
  let held: number;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-ports-"));
    holder = createServer();
    held = await new Promise<number>((resolve) =>
      holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port)),
    );
  });
  afterAll(async () => {
    await new Promise((r) => holder.close(r));
    await rm(scratch, { recursive: true, force: true });
  });

  it("starts again on other ports when the inspector's port was taken (wrangler: Address already in use)", async () => {
    const ports = choosing(held, 2); // call 1 is the Worker's port, call 2 the inspector's
    const instance = await startLocalInstance(
      { persistTo: join(scratch, "inspector"), secrets: randomSecrets(), readyTimeoutMs: 300_000 },
      ports.choose,
    );
    try {
      expect(instance.inspectorPort).not.toBe(held);
      expect(ports.calls()).toBe(4); // two attempts, two ports each
      expect((await fetch(`${instance.baseUrl}/health`)).status).toBe(200);
    } finally {
      await instance.stop();
    }
  });

  it("starts again on other ports when the Worker's port was taken", async () => {
    const ports = choosing(held, 1);
    const instance = await startLocalInstance(
      { persistTo: join(scratch, "worker"), secrets: randomSecrets(), readyTimeoutMs: 300_000 },
      ports.choose,
    );
    try {
      expect(instance.port).not.toBe(held);
      expect(ports.calls()).toBe(4);
      expect((await fetch(`${instance.baseUrl}/health`)).status).toBe(200);
    } finally {
      await instance.stop();
    }
  });

  it("refuses a port the caller fixed when it is taken, without trying another", async () => {
    const ports = choosing(held, 0);
    const started = startLocalInstance(
      { persistTo: join(scratch, "fixed"), secrets: randomSecrets(), port: held },
      ports.choose,
    );
    await expect(started).rejects.toThrow(PortTakenError);
    await expect(started).rejects.toThrow(`port ${held} is already in use`);
    expect(ports.calls()).toBe(1); // the inspector's, once
  });
});

describe("startLocalInstance when another server binds the port between the check and wrangler", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-ports-"));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("does not take the stranger's answer for its own: it starts again on other ports", async () => {
    const stolen = await freePort();
    let probes = 0;
    // Answers the readiness probe as a tuf-edge instance would.
    const stranger = createHttpServer((request, response) => {
      if (request.url === "/health") probes++;
      response.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
    });
    let calls = 0;
    const choose = async () => {
      calls++;
      if (calls === 1) return stolen;
      // After the port check (done as soon as both ports are chosen), long before wrangler binds.
      if (calls === 2) setTimeout(() => stranger.listen(stolen, "127.0.0.1"), 250);
      return freePort();
    };
    try {
      const instance = await startLocalInstance(
        { persistTo: join(scratch, "stolen"), secrets: randomSecrets(), readyTimeoutMs: 300_000 },
        choose,
      );
      try {
        expect(probes).toBeGreaterThan(0); // the stranger did answer first
        expect(instance.port).not.toBe(stolen);
        expect(calls).toBe(4);
        expect(await listenerBelongsTo(instance.port, instance.pid as number)).toBe(true);
      } finally {
        await instance.stop();
      }
    } finally {
      await new Promise((r) => stranger.close(r));
    }
  });
});

describe("listenerBelongsTo", () => {
  it("tells a descendant's listening socket from another process's and from none", async () => {
    const child = spawn(
      process.execPath,
      [
        "-e",
        'require("node:net").createServer().listen(0, "127.0.0.1", function () { console.log(this.address().port) })',
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const own = createServer();
    try {
      const childPort = await new Promise<number>((resolve) =>
        child.stdout?.once("data", (d) => resolve(Number(String(d).trim()))),
      );
      const ownPort = await new Promise<number>((resolve) =>
        own.listen(0, "127.0.0.1", () => resolve((own.address() as { port: number }).port)),
      );
      expect(await listenerBelongsTo(childPort, child.pid as number)).toBe(true);
      expect(await listenerBelongsTo(childPort, process.pid)).toBe(true); // the child descends from this process
      expect(await listenerBelongsTo(ownPort, child.pid as number)).toBe(false);
      expect(await listenerBelongsTo(await freePort(), process.pid)).toBe(false);
    } finally {
      child.kill();
      await new Promise((r) => own.close(r));
    }
  });
});
