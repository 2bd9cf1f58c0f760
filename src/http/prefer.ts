/** The RFC 7240 Prefer header. */

/** True when the request's Prefer header carries the respond-async preference (a token, not a substring). */
export function prefersRespondAsync(prefer: string | undefined): boolean {
  return /(^|[,\s])respond-async($|[,;\s])/.test(prefer ?? "");
}
