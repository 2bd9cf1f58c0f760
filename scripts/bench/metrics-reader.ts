/** Figures read back from a repository's Prometheus metrics (GET /{repo}/admin/metrics). */
import { defined } from "../lib/defined.ts";

/** The largest publish invocation (r2_operations, roles, rounds, wall_ms), or null if the code has no such gauge. */
export async function largestInvocation(
  base: string,
  repo: string,
  token: string,
): Promise<Record<string, number> | null> {
  const response = await fetch(`${base}/${repo}/admin/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^tuf_edge_publish_invocation_largest\{[^}]*what="([a-z0-9_]+)"[^}]*\} (\S+)$/gm))
    out[defined(match[1])] = Number(match[2]);
  return Object.keys(out).length ? out : null;
}
