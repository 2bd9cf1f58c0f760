/** The way to the deployment's Sigstore trust object (durable-objects/sigstore-trust.ts): one instance, "sigstore". */
export function sigstoreTrustStub(env: Env): ReturnType<Env["SIGSTORE_TRUST"]["getByName"]> {
  return env.SIGSTORE_TRUST.getByName("sigstore");
}
