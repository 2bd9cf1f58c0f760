/**
 * A fetch for long admin calls. Node's built-in fetch gives up on a response
 * whose headers take more than 300 s; a bootstrap of many bins can take
 * longer, and how long it takes is what we measure. This one has no timeout
 * of its own (the caller sets one with `timeoutMs`).
 */
import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export function makeHttpFetch(timeoutMs = 0) {
  return function httpFetch(input: string, init: RequestInit = {}): Promise<Response> {
    return new Promise((resolve, reject) => {
      const url = new URL(input);
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
        reject(new TypeError("httpFetch sends string or Uint8Array bodies only"));
        return;
      }
      const headers: Record<string, string | number> = { ...(init.headers as Record<string, string> | undefined) };
      if (body !== undefined && body !== null) headers["Content-Length"] = Buffer.byteLength(body);
      const req = request(
        { agent, method: init.method ?? "GET", hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers },
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
      req.on("error", reject);
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms: ${init.method ?? "GET"} ${input}`)));
      }
      if (body !== undefined && body !== null) req.write(body);
      req.end();
    });
  };
}

export function closeHttpAgent(): void {
  agent.destroy();
}
