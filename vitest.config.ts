import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { writeVerifyModule } from "./scripts/build-browser.ts";

// The Worker imports the bundled page script (not committed): build it first.
await writeVerifyModule();

// Test-only secrets (wrangler.toml lists them as required): the Worker reads
// them from the environment, as `wrangler dev` does from .dev.vars.
process.env.ADMIN_TOKEN ??= "test-admin-token-0123456789";
// KEY_ENCRYPTION_KEY is a key ring (durable-objects/sealer.ts): "default" is the
// key that older values were sealed under, "k2" the current one (test/worker/kek.test.ts).
process.env.KEY_ENCRYPTION_KEY ??= JSON.stringify({
  current: "k2",
  keys: {
    default: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    k2: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
  },
});

export default defineConfig({
  test: {
    // The JSON report lets CI print a one-line summary (see .ci/run).
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    // Two test files at a time. Vitest's default is one fewer than the cores,
    // which on a 2-core CI machine runs all 115 files one after another; each
    // file spends seconds starting workerd or `wrangler dev`, waiting on I/O.
    maxWorkers: 2,
    projects: [
      {
        // Inside workerd: real Durable Objects (SQLite), R2, Cache API and alarms.
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts"],
          testTimeout: 30_000,
          // FC_SEED=<n> replays a property test's run (test/worker/surface-property.test.ts prints its seed).
          // SURFACE_RUNS=<n> runs that test at another size (the bench's quick run).
          provide: { FC_SEED: process.env.FC_SEED ?? "", SURFACE_RUNS: process.env.SURFACE_RUNS ?? "" },
        },
      },
      {
        // In Node, against a real local instance started with `wrangler dev`.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
