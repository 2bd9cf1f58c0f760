/**
 * A round's last step (publisher.ts, step 5): once its timestamp is stored,
 * its staged versions become current, COMMIT_PART roles at a time. Each part
 * is one synchronous block, so one transaction: the part's files are
 * appended to the transparency log (a `metadata.publish` entry each), the
 * files they replace are recorded as superseded (superseded-files.ts), and
 * their versions are made current (RoleTable.commitStaged). Between two
 * parts the object answers what waits (turns.ts). After the last part the
 * round ends (RoleTable.endRound) and the tasks it publishes are told.
 *
 * Made current in one block, a full re-sign of 16,384 bins held the object
 * for 65–87 ms of CPU in two bench profiles, every push and task poll
 * waiting meanwhile; in parts, its longest run was 28–30 ms
 * (docs/measured.md, "A round made current in parts").
 *
 * The round is marked committing (RoleTable.startCommit) in the block that
 * records its timestamp as staged. A step that finds it so, after an
 * invocation died between two parts, continues here and never signs
 * another snapshot or timestamp for the round. Nothing stages a role while
 * a round commits (only a round's steps stage, one at a time), so the parts
 * are the round's staged roles in name order, and the log lists their files
 * in the order one block listed them.
 */
import { encodeMetadataEntry } from "../src/log/entry.ts";
import type { PublishedVersions } from "../src/repository-api.ts";
import type { RoleTable } from "./role-table.ts";
import type { SupersededFiles } from "./superseded-files.ts";
import type { TransparencyLog } from "./transparency-log.ts";
import type { Turns } from "./turns.ts";

/**
 * Roles made current in one block: a sixteenth of a full re-sign's 16,387
 * (about 5 ms of the object's CPU at the 65–87 ms those took in one block),
 * in 17 parts.
 */
export const COMMIT_PART = 1_024;

export interface RoundCommitDeps {
  roles: RoleTable;
  log: Pick<TransparencyLog, "appendMany">;
  superseded: Pick<SupersededFiles, "recordReplaced">;
  turns: Pick<Turns, "next">;
  repo: string;
  now: () => Date;
  /** The versions now current (Publisher.versions). */
  versions: () => PublishedVersions;
  /** Called in the block that ends the round, with its versions and the change sequence it published. */
  committed: (versions: PublishedVersions, seq: number) => void;
}

/**
 * Makes the committing round's staged versions current, a part per block,
 * the first part in the caller's block (no wait before it); returns the
 * files this call made current (a round resumed after a died invocation
 * counts only its remaining parts).
 */
export async function commitRound(deps: RoundCommitDeps): Promise<number> {
  const { roles } = deps;
  let files = 0;
  for (;;) {
    const part = roles.stagedFiles(COMMIT_PART);
    if (part.length === 0) break;
    const through = (part[part.length - 1] as (typeof part)[number]).role;
    deps.log.appendMany(
      part.map((file) => ({ type: "metadata.publish" as const, repository: deps.repo, ...file })),
      encodeMetadataEntry,
    );
    deps.superseded.recordReplaced(deps.now().getTime(), through);
    roles.commitStaged(through);
    files += part.length;
    if (part.length < COMMIT_PART) break;
    await deps.turns.next();
  }
  roles.endRound();
  deps.committed(deps.versions(), roles.publishedSeq());
  return files;
}
