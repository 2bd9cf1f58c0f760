/**
 * Downloads for a TUF client (src/tuf/client's FetchFile) over HTTP: a
 * repository's metadata at `<base>/<name>`, its targets at
 * `<base>/targets/<name>`. 404 is "no such file"; any other failure throws.
 * Bodies are read up to the length the client allows and refused beyond it
 * (spec §5.3.2, §5.4.1: "up to X bytes"), so a hostile server cannot make the
 * Worker buffer without bound.
 */
import type { FetchFile } from "../src/tuf/client/updater.ts";

/** A download that has not finished by then fails (a silent or trickling server cannot hold a refresh open). */
export const FETCH_TIMEOUT_MS = 20_000;

export function httpFetchFile(
  baseUrl: string,
  fetcher: typeof fetch = fetch,
  timeoutMs: number = FETCH_TIMEOUT_MS,
): FetchFile {
  const base = baseUrl.replace(/\/+$/, "");
  return async (kind, name, maxLength) => {
    // A target path keeps its directories; a metadata name (a delegated role's, too) is one segment.
    const url =
      kind === "target"
        ? `${base}/targets/${name.split("/").map(encodeURIComponent).join("/")}`
        : `${base}/${encodeURIComponent(name)}`;
    const response = await fetcher(url, { redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${url}: HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get("Content-Length") ?? Number.NaN);
    if (declared > maxLength) {
      await response.body?.cancel();
      throw new Error(`${url}: ${declared} bytes, more than the ${maxLength} allowed`);
    }
    return readCapped(url, response, maxLength);
  };
}

async function readCapped(url: string, response: Response, maxLength: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxLength) {
      await reader.cancel();
      throw new Error(`${url}: more than the ${maxLength} bytes allowed`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
