/** A repository's settings, fixed at bootstrap (expiries may be changed later). */
import { z } from "zod";
import { BinCountSchema } from "../src/schemas/bin-count.ts";
import { ExpiryPolicySchema } from "../src/tuf/expiry.ts";
import { DEFAULT_BIT_LENGTH, HashBins } from "../src/tuf/hash-bins.ts";

export const SettingsSchema = z
  .object({
    /** Number of hash bins: a power of two from 2 to 16,384. */
    bins: BinCountSchema.default(2 ** DEFAULT_BIT_LENGTH),
    /** Validity of each role, in seconds. */
    expiry: ExpiryPolicySchema.default(ExpiryPolicySchema.parse({})),
    /** Most bins signed in one invocation; a larger publish continues in the next alarm. */
    binsPerInvocation: z.number().int().min(1).max(16_384).default(1024),
    /**
     * Re-sign a role this many seconds before it expires. Defaults: half the
     * validity for timestamp and snapshot, a quarter for targets and bins.
     */
    refreshMargin: z
      .object({
        timestamp: z.number().int().min(60),
        snapshot: z.number().int().min(60),
        targets: z.number().int().min(60),
        bins: z.number().int().min(60),
      })
      .partial()
      .strict()
      .default({}),
    /**
     * Open a root re-signing ceremony this many seconds before root expires (default 30 days);
     * in protected-delegations mode, the offline targets' refresh ceremony as long before it expires.
     */
    rootRefreshLead: z
      .number()
      .int()
      .min(3600)
      .default(30 * 86_400),
    /** Rotate the online key every this many seconds (default 90 days; 0: only on demand). */
    onlineKeyRotationPeriod: z
      .number()
      .int()
      .min(0)
      .default(90 * 86_400),
    /**
     * Seconds a metadata file no current version needs (a replaced snapshot,
     * bin pack, targets or delegated role version) stays in R2 before it is
     * deleted (default 1 day; 0: kept for good). See superseded-files.ts.
     */
    retainSuperseded: z
      .number()
      .int()
      .refine((s) => s === 0 || s >= 600, "0 (keep superseded files for good) or at least 600 seconds")
      .default(86_400),
    /** Seconds a ceremony stays open for signatures before its draft expires (default 7 days). */
    ceremonyTtl: z
      .number()
      .int()
      .min(600)
      .max(90 * 86_400)
      .default(7 * 86_400),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const role of ["timestamp", "snapshot", "targets", "bins"] as const) {
      // Bins and targets are re-signed up to a quarter margin early (batching),
      // and bins have their expiries spread over half their validity.
      const margin = refreshMargin(s, role) * (role === "bins" || role === "targets" ? 1.25 : 1);
      const room = role === "bins" ? s.expiry.bins / 2 : s.expiry[role];
      if (margin >= room) {
        ctx.addIssue({
          code: "custom",
          path: ["refreshMargin", role],
          message: `the refresh margin of ${role} is too large for its validity (${s.expiry[role]} s)`,
        });
      }
    }
  });

export type Settings = z.infer<typeof SettingsSchema>;

export type RefreshedRole = "timestamp" | "snapshot" | "targets" | "bins";

/** Seconds before expiry at which a role is re-signed. */
export function refreshMargin(
  settings: Pick<Settings, "expiry"> & { refreshMargin: Partial<Record<RefreshedRole, number>> },
  role: RefreshedRole,
): number {
  const configured = settings.refreshMargin[role];
  if (configured !== undefined) return configured;
  const validity = settings.expiry[role];
  return Math.floor(role === "timestamp" || role === "snapshot" ? validity / 2 : validity / 4);
}

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
