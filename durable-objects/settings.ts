/** A repository's settings, fixed at bootstrap (expiries may be changed later). */
import { z } from "zod";
import { ExpiryPolicySchema } from "../src/tuf/expiry.ts";
import { DEFAULT_BIT_LENGTH, HashBins, MAX_BIT_LENGTH, MIN_BIT_LENGTH } from "../src/tuf/hash-bins.ts";

export const SettingsSchema = z
  .object({
    /** Number of hash bins: a power of two from 2 to 16,384. */
    bins: z
      .number()
      .int()
      .min(2 ** MIN_BIT_LENGTH)
      .max(2 ** MAX_BIT_LENGTH)
      .refine((n) => Number.isInteger(Math.log2(n)), "bins must be a power of two")
      .default(2 ** DEFAULT_BIT_LENGTH),
    /** Validity of each role, in seconds. */
    expiry: ExpiryPolicySchema.default(ExpiryPolicySchema.parse({})),
    /** Most bins signed in one invocation; a larger publish continues in the next alarm. */
    binsPerInvocation: z.number().int().min(1).max(16_384).default(1024),
  })
  .strict();

export type Settings = z.infer<typeof SettingsSchema>;

export function hashBins(settings: Settings): HashBins {
  return new HashBins(HashBins.bitLengthFor(settings.bins));
}

export function loadSettings(sql: SqlStorage): Settings | null {
  const row = sql.exec<{ json: string }>("SELECT json FROM settings WHERE id = 1").toArray()[0];
  return row ? SettingsSchema.parse(JSON.parse(row.json)) : null;
}

export function saveSettings(sql: SqlStorage, settings: Settings): void {
  sql.exec(
    "INSERT INTO settings (id, json) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
    JSON.stringify(settings),
  );
}
