/** Small formatting helpers for the pages. */

/** "in 3 h", "2 d ago": the distance from `now`, in the largest whole unit. */
export function relative(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return "";
  const abs = Math.abs(ms);
  const units: Array<[number, string]> = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1000, "s"],
  ];
  const [size, unit] = units.find(([u]) => abs >= u) ?? [1000, "s"];
  const n = Math.floor(abs / size);
  return ms >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A target path as a URL path: each segment percent-encoded, slashes kept. */
export function targetHref(repo: string, path: string): string {
  return `/${repo}/-/target/${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** "2026-12-01 04:39 UTC" from an ISO 8601 time. */
export function shortDate(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}
