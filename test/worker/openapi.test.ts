import { describe, expect, it } from "vitest";
import { getJson } from "./helpers.ts";

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
});
