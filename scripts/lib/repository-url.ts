/** Where a repository lives under a tuf-edge service (no Node APIs: the workerd tests use it too). */

/** A repository's URL under a service's base URL (with or without a trailing slash). */
export function repositoryUrl(baseUrl: string, repo: string): string {
  return `${baseUrl.replace(/\/$/, "")}/${repo}`;
}
