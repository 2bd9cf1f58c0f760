/** Figures read back from a repository's Prometheus metrics (GET /{repo}/admin/metrics). */
import { defined } from "../lib/defined.ts";

/**
 * A counter's (or a gauge's) samples summed by the value of one of its labels (e.g.
 * tuf_edge_r2_operations_total by `operation`), or null if the code has no
 * such counter.
 */
export async function counterByLabel(
  base: string,
  repo: string,
  token: string,
  name: string,
  label: string,
): Promise<Record<string, number> | null> {
  const response = await fetch(`${base}/${repo}/admin/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(new RegExp(`^${name}\\{(?:[^}]*,)?${label}="([^"]*)"[^}]*\\} (\\S+)$`, "gm"))) {
    const value = defined(match[1]);
    out[value] = (out[value] ?? 0) + Number(match[2]);
  }
  return Object.keys(out).length ? out : null;
}

/**
 * How much each label value of a counter grew between two readings
 * (counterByLabel) per `per` (targets accepted, say), or null without both
 * readings or with nothing to divide by.
 */
export function perTarget(
  before: Readonly<Record<string, number>> | null,
  after: Readonly<Record<string, number>> | null,
  per: number,
): Record<string, number> | null {
  if (before === null || after === null || per === 0) return null;
  return Object.fromEntries(Object.entries(after).map(([value, n]) => [value, (n - (before[value] ?? 0)) / per]));
}

/** The sum of a counter's (or a gauge's) samples, every label set, in a repository's metrics, or null if it has none. */
export async function counterTotal(base: string, repo: string, token: string, name: string): Promise<number | null> {
  return (await counterTotals(base, repo, token, [name]))[name] ?? null;
}

/** counterTotal of each of `names`, from one read of the metrics. */
export async function counterTotals<Name extends string>(
  base: string,
  repo: string,
  token: string,
  names: readonly Name[],
): Promise<Record<Name, number | null>> {
  const response = await fetch(`${base}/${repo}/admin/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  const out = {} as Record<Name, number | null>;
  for (const name of names) {
    let total: number | null = null;
    for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm")))
      total = (total ?? 0) + Number(match[1]);
    out[name] = total;
  }
  return out;
}

/**
 * The longest a series of readings (`[ms, value]`, in time order) stood at
 * one value: from the first reading of a value to the first reading that
 * differs, or to the last reading if none does.
 */
export function longestStill(readings: ReadonlyArray<readonly [number, number]>): number {
  let since = readings[0];
  if (!since) return 0;
  let longest = 0;
  for (const reading of readings) {
    longest = Math.max(longest, reading[0] - since[0]);
    if (reading[1] !== since[1]) since = reading;
  }
  return longest;
}

/**
 * Polls a gauge (counterTotal, every `everyMs`) until it reads 0 or `limitMs`
 * pass; returns the gauge's first reading, how long it took to reach 0 (null
 * if it never did) and the longest it stood still meanwhile (longestStill: a
 * stalled follower shows as a long pause), or null if the code has no such
 * gauge.
 */
export async function untilZero(
  base: string,
  repo: string,
  token: string,
  name: string,
  limitMs: number,
  everyMs = 250,
): Promise<{ first: number; ms: number | null; longestPauseMs: number } | null> {
  const start = performance.now();
  const first = await counterTotal(base, repo, token, name);
  if (first === null) return null;
  const readings: Array<[number, number]> = [];
  for (let value = first; ; value = (await counterTotal(base, repo, token, name)) ?? 0) {
    const ms = performance.now() - start;
    readings.push([ms, value]);
    if (value === 0) return { first, ms, longestPauseMs: longestStill(readings) };
    if (ms >= limitMs) return { first, ms: null, longestPauseMs: longestStill(readings) };
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The largest publish invocation (r2_operations, roles, rounds, wall_ms), or null if the code has no such gauge. */
export function largestInvocation(base: string, repo: string, token: string): Promise<Record<string, number> | null> {
  return counterByLabel(base, repo, token, "tuf_edge_publish_invocation_largest", "what");
}
