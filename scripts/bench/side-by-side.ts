/** Tables that set this code's figures beside a baseline's (--baseline), measured in the same run. */
import type { Cell, Column } from "./types.ts";

/** figure, this code, baseline, and how many times better this code is. */
export const SIDE_BY_SIDE_COLUMNS: Column[] = [
  { header: "figure", align: "left" },
  { header: "this code", digits: 1 },
  { header: "baseline", digits: 1 },
  { header: "better ×", digits: 2 },
];

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
    const change = a !== null && b !== null && a > 0 && b > 0 ? (lowerIsBetter ? b / a : a / b) : null;
    return [what, a, b, change];
  };
}
