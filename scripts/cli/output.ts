/**
 * Output: data on stdout (text, or JSON with --json), messages on stderr.
 * Colours only when the stream is a terminal (and NO_COLOR is not set).
 */
import { styleText } from "node:util";

type Style = Parameters<typeof styleText>[0];

function paint(style: Style, text: string, stream: NodeJS.WriteStream): string {
  if (!stream.isTTY || process.env.NO_COLOR) return text;
  return styleText(style, text, { stream, validateStream: false });
}

type Stream = NodeJS.WriteStream;
const stdout: Stream = process.stdout;

export const color = {
  bold: (t: string, s: Stream = stdout) => paint("bold", t, s),
  dim: (t: string, s: Stream = stdout) => paint("dim", t, s),
  green: (t: string, s: Stream = stdout) => paint("green", t, s),
  red: (t: string, s: Stream = stdout) => paint("red", t, s),
  yellow: (t: string, s: Stream = stdout) => paint("yellow", t, s),
  cyan: (t: string, s: Stream = stdout) => paint("cyan", t, s),
};

/** A line of data on stdout. */
export function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** Data for scripts: one JSON document on stdout. */
export function outJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A progress or information message on stderr. */
export function info(line = ""): void {
  process.stderr.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`${color.yellow("warning:", process.stderr)} ${line}\n`);
}

/** A plain text table with aligned columns. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [color.bold(line(headers)), ...rows.map(line)].join("\n");
}

/** "3d 4h", "2h 5m", "45s"; negative durations are "expired 2h ago". */
export function humanDuration(ms: number): string {
  const past = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const text =
    d > 0 ? (h ? `${d}d ${h}h` : `${d}d`) : h > 0 ? (m ? `${h}h ${m}m` : `${h}h`) : m > 0 ? `${m}m ${s}s` : `${s}s`;
  return past ? `${text} ago` : text;
}

export function shortId(keyid: string): string {
  return keyid.length > 16 ? `${keyid.slice(0, 16)}…` : keyid;
}

/** Parses "365d", "12h", "30m", "90s" or a number of seconds into seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([dhms]?)$/.exec(text.trim());
  if (!match) throw new TypeError(`"${text}" is not a duration (e.g. 365d, 12h, 30m, 3600)`);
  const n = Number(match[1]);
  const unit = { d: 86_400, h: 3600, m: 60, s: 1, "": 1 }[match[2] as "d" | "h" | "m" | "s" | ""];
  return n * unit;
}
