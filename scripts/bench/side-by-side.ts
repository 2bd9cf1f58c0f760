/** Tables that set this code's figures beside a baseline's (--baseline), measured in the same run, once or more (--repeat). */
import type { Cell, Column } from "./table.ts";
import { median } from "./stats.ts";

/** figure, this code, baseline, and how many times better this code is. */
export const SIDE_BY_SIDE_COLUMNS: Column[] = [
  { header: "figure", align: "left" },
  { header: "this code", digits: 1 },
  { header: "baseline", digits: 1 },
  { header: "better ×", digits: 2 },
];

/** How many times better `a` (this code) is than `b` (the baseline): b ÷ a for costs and times, a ÷ b for rates. */
function better(a: number | null, b: number | null, lowerIsBetter: boolean): number | null {
  return a !== null && b !== null && a > 0 && b > 0 ? (lowerIsBetter ? b / a : a / b) : null;
}

const figure = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? null : x);

/**
 * A row maker for SIDE_BY_SIDE_COLUMNS: `pick` reads one figure from each
 * side; "better ×" is baseline ÷ this code when lower is better (times,
 * costs), this code ÷ baseline otherwise (rates).
 */
export function sideBySide<F>(now: F, before: F | null) {
  return (what: string, pick: (f: F) => number | null | undefined, lowerIsBetter: boolean): Cell[] => {
    const a = figure(pick(now));
    const b = before ? figure(pick(before)) : null;
    return [what, a, b, better(a, b, lowerIsBetter)];
  };
}

/** "low–high" of `values` with one digit after the point, or null if there are none. */
export function range(values: readonly number[]): string | null {
  if (values.length === 0) return null;
  const one = (x: number) => x.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `${one(Math.min(...values))}–${one(Math.max(...values))}`;
}

/** SIDE_BY_SIDE_COLUMNS for repeated runs (--repeat): each side's median, then each side's range. */
export const REPEATED_COLUMNS: Column[] = [
  ...SIDE_BY_SIDE_COLUMNS,
  { header: "this code: range" },
  { header: "baseline: range" },
];

/**
 * A row maker for REPEATED_COLUMNS, over each side's runs (`before` empty:
 * no baseline): each side's median, "better ×" as sideBySide's but of the
 * medians, and each side's lowest and highest.
 */
export function sideBySideRuns<F>(now: readonly F[], before: readonly F[]) {
  return (what: string, pick: (f: F) => number | null | undefined, lowerIsBetter: boolean): Cell[] => {
    const figures = (runs: readonly F[]) => runs.map((f) => figure(pick(f))).filter((x) => x !== null);
    const a = median(figures(now));
    const b = median(figures(before));
    return [what, a, b, better(a, b, lowerIsBetter), range(figures(now)), range(figures(before))];
  };
}
