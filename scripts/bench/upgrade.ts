/**
 * The bulk section's last step: this code's wrangler dev started on the
 * baseline's state, as a deployment over the baseline's repository would. Its
 * first request constructs the repository's object, whose
 * blockConcurrencyWhile applies the migrations the baseline lacks
 * (durable-objects/schema.ts); the request after it is timed as well.
 *
 * When this code is older than the baseline (`--code` an earlier commit than
 * `--baseline`), the state is a newer schema's: the object refuses it,
 * running nothing (durable-objects/migrate.ts), and the Worker answers
 * 503 schema_ahead. The step reports that refusal instead of failing the
 * section: a downgrade is not something to time.
 */
import { AdminApiError, type AdminClient } from "../lib/admin-client.ts";
import type { Table } from "./table.ts";

/** What starting this code on the baseline's state gave. */
export type Upgrade = { targets: number; firstMs: number; secondMs: number } | { targets: number; refused: string };

/** Times the first request to the repository and the one after it; a schema this code does not know is reported, not thrown. */
export async function timeUpgrade(client: AdminClient, targets: number): Promise<Upgrade> {
  const timed = async () => {
    const t0 = performance.now();
    const status = await client.status();
    if (status.targetsCount !== targets) throw new Error(`status lists ${status.targetsCount} targets, not ${targets}`);
    return performance.now() - t0;
  };
  let firstMs: number;
  try {
    firstMs = await timed();
  } catch (error) {
    const refused = refusedDowngrade(error);
    if (refused === null) throw error;
    return { targets, refused };
  }
  return { targets, firstMs, secondMs: await timed() };
}

/** The detail of a 503 schema_ahead (the repository's schema is newer than this code), or null for any other error. */
export function refusedDowngrade(error: unknown): string | null {
  if (!(error instanceof AdminApiError) || error.status !== 503 || error.problem.code !== "schema_ahead") return null;
  return error.problem.detail ?? error.message;
}

/** The step's table; `codes` name this code and the baseline as the section's other tables do. */
export function upgradeTable(upgraded: Upgrade, codes: { now: string; before: string }): Table {
  const targets = upgraded.targets.toLocaleString("en-US");
  const columns: Table["columns"] = [
    { header: "figure", align: "left" },
    { header: "ms", digits: 0 },
  ];
  if ("refused" in upgraded)
    return {
      title: `Upgrade: this code started on the baseline's repository of ${targets} targets: refused, the baseline's schema is newer`,
      columns,
      rows: [["GET …/admin/status, the first request: 503 schema_ahead", null]],
      notes: [
        `This code (${codes.now}) is older than the baseline (${codes.before}): its object refuses a schema it does not know and runs nothing (durable-objects/migrate.ts), which is what a deployment of it over the baseline's repository would meet. Run with --code and --baseline the other way round to time the migrations. The answer: ${upgraded.refused}`,
      ],
    };
  return {
    title: `Upgrade: this code started on the baseline's repository of ${targets} targets`,
    columns,
    rows: [
      [
        "GET …/admin/status, the first request (the object's constructor runs this code's migrations)",
        upgraded.firstMs,
      ],
      ["GET …/admin/status, the request after it", upgraded.secondMs],
    ],
    notes: [
      `The baseline's state as its import left it (${codes.before}), this code's wrangler dev started on it (${codes.now}): the first request to the repository constructs its Durable Object, whose blockConcurrencyWhile applies the migrations the baseline lacks (durable-objects/schema.ts) before anything else runs; the platform resets an object whose constructor takes over 30 s.`,
    ],
  };
}
