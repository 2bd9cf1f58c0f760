/** The Worker's way to a repository: the RPC stub of its Durable Object (the contract is src/repository-api.ts). */
export function repositoryStub(env: Env, repo: string): ReturnType<Env["REPOSITORY"]["getByName"]> {
  return env.REPOSITORY.getByName(repo);
}
