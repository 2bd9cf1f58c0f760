import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Test-only secrets (wrangler.toml lists them as required): the Worker reads
// them from the environment, as `wrangler dev` does from .dev.vars.
process.env.ADMIN_TOKEN ??= "test-admin-token-0123456789";
process.env.KEY_ENCRYPTION_KEY ??= "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

export default defineConfig({
  test: {
    // The JSON report lets CI print a one-line summary (see .ci/run).
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    projects: [
      {
        // Inside workerd: real Durable Objects (SQLite), R2, Cache API and alarms.
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts"],
          testTimeout: 30_000,
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
