/** Shared setup for the workerd tests: a client wired to the Worker under test. */
import { env, exports } from "cloudflare:workers";
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";

export const BASE = "https://tuf-edge.test";

/** Calls the Worker under test in-process. */
export function workerFetch(input: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(input, init));
}

export function adminClient(repo: string): AdminClient {
  return new AdminClient({ baseUrl: BASE, repo, token: env.ADMIN_TOKEN, fetch: workerFetch });
}

export async function rootSigners(n: number): Promise<Ed25519Signer[]> {
  return Promise.all(Array.from({ length: n }, async () => (await Ed25519Signer.generate()).signer));
}

/** A bootstrapped repository with `bins` bins, root signed 2-of-3. */
export async function bootstrapped(repo: string, settings: Record<string, unknown> = { bins: 16 }) {
  const client = adminClient(repo);
  const signers = await rootSigners(3);
  const result = await bootstrapRepository(client, { rootSigners: signers.slice(0, 2), threshold: 2, settings });
  return { client, signers, ...result };
}

export async function getJson<T = any>(path: string, init?: RequestInit): Promise<{ response: Response; json: T }> {
  const response = await workerFetch(BASE + path, init);
  return { response, json: (await response.json()) as T };
}

export function sha256OfText(text: string) {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}
