/**
 * Structured logs: one JSON object per line on the console (Workers Logs and
 * `wrangler tail` index the fields), for each significant event: a publish
 * round, a re-sign, a ceremony step, a refusal. Fields are plain values the
 * caller chose; a field whose name suggests a secret is dropped, never
 * printed, so a mistake cannot leak one.
 */
export type LogValue = string | number | boolean | null | readonly string[];
export type LogFields = Record<string, LogValue | undefined>;

const SECRET_FIELD = /secret|token|password|passphrase|seed|sealed|private|authorization|kek_?value/i;

/** The JSON line for an event (exported for tests). */
export function logLine(level: "info" | "warn" | "error", event: string, fields: LogFields = {}): string {
  const line: Record<string, LogValue> = { level, event };
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || SECRET_FIELD.test(name)) continue;
    line[name] = typeof value === "string" ? value.slice(0, 1000) : value;
  }
  line.at = new Date().toISOString();
  return JSON.stringify(line);
}

export function logEvent(event: string, fields: LogFields = {}, level: "info" | "warn" | "error" = "info"): void {
  const text = logLine(level, event, fields);
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
}
