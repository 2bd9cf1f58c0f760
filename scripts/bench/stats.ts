/** Small statistics over samples. */
import { defined } from "../lib/defined.ts";

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return defined(sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]);
}

/** The median of `values` (the mean of the middle two for an even count), or null if there are none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? defined(sorted[mid]) : (defined(sorted[mid - 1]) + defined(sorted[mid])) / 2;
}

export function summarize(samples: readonly number[]) {
  const sum = samples.reduce((a, b) => a + b, 0);
  return {
    count: samples.length,
    total: sum,
    mean: samples.length ? sum / samples.length : Number.NaN,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

export function ratio(a: number, b: number): number | null {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null;
}
