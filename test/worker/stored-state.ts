/**
 * What a repository object stores about targets and the log, and the bins it
 * publishes, in forms to compare between two repositories that took the same
 * targets in different ways (bulk-writes.test.ts, import-hold.test.ts).
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import type { Repository } from "../../durable-objects/repository.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { BASE, getJson, workerFetch } from "./helpers.ts";

/** A metadata-only target whose digest is its path's. */
export async function target(path: string, custom?: Record<string, unknown>) {
  return {
    path,
    length: path.length,
    hashes: { sha256: await sha256Hex(utf8(path)) },
    ...(custom ? { custom } : {}),
  };
}

/**
 * Every path's published digest (target-events.ts): a listed target's row,
 * else what published_digests kept when it was removed.
 */
export const PUBLISHED_DIGESTS = `SELECT path, length, hashes ->> '$.sha256' AS sha256, hashes ->> '$.sha512' AS sha512 FROM targets
  UNION ALL SELECT path, length, sha256, sha512 FROM published_digests d
    WHERE NOT EXISTS (SELECT 1 FROM targets t WHERE t.path = d.path)`;

/** What the object stores about targets and the log, in a form to compare. */
export function stored(repo: string) {
  return runInDurableObject(env.REPOSITORY.getByName(repo), (_i: Repository, state) => {
    const sql = state.storage.sql;
    const rows = (query: string) => JSON.stringify(sql.exec(query).toArray());
    const entries = sql
      .exec<{ entry: ArrayBuffer }>("SELECT entry FROM log_entries ORDER BY idx")
      .toArray()
      .map((r) => new TextDecoder().decode(r.entry).replace(`"repository":"${repo}"`, '"repository":"R"'))
      .filter((e) => e.includes('"type":"target.'));
    return {
      targets: rows("SELECT path, bin, length, hashes, custom, entry_canonical, entry_json FROM targets ORDER BY path"),
      digests: rows(`${PUBLISHED_DIGESTS} ORDER BY path`),
      entries,
      count: sql.exec<{ value: number }>("SELECT value FROM state WHERE key = 'targets_count'").one().value,
      counted: sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM targets").one().n,
    };
  });
}

/** The served text of the object after `key` in `text` (from its `{` to the matching `}`). */
function mapText(text: string, key: string): string {
  const start = text.indexOf(key) + key.length;
  let depth = 0;
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error(`no complete object after ${key}`);
}

/** Each published bin's signed `targets` map, as served (the bytes from its `{` to its `}`). */
export async function publishedMaps(repo: string): Promise<Map<string, string>> {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const { json: snapshot } = await getJson(
    `/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`,
  );
  const maps = new Map<string, string>();
  for (const [file, meta] of Object.entries(snapshot.signed.meta as Record<string, { version: number }>)) {
    if (file === "targets.json") continue;
    const text = await (await workerFetch(`${BASE}/${repo}/metadata/${meta.version}.${file}`)).text();
    maps.set(file, mapText(text, '"targets":'));
  }
  return maps;
}

/** The published timestamp's version, and the version of each role its snapshot lists (by file name). */
export async function publishedVersions(repo: string): Promise<{ timestamp: number; roles: Map<string, number> }> {
  const { json: ts } = await getJson(`/${repo}/metadata/timestamp.json`);
  const { json: snapshot } = await getJson(
    `/${repo}/metadata/${ts.signed.meta["snapshot.json"].version}.snapshot.json`,
  );
  const roles = new Map<string, number>();
  for (const [file, meta] of Object.entries(snapshot.signed.meta as Record<string, { version: number }>))
    roles.set(file, meta.version);
  return { timestamp: ts.signed.version, roles };
}
