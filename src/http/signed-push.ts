/** Reads the Standard Webhooks headers of a registry push; a push without them is refused (401). */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { SignedPush } from "../repository-api.ts";
import { WebhookHeadersSchema } from "../schemas/webhook.ts";
import { prefersRespondAsync } from "./prefer.ts";
import { ProblemError } from "./problem.ts";

export function signedPush(c: Context<AppEnv>, body: string): SignedPush {
  const headers = WebhookHeadersSchema.safeParse({
    "webhook-id": c.req.header("webhook-id"),
    "webhook-timestamp": c.req.header("webhook-timestamp"),
    "webhook-signature": c.req.header("webhook-signature"),
  });
  if (!headers.success) {
    const missing = headers.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ProblemError(401, { code: "unsigned", detail: `a push carries Standard Webhooks headers (${missing})` });
  }
  return {
    id: headers.data["webhook-id"],
    timestamp: headers.data["webhook-timestamp"],
    signature: headers.data["webhook-signature"],
    body,
    // RFC 7240: "Prefer: respond-async" asks for 202 and a task to poll instead of waiting.
    respondAsync: prefersRespondAsync(c.req.header("Prefer")),
  };
}

/** The HTTP response for an accepted push. */
export function pushResponse(
  c: Context<AppEnv>,
  result: { status: 200 | 202; task: { id: string }; duplicate: boolean },
) {
  const location = `/${c.get("repo")}/tasks/${result.task.id}`;
  c.header("Location", location);
  c.header("Cache-Control", "no-store");
  if (result.status === 202) c.header("Preference-Applied", "respond-async");
  return c.json({ task: result.task, duplicate: result.duplicate }, result.status);
}
