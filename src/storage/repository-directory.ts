/**
 * The directory of existing repositories, kept in R2 beside what each
 * repository publishes: one marker object per repository,
 *   <repo>/repository.json   {"repository", "createdAt"}
 * written by the repository's Durable Object when the repository comes into
 * being (its online key is generated, on an authenticated admin call) and
 * never removed. The Worker reads it (through the edge cache) before it
 * addresses a Durable Object for an unauthenticated request, so a request
 * naming a repository that does not exist creates no object and no storage.
 */
export function markerKey(repo: string): string {
  return `${repo}/repository.json`;
}

/** Whether `repo` exists (one R2 metadata read). */
export async function inDirectory(bucket: R2Bucket, repo: string): Promise<boolean> {
  return (await bucket.head(markerKey(repo))) !== null;
}

/** Adds `repo` (idempotent: an existing marker keeps its creation time). */
export async function addToDirectory(bucket: R2Bucket, repo: string, now: Date): Promise<void> {
  if (await inDirectory(bucket, repo)) return;
  await bucket.put(markerKey(repo), JSON.stringify({ repository: repo, createdAt: now.toISOString() }), {
    httpMetadata: { contentType: "application/json" },
  });
}

/** Every repository with something published: the bucket's top-level prefixes. */
export async function listRepositories(bucket: R2Bucket): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ delimiter: "/", limit: 1000, ...(cursor ? { cursor } : {}) });
    names.push(...page.delimitedPrefixes.map((p) => p.slice(0, -1)));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return names;
}
