/**
 * A bare Worker around the reference library (@sigstore/verify 4.x), for
 * test/e2e/attestations-reference.test.ts: what happens to the Sigstore JS
 * packages inside workerd. POST {bundle, root, artifact?, shim?} → the verdict.
 *
 * `shim` applies the one-line fix for the failure this demonstrates:
 * @sigstore/core calls crypto.verify(undefined, data, ecKey, sig), trusting
 * OpenSSL's default digest for EC keys (SHA-256); workerd's node:crypto is
 * BoringSSL, which has no default digest and throws "Failed to initialize
 * verification context"; @sigstore/core catches that and answers false.
 */
import { Buffer } from "node:buffer";
import nodeCrypto, { type KeyObject } from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";

const originalVerify = nodeCrypto.verify;
const withDefaultDigest: typeof nodeCrypto.verify = (algorithm, data, key, signature) =>
  originalVerify(
    algorithm ?? ((key as KeyObject).asymmetricKeyType === "ec" ? "sha256" : algorithm),
    data,
    key,
    signature,
  );

export default {
  async fetch(request: Request): Promise<Response> {
    const { bundle, root, artifact, shim } = await request.json<{
      bundle: unknown;
      root: unknown;
      artifact?: string;
      shim?: boolean;
    }>();
    nodeCrypto.verify = shim ? withDefaultDigest : originalVerify;
    try {
      const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)));
      const signer = verifier.verify(
        toSignedEntity(bundleFromJSON(bundle), artifact === undefined ? undefined : (Buffer.from(artifact) as never)),
      );
      return Response.json({ ok: true, san: signer.identity?.subjectAlternativeName ?? null });
    } catch (error) {
      const e = error as Error & { code?: string };
      return Response.json({ ok: false, code: e.code ?? e.name, message: e.message });
    } finally {
      nodeCrypto.verify = originalVerify;
    }
  },
};
