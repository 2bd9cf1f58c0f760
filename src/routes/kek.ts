/**
 * Key-encryption key rotation: where sealed secrets stand, and re-sealing them
 * under the current KEK, bounded per request and resumable (each request
 * continues where the last one stopped, since every sealed value records its KEK).
 *   GET  /{repo}/admin/kek, POST /{repo}/admin/kek/reseal   one repository
 *   GET  /admin/kek,        POST /admin/kek/reseal          every repository in the bucket
 * A re-seal is refused (409 kek_unknown) before anything changes if any sealed
 * value names a KEK that KEY_ENCRYPTION_KEY does not hold.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { adminAuth } from "../http/admin-auth.ts";
import { ProblemError } from "../http/problem.ts";
import { repositoryStub } from "../repository-stub.ts";
import { unwrap } from "../http/unwrap.ts";
import type { KekStatus } from "../repository-api.ts";
import { describeIssues } from "../schemas/issues.ts";
import { ResealSchema } from "../schemas/kek.ts";
import { listRepositories } from "../storage/repository-directory.ts";

/** Sealed values re-sealed per request unless asked otherwise. */
const DEFAULT_BUDGET = 100;

const auth = adminAuth({ token: (env) => env.ADMIN_TOKEN });

async function bodyBudget(c: Context<AppEnv>): Promise<number> {
  const text = await c.req.text();
  if (!text.trim()) return DEFAULT_BUDGET;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProblemError(400, { code: "invalid_request", detail: "the body is not JSON" });
  }
  const parsed = ResealSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProblemError(400, {
      code: "invalid_request",
      detail: `invalid json: ${describeIssues(parsed.error)}`,
    });
  }
  return parsed.data?.budget ?? DEFAULT_BUDGET;
}

/** One repository's routes, under /{repo}/admin/kek (the admin router authenticates). */
export const repositoryKek = new Hono<AppEnv>()
  .get("/", async (c) => c.json(unwrap(await repositoryStub(c.env, c.get("repo")).kekStatus()).kek))
  .post("/reseal", async (c) => {
    const budget = await bodyBudget(c);
    const { resealed, kek } = unwrap(await repositoryStub(c.env, c.get("repo")).resealSecrets(budget));
    return c.json({ resealed, ...kek, done: kek.remaining === 0 });
  });

type RepositoryKek = KekStatus & { repository: string };

async function everyStatus(env: Env): Promise<RepositoryKek[]> {
  const repos = await listRepositories(env.BUCKET);
  return Promise.all(
    repos.map(async (repository) => ({ repository, ...unwrap(await repositoryStub(env, repository).kekStatus()).kek })),
  );
}

function summary(repositories: RepositoryKek[]) {
  return {
    current: repositories[0]?.current ?? null,
    remaining: repositories.reduce((n, r) => n + r.remaining, 0),
    repositories,
  };
}

/** Service-wide routes, under /admin/kek; each route authenticates on its own (a repository may be called "admin"). */
export const serviceKek = new Hono<AppEnv>()
  .get("/", auth, async (c) => c.json(summary(await everyStatus(c.env))))
  .post("/reseal", auth, async (c) => {
    let budget = await bodyBudget(c);
    const statuses = await everyStatus(c.env);
    const unknown = statuses.filter((r) => r.unconfigured.length > 0);
    if (unknown.length > 0) {
      throw new ProblemError(409, {
        code: "kek_unknown",
        detail: `sealed values name key-encryption keys that KEY_ENCRYPTION_KEY does not hold: ${unknown
          .map((r) => `${r.repository} (${r.unconfigured.map((id) => `"${id}"`).join(", ")})`)
          .join("; ")}; add them back to the key ring before re-sealing`.slice(0, 2000),
      });
    }
    let resealed = 0;
    const after: RepositoryKek[] = [];
    for (const status of statuses) {
      if (status.remaining === 0 || budget === 0) {
        after.push(status);
        continue;
      }
      const step = unwrap(await repositoryStub(c.env, status.repository).resealSecrets(budget));
      resealed += step.resealed;
      budget -= Math.min(budget, step.resealed);
      after.push({ repository: status.repository, ...step.kek });
    }
    const result = summary(after);
    return c.json({ resealed, ...result, done: result.remaining === 0 });
  });
