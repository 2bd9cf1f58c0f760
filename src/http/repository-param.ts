/** Validates the `:repo` path parameter and makes it a request variable. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "./problem.ts";

export const REPOSITORY_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const repositoryParam: MiddlewareHandler<AppEnv> = async (c, next) => {
  const repo = c.req.param("repo") ?? "";
  if (!REPOSITORY_NAME.test(repo)) {
    throw new ProblemError(404, {
      code: "invalid_repository",
      detail: "a repository name is 1-63 lower-case letters, digits and inner hyphens",
    });
  }
  c.set("repo", repo);
  await next();
};

export function repositoryStub(env: Env, repo: string) {
  return env.REPOSITORY.getByName(repo);
}
