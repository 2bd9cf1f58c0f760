/**
 * A fetch over its own keep-alive connection pool, for sections that keep
 * many requests in flight at once (the shared one in http.ts allows 8
 * sockets, which would cap "100 concurrent pushers" at 8). node:http rather
 * than the built-in fetch: less client CPU per request on a small machine,
 * where the load generator competes with the server for the same cores.
 */
import { Agent, request } from "node:http";

export interface PoolFetch {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  /** Closes the pool's sockets. */
  close(): void;
  /** Requests sent again because a kept-alive socket was closed by the server as it was reused. */
  retries(): number;
}

export function makePoolFetch(maxSockets: number, timeoutMs = 0): PoolFetch {
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  let retries = 0;
  const attempt = (input: string, init: RequestInit, retry: boolean): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(input);
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
        reject(new TypeError("pool fetch sends string or Uint8Array bodies only"));
        return;
      }
      const headers: Record<string, string | number> = { ...(init.headers as Record<string, string> | undefined) };
      if (body !== undefined && body !== null) headers["Content-Length"] = Buffer.byteLength(body);
      const req = request(
        {
          agent,
          method: init.method ?? "GET",
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const responseHeaders = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(", ") : v);
            }
            const status = res.statusCode ?? 0;
            const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(payload, { status, headers: responseHeaders }));
          });
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed just as it was reused: nothing reached the server, send again
        // (Node's documented pattern; pushes are idempotent by their webhook-id anyway).
        const stale = req.reusedSocket && (error.code === "ECONNRESET" || error.message === "socket hang up");
        if (stale && retry) {
          retries++;
          attempt(input, init, false).then(resolve, reject);
        } else reject(error);
      });
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () =>
          req.destroy(new Error(`no response within ${timeoutMs} ms: ${init.method ?? "GET"} ${input}`)),
        );
      }
      if (body !== undefined && body !== null) req.write(body);
      req.end();
    });
  const fetch = (input: string, init: RequestInit = {}): Promise<Response> => attempt(input, init, true);
  return { fetch, close: () => agent.destroy(), retries: () => retries };
}

/** GET `url` and parse JSON (throws on a non-2xx status). */
export async function getJson<T>(
  fetch: PoolFetch["fetch"],
  url: string,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
