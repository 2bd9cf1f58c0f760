/**
 * What reading a stored file gives: an R2 object, or a file made from bytes
 * in hand (a bin's file cut out of its pack: bin-pack-reader.ts), which
 * answers the same way (its own size, SHA-256 and body).
 */

export const JSON_TYPE = "application/json";

export type StoredObject = Pick<
  R2ObjectBody,
  "body" | "size" | "customMetadata" | "httpMetadata" | "httpEtag" | "arrayBuffer" | "json" | "text"
>;

/** A stored JSON file made from bytes in hand, shaped as an R2 object read; its ETag is their SHA-256. */
export function storedBytes(bytes: Uint8Array<ArrayBuffer>, sha256: string): StoredObject {
  const response = () => new Response(bytes);
  return {
    body: response().body as ReadableStream,
    size: bytes.length,
    customMetadata: { sha256 },
    httpMetadata: { contentType: JSON_TYPE },
    httpEtag: `"${sha256}"`,
    arrayBuffer: () => response().arrayBuffer(),
    json: <T>() => response().json<T>(),
    text: () => response().text(),
  };
}
