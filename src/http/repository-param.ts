/** Validates the `:repo` path parameter and makes it a request variable. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { REPOSITORY_NAME } from "../schemas/repository-name.ts";
import { ProblemError } from "./problem.ts";

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
