import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";
it("pings", async () => {
  const stub = env.REPOSITORY.getByName("x");
  expect(await stub.ping()).toBe(1);
  const r = await exports.default.fetch("http://x/");
  expect(await r.text()).toBe("ok");
});
