/**
 * A bare Worker around our verifier, for test/e2e/attestations-reference.test.ts:
 * bundled by wrangler and run by workerd with no nodejs_compat at all.
 * POST {bundle, root, npmKeys, expectation} → the verdict.
 */
import {
  npmAttestationKeys,
  trustedRootFromJSON,
  verifyBundle,
  type Expectation,
} from "../../../../src/attestations/index.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const { bundle, root, npmKeys, expectation } = await request.json<{
      bundle: unknown;
      root: unknown;
      npmKeys: unknown;
      expectation: Expectation;
    }>();
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(root, npmAttestationKeys(npmKeys)), expectation);
    return Response.json(verdict.ok ? { ok: true } : verdict);
  },
};
