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
