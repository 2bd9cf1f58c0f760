/**
 * A progress bar for long operations on stderr: drawn in place on a terminal,
 * a line every few seconds otherwise, nothing when quiet (--json). Also
 * `barText`, the same bar as text, for screens that redraw (status --watch).
 */
import { info } from "./output.ts";

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/** "[██████░░░░░░░░░░░░░░]  30% 3/10". */
export function barText(done: number, total: number, width = 20): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total}`;
}

export function progressBar(label: string, total: number, quiet: boolean): Progress {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    let last = "";
    return {
      update(done) {
        const line = `${label} ${barText(done, total, 30)}`;
        if (line === last) return;
        last = line;
        process.stderr.write(`\r${line}`);
      },
      stop() {
        if (last) process.stderr.write("\n");
      },
    };
  }
  let at = 0;
  return {
    update(done) {
      if (Date.now() - at < 2000 && done < total) return;
      at = Date.now();
      info(`${label} ${barText(done, total)}`);
    },
    stop: () => undefined,
  };
}
