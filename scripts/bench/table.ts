/** The tables every section reports, and their one printer: aligned plain-text columns. */
import { defined } from "../lib/defined.ts";

/** A cell: numbers are formatted by the printer, null prints as "–". */
export type Cell = string | number | null;

export interface Column {
  header: string;
  /** Digits after the point for numbers (default: 0 for integers, 2 otherwise). */
  digits?: number;
  align?: "left" | "right";
}

export interface Table {
  title: string;
  columns: Column[];
  rows: Cell[][];
  /** Printed under the table. */
  notes?: string[];
}

function formatCell(cell: Cell, column: Column): string {
  if (cell === null || cell === undefined) return "–";
  if (typeof cell === "string") return cell;
  if (!Number.isFinite(cell)) return String(cell);
  const digits = column.digits ?? (Number.isInteger(cell) ? 0 : 2);
  return cell.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatTable(table: Table): string {
  const headers = table.columns.map((c) => c.header);
  const body = table.rows.map((row) => table.columns.map((column, i) => formatCell(row[i] ?? null, column)));
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => defined(r[i]).length)));
  const align = (text: string, i: number) => {
    const column = defined(table.columns[i]);
    const left = column.align ? column.align === "left" : i === 0;
    return left ? text.padEnd(defined(widths[i])) : text.padStart(defined(widths[i]));
  };
  const line = (cells: string[]) => `| ${cells.map(align).join(" | ")} |`;
  const rule = `|${widths
    .map((w, i) => {
      const column = defined(table.columns[i]);
      const left = column.align ? column.align === "left" : i === 0;
      return left ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`;
    })
    .join("|")}|`;
  const lines = [`### ${table.title}`, "", line(headers), rule, ...body.map(line)];
  if (table.notes?.length) lines.push("", ...table.notes.map((n) => `- ${n}`));
  return lines.join("\n");
}

export const MiB = 1024 * 1024;
