/**
 * The top-level targets draft of a ceremony (protected-delegations mode,
 * docs/operators.md §12), as its key holders check and sign it: the summary
 * is recomputed here against the published targets it was drafted from, and
 * the signature covers the canonical bytes computed here, refused if they
 * differ from what the service will publish.
 */
import type { CeremonyView, TargetsDraftView } from "../../src/repository-api.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { fromUtf8, toHex } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { type Envelope, parseEnvelope, type Signature } from "../../src/tuf/metadata.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { diffTargets } from "../../src/tuf/targets-diff.ts";
import type { Targets } from "../../src/tuf/targets.ts";
import { guardedFetch, repoBaseUrl, requireUrl, type Settings } from "./config.ts";
import { failed } from "./exit.ts";

/** The draft's signed part, from its canonical text; refuses text that is not the canonical form of what it parses to. */
export function targetsDraftOf(targets: TargetsDraftView): Targets {
  let signed: Targets;
  try {
    signed = JSON.parse(targets.canonical) as Targets;
  } catch {
    throw failed("the targets draft's canonical bytes are not JSON; not signing");
  }
  if (signed?._type !== "targets" || fromUtf8(canonicalBytes(signed)) !== targets.canonical)
    throw failed("the targets draft's bytes are not the canonical JSON of a targets role; not signing");
  return signed;
}

/** The published targets version `version`, as an envelope, or null if there is none. */
export async function fetchTargetsEnvelope(settings: Settings, version: number): Promise<Envelope<Targets> | null> {
  if (version === 0) return null;
  const response = await guardedFetch(requireUrl(settings))(
    `${repoBaseUrl(settings)}/metadata/${version}.targets.json`,
  );
  if (response.status === 404) return null;
  if (!response.ok) throw failed(`GET ${version}.targets.json answered ${response.status}`);
  return parseEnvelope(new Uint8Array(await response.arrayBuffer()), "targets") as unknown as Envelope<Targets>;
}

/**
 * Checks the targets draft locally: its canonical text, and the service's
 * summary against the one this machine computes from the published targets.
 */
export async function checkTargetsDraft(settings: Settings, view: CeremonyView): Promise<void> {
  const { targets } = view;
  if (!targets) return;
  const draft = targetsDraftOf(targets);
  const base = (await fetchTargetsEnvelope(settings, targets.baseVersion))?.signed ?? null;
  if (JSON.stringify(diffTargets(base, draft)) !== JSON.stringify(targets.summary))
    throw failed(
      `the service's summary of the targets draft of ceremony ${view.id} differs from what this machine computes against targets v${targets.baseVersion}; not signing`,
    );
}

/** The draft's fingerprint line, to compare across signers. */
export async function targetsFingerprint(targets: TargetsDraftView): Promise<string> {
  return `  targets canonical SHA-256 ${await sha256Hex(canonicalBytes(targetsDraftOf(targets)))}  (compare with the other signers)`;
}

/** A signature over the canonical bytes of the targets draft, computed here. */
export async function signTargetsDraft(targets: TargetsDraftView, signer: Signer): Promise<Signature> {
  const bytes = canonicalBytes(targetsDraftOf(targets));
  return { keyid: signer.keyid, sig: toHex(await signer.sign(bytes)) };
}
