/** Bodies of the operators' quarantine actions (src/routes/quarantine.ts). */
import { z } from "zod";
import { SafeString } from "./safe-string.ts";
import { TargetPathSchema } from "./target-path.ts";

/** Who acted, as the operator names themselves for the audit log (the admin token is shared). */
const By = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x20-\x7e]+$/, "printable ASCII")
  .optional();

export const QuarantineSchema = z
  .object({
    path: TargetPathSchema,
    reason: SafeString.min(1, "a reason is required").max(500),
    reference: SafeString.min(1).max(500).optional(),
    by: By,
  })
  .strict();

export const QuarantineActionSchema = z.object({ path: TargetPathSchema, by: By }).strict();
