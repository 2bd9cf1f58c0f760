/**
 * The TUF client's downloads over HTTP (durable-objects/capped-fetch.ts):
 * where metadata and targets are asked for, 404 as "no such file", and the
 * length cap, whether the server declares a length or streams without one.
 */
import { describe, expect, it } from "vitest";
import { httpFetchFile } from "../../durable-objects/capped-fetch.ts";
import { utf8 } from "../../src/lib/bytes.ts";

/** A server that answers from `routes` (URL → response maker) and records what it was asked. */
function server(routes: Record<string, () => Response>) {
  const asked: string[] = [];
  const fetcher = (async (input: RequestInfo | URL) => {
    const url = String(input);
    asked.push(url);
    return routes[url]?.() ?? new Response("not found", { status: 404 });
  }) as typeof fetch;
  return { fetcher, asked };
}

/** A body streamed in chunks, with no Content-Length. */
function streamed(...chunks: string[]): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(utf8(chunk));
      controller.close();
    },
  });
  return new Response(stream);
}

describe("httpFetchFile", () => {
  it("asks for metadata at the base URL and targets under targets/, path segments encoded", async () => {
    const { fetcher, asked } = server({
      "https://tuf.example/repo/15.root.json": () => new Response("{}"),
      "https://tuf.example/repo/targets/dir/ab12.a%20b.json": () => new Response("[]"),
    });
    const fetchFile = httpFetchFile("https://tuf.example/repo/", fetcher);
    expect(await fetchFile("metadata", "15.root.json", 100)).toEqual(utf8("{}"));
    expect(await fetchFile("target", "dir/ab12.a b.json", 100)).toEqual(utf8("[]"));
    expect(await fetchFile("metadata", "16.root.json", 100)).toBeNull();
    expect(asked).toEqual([
      "https://tuf.example/repo/15.root.json",
      "https://tuf.example/repo/targets/dir/ab12.a%20b.json",
      "https://tuf.example/repo/16.root.json",
    ]);
  });

  it("throws on a server error: it is not the absence of a file", async () => {
    const { fetcher } = server({ "https://tuf.example/timestamp.json": () => new Response("", { status: 503 }) });
    await expect(httpFetchFile("https://tuf.example", fetcher)("metadata", "timestamp.json", 100)).rejects.toThrow(
      "https://tuf.example/timestamp.json: HTTP 503",
    );
  });

  it("refuses a body longer than allowed, declared or streamed, and takes one exactly as long", async () => {
    const { fetcher } = server({
      "https://tuf.example/declared.json": () => new Response("0123456789", { headers: { "Content-Length": "10" } }),
      "https://tuf.example/streamed.json": () => streamed("01234", "56789", "x"),
      "https://tuf.example/exact.json": () => streamed("01234", "56789"),
    });
    const fetchFile = httpFetchFile("https://tuf.example", fetcher);
    await expect(fetchFile("metadata", "declared.json", 9)).rejects.toThrow(/10 bytes, more than the 9 allowed/);
    await expect(fetchFile("metadata", "streamed.json", 10)).rejects.toThrow(/more than the 10 bytes allowed/);
    expect(await fetchFile("metadata", "exact.json", 10)).toEqual(utf8("0123456789"));
  });

  it("gives up on a server that never answers, after the timeout", async () => {
    // A server that accepts the request and then says nothing, until the client's signal aborts it.
    const silent = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
    const fetchFile = httpFetchFile("https://tuf.example", silent, 50);
    await expect(fetchFile("metadata", "timestamp.json", 1024)).rejects.toThrow(/timed? ?out|abort/i);
  });
});
