/** How long each role's metadata stays valid, per repository. */
import { z } from "zod";
import { formatExpires } from "./metadata.ts";

const DAY = 86_400;

/** Validity in seconds. */
export const ExpiryPolicySchema = z
  .object({
    root: z
      .number()
      .int()
      .min(DAY)
      .max(10 * 365 * DAY)
      .default(365 * DAY),
    targets: z
      .number()
      .int()
      .min(3600)
      .max(10 * 365 * DAY)
      .default(365 * DAY),
    bins: z
      .number()
      .int()
      .min(3600)
      .max(365 * DAY)
      .default(DAY),
    snapshot: z
      .number()
      .int()
      .min(600)
      .max(365 * DAY)
      .default(DAY),
    timestamp: z
      .number()
      .int()
      .min(300)
      .max(30 * DAY)
      .default(DAY),
  })
  .strict();

export type ExpiryPolicy = z.infer<typeof ExpiryPolicySchema>;
export type ExpiringRole = keyof ExpiryPolicy;

export const DEFAULT_EXPIRY: ExpiryPolicy = ExpiryPolicySchema.parse({});

export function expiresAt(policy: ExpiryPolicy, role: ExpiringRole, now: Date): string {
  return formatExpires(new Date(now.getTime() + policy[role] * 1000));
}
