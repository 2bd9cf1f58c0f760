/**
 * The attestation fixtures (see fixtures/PROVENANCE.md), imported as JSON so
 * that they reach workerd, where tests cannot read files. Shared by the
 * workerd tests and the Node reference test (test/e2e/attestations-reference.test.ts).
 */
import dsseInvalidSig from "./fixtures/conformance/dsse-invalid-sig_fail/bundle.sigstore.json";
import happyIntotoDsseV3 from "./fixtures/conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json";
import happyV01 from "./fixtures/conformance/happy-path-v0.1/bundle.sigstore.json";
import happyV02 from "./fixtures/conformance/happy-path-v0.2/bundle.sigstore.json";
import happyV03 from "./fixtures/conformance/happy-path-v0.3/bundle.sigstore.json";
import incorrectPublicKey from "./fixtures/conformance/incorrect-public-key_fail/bundle.sigstore.json";
import messageDigestMismatch from "./fixtures/conformance/message-digest-mismatch_fail/bundle.sigstore.json";
import signatureMismatch from "./fixtures/conformance/signature-mismatch_fail/bundle.sigstore.json";
import wrongMaterial from "./fixtures/conformance/wrong-material_fail/bundle.sigstore.json";
import npmAttestationsInvalidProvenance from "./fixtures/npm/gundam-visor-1.0.1.attestations.invalid-provenance-sig.json";
import npmAttestationsResponse from "./fixtures/npm/gundam-visor-1.0.1.attestations.json";
import npmProvenance from "./fixtures/npm/gundam-visor-1.0.1.provenance.sigstore.json";
import npmPublish from "./fixtures/npm/gundam-visor-1.0.1.publish.sigstore.json";
import gitlabPublish from "./fixtures/pypi/gitlab_oidc_project-0.0.3.tar.gz.publish.attestation.json";
import pypiPublish from "./fixtures/pypi/pypi_attestations-0.0.19.tar.gz.publish.attestation.json";
import pypiSlsa from "./fixtures/pypi/pypi_attestations-0.0.19.tar.gz.slsa.attestation.json";
import npmRegistryKeys from "./fixtures/trusted-roots/registry.npmjs.org-keys.json";
import publicGoodRoot from "./fixtures/trusted-roots/trusted_root.json";

export const TRUSTED_ROOT: unknown = publicGoodRoot;
export const NPM_REGISTRY_KEYS: unknown = npmRegistryKeys;

export const CONFORMANCE = {
  "happy-path-v0.1": happyV01,
  "happy-path-v0.2": happyV02,
  "happy-path-v0.3": happyV03,
  "happy-path-intoto-in-dsse-v3": happyIntotoDsseV3,
  "signature-mismatch_fail": signatureMismatch,
  "wrong-material_fail": wrongMaterial,
  "message-digest-mismatch_fail": messageDigestMismatch,
  "dsse-invalid-sig_fail": dsseInvalidSig,
  "incorrect-public-key_fail": incorrectPublicKey,
} as const satisfies Record<string, unknown>;

/** PEP 740 attestations, as PyPI serves them. */
export const PEP740 = {
  "pypi_attestations-0.0.19.tar.gz.publish": pypiPublish,
  "pypi_attestations-0.0.19.tar.gz.slsa": pypiSlsa,
  "gitlab_oidc_project-0.0.3.tar.gz.publish": gitlabPublish,
} as const satisfies Record<string, unknown>;

export const NPM = {
  "provenance.sigstore": npmProvenance,
  "publish.sigstore": npmPublish,
  attestations: npmAttestationsResponse,
  "attestations.invalid-provenance-sig": npmAttestationsInvalidProvenance,
} as const satisfies Record<string, unknown>;

/**
 * The artifacts. Digests computed with `sha256sum` and `sha512sum` on the
 * files of /work/shared/fixtures/attestations (the sdists are not copied; the
 * npm tarball was never included: its sha512 is the README's and the
 * statement's). `file`: a copy in fixtures/, for the Node reference, which
 * needs the bytes of message-signed artifacts.
 */
export const ARTIFACTS = {
  "a.txt": {
    file: "conformance/a.txt",
    sha256: "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    sha512:
      "d2e21657046bff108efe3963c778ed2a8033867988fc24d9f1a2fa9e9648fe1987c0f9c5cc67396eab3ee73654ccdbfdfecffaba13390b90e317c003878747fa",
  },
  "b.txt": {
    file: "conformance/wrong-material_fail/artifact",
    sha256: "1fa70528334cd25fb9b4aabc0a81c96a0c8e8ff48b59be6dfbe9897e8e7f5c93",
    sha512:
      "1f59f8de09d6949c9f83063bbf480d279dd52edc433ec39d13082b55466a7f131ef047a908dc6c2fbbd4f7b5b6e220a338367fe387a597b0fbdbc7ca0f7351e4",
  },
  "pypi_attestations-0.0.19.tar.gz": {
    sha256: "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3",
    sha512:
      "086d4d56bf75cc15b72565df9593af9d9edb61bc8952a9753844a98552d5056a3984522ffaa407b61e4927599808e711771d9c91adf3bd7cdab976a52a3256e4",
  },
  "gitlab_oidc_project-0.0.3.tar.gz": {
    sha256: "c1ca9b0d85df1606451098233018534497bf584362e10e4a8c21dfaea92c02a8",
    sha512:
      "4178172398a5edf6099f937e9b591c616d43ca8471963b0cbf1f50182a2daad015bcf4384f8e4fcab9a522ca10cc2823060adea928a344ece82c5d466e59ff5a",
  },
  "gundam-visor-1.0.1.tgz": {
    sha512:
      "8d9d7972f676516c75014aa074e11ae604d98f0b64ec6725a61e2838ff3dab162118fa71433fb31e1550d30bd0dec9d086ce032b94457b583900c507acf39c40",
  },
} as const satisfies Record<string, { file?: string; sha256?: string; sha512?: string }>;

export type ArtifactName = keyof typeof ARTIFACTS;

/** The signing identities the fixtures' README lists. */
export const IDENTITIES = {
  conformance: {
    issuer: "https://token.actions.githubusercontent.com",
    subjectPattern:
      "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
  },
  pypiAttestations: {
    issuer: "https://token.actions.githubusercontent.com",
    subjectPattern: "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
  },
  gitlab: {
    issuer: "https://gitlab.com",
    subjectPattern: "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
  },
  gundamVisor: {
    issuer: "https://token.actions.githubusercontent.com",
    subjectPattern:
      "https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1",
  },
} as const;
