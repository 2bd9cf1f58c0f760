import { describe, expect, it } from "vitest";
import { prefersRespondAsync } from "../../src/http/prefer.ts";

// One parser for pushes and admin target changes; the admin route used to match any
// substring ("x-respond-async-later" counted), pushes only the RFC 7240 token.
describe("Prefer: respond-async", () => {
  it("is the respond-async token among other preferences", () => {
    for (const prefer of [
      "respond-async",
      "respond-async, wait=10",
      "return=minimal, respond-async",
      "respond-async;x=1",
    ]) {
      expect(prefersRespondAsync(prefer), prefer).toBe(true);
    }
  });

  it("is not a substring of another token, nor an absent header", () => {
    for (const prefer of [undefined, "", "x-respond-async-later", "respond-asynchronously", "wait=10"]) {
      expect(prefersRespondAsync(prefer), String(prefer)).toBe(false);
    }
  });
});
