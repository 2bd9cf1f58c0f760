/** PEM armour: base64 DER between BEGIN/END lines (RFC 7468). */
import { fromBase64, toBase64 } from "../lib/bytes.ts";

export function pemToDer(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!match) throw new TypeError(`not a PEM ${label}`);
  return fromBase64((match[1] ?? "").replace(/\s+/g, ""));
}

export function derToPem(der: Uint8Array, label: string): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
