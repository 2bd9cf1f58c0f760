import { describe, expect, it } from "vitest";
import { DelegationSpecSchema } from "../../src/schemas/delegations.ts";

const key = { keytype: "ed25519", scheme: "ed25519", keyval: { public: "ab".repeat(32) } };
const offline = { name: "acme", paths: ["@acme/*"], signing: "offline", keys: [key], threshold: 1, metadata: "{}" };

describe("a delegation's request: terminating", () => {
  it("an online delegation is not terminating unless asked", () => {
    expect(DelegationSpecSchema.parse({ name: "acme", paths: ["@acme/*"] }).terminating).toBe(false);
    expect(DelegationSpecSchema.parse({ name: "acme", paths: ["@acme/*"], terminating: true }).terminating).toBe(true);
  });

  it("an offline delegation is terminating by default", () => {
    expect(DelegationSpecSchema.parse(offline).terminating).toBe(true);
    expect(DelegationSpecSchema.parse({ ...offline, terminating: true }).terminating).toBe(true);
  });

  it("refuses a non-terminating offline delegation, saying why", () => {
    const parsed = DelegationSpecSchema.safeParse({ ...offline, terminating: false });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([
      "an offline delegation is terminating: otherwise a path its owners never listed would be looked up in the online-signed bins",
    ]);
  });
});
