import { describe, expect, it } from "vitest";
import { app } from "../../src/app.ts";
import { openApiDocument } from "../../src/openapi.ts";
import { OPENAPI_CACHE_CONTROL } from "../../src/routes/openapi.ts";
import { BASE, getJson, workerFetch } from "./helpers.ts";

describe("OpenAPI document", () => {
  it("documents every public and admin endpoint with schemas generated from the validators", async () => {
    const { response, json } = await getJson("/openapi.json");
    expect(response.status).toBe(200);
    expect(json.openapi).toBe("3.1.0");
    for (const path of [
      "/{repo}/webhooks/registry",
      "/{repo}/webhooks/registry/{name}",
      "/{repo}/uploads/{path}",
      "/{repo}/admin/targets",
      "/{repo}/admin/bootstrap",
      "/{repo}/tasks/{id}",
      "/{repo}/log/checkpoint",
      "/{repo}/log/proof/inclusion",
      "/{repo}/attestations/{path}",
      "/{repo}/-/npm/v1/attestations/{spec}",
      "/{repo}/integrity/{project}/{version}/{filename}/provenance",
      "/admin/kek/reseal",
      "/{repo}/admin/quarantine",
      "/{repo}/admin/delegations",
      "/{repo}/admin/delegations/{name}",
    ]) {
      expect(json.paths[path], path).toBeDefined();
    }
    const webhook = json.paths["/{repo}/webhooks/registry"].post.requestBody.content["application/json"].schema;
    expect(webhook.properties.events.maxItems).toBe(1000);
    const add = webhook.properties.events.items.anyOf ?? webhook.properties.events.items.oneOf;
    expect(add.map((e: { properties: { type: { const: string } } }) => e.properties.type.const)).toEqual([
      "targets.add",
      "targets.remove",
      "targets.yank",
      "targets.unyank",
      "targets.quarantine",
      "targets.release",
      "attestations.add",
    ]);
    // The rules that JSON Schema cannot express travel as descriptions, from the same schemas.
    expect(add[0].properties.path.description).toMatch(/NFC.*no control, format or invisible characters/);
    expect(add[0].properties.custom.description).toMatch(/__proto__/);
    const delegation = json.paths["/{repo}/admin/delegations"].post.requestBody.content["application/json"].schema;
    expect(delegation.properties.paths.maxItems).toBe(64);
    const upload = json.paths["/{repo}/admin/targets/{path}"].put.parameters;
    expect(upload.find((p: { name: string; in: string }) => p.name === "path" && p.in === "query").required).toBe(true);
  });

  it("documents exactly the operations the app serves (no route undocumented, no documented route missing)", async () => {
    const { json } = await getJson("/openapi.json");
    // Hono's `:name{pattern}` is OpenAPI's `{name}`; the content-addressed bundle names its file `{sha256}.json`.
    const openApiPath = (path: string) =>
      path.replace(/:file\{\[0-9a-f\]\{64\}\\\.json\}/, "{sha256}.json").replace(/:([A-Za-z]+)(\{[^/]*\})?/g, "{$1}");
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL") // middleware
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(json.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    documented.add("GET /openapi.json"); // the document itself
    expect([...served].filter((op) => !documented.has(op)).sort(), "served but not documented").toEqual([]);
    expect([...documented].filter((op) => !served.has(op)).sort(), "documented but not served").toEqual([]);
  });

  it("serves the document's bytes with a strong ETag and a cache lifetime, and 304 for a matching If-None-Match", async () => {
    const first = await workerFetch(`${BASE}/openapi.json`);
    expect(first.status).toBe(200);
    expect(first.headers.get("Content-Type")).toBe("application/json");
    expect(first.headers.get("Cache-Control")).toBe(OPENAPI_CACHE_CONTROL);
    const bytes = new Uint8Array(await first.arrayBuffer());
    expect(new TextDecoder().decode(bytes)).toBe(JSON.stringify(openApiDocument));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const etag = `"${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
    expect(first.headers.get("ETag")).toBe(etag);

    const again = await workerFetch(`${BASE}/openapi.json`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(etag);
    expect(await again.text()).toBe("");
    const other = await workerFetch(`${BASE}/openapi.json`, { headers: { "If-None-Match": '"0000"' } });
    expect(other.status).toBe(200);
    expect(other.headers.get("ETag")).toBe(etag);
    await other.arrayBuffer();
  });
});
