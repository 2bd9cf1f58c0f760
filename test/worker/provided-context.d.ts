/** Values vitest.config.ts provides to the workers project's tests (read with `inject`). */
import "vitest";

declare module "vitest" {
  interface ProvidedContext {
    /** A fast-check seed to replay (FC_SEED=<n>), or "" for a fresh one. */
    FC_SEED: string;
    /** Property runs of test/worker/surface-property.test.ts (SURFACE_RUNS=<n>), or "" for its CI size. */
    SURFACE_RUNS: string;
  }
}
