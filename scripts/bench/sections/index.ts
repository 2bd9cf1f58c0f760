/**
 * The benchmark sections, in the order they run. A new section (webhook
 * events/s, attestation verification, key rotation, …) is a module that
 * exports a `Section` and one line here.
 */
import type { Section } from "../types.ts";
import { publishing } from "./publishing.ts";
import { serving } from "./serving.ts";
import { webhooks } from "./webhooks.ts";
import { attestations } from "./attestations.ts";
import { rotation } from "./rotation.ts";
import { log } from "./log.ts";
import { forgedPushes } from "./forged-pushes.ts";
import { pages } from "./pages.ts";
import { surface } from "./surface.ts";
import { sigstoreTrust } from "./sigstore-trust.ts";
import { delegations } from "./delegations.ts";
import { scale } from "./scale.ts";
import { bulk } from "./bulk.ts";
import { growth } from "./growth.ts";
import { localR2 } from "./local-r2.ts";

export const SECTIONS: readonly Section[] = [
  serving,
  publishing,
  webhooks,
  attestations,
  rotation,
  log,
  forgedPushes,
  pages,
  surface,
  sigstoreTrust,
  delegations,
  scale,
  bulk,
  growth,
  localR2,
];
