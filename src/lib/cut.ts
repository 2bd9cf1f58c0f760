/**
 * Cutting a sequence into consecutive runs under two caps: a number of items
 * and a total size. Used for step packs (storage/bin-pack.ts) and the
 * site-documents queue's messages and calls (pages/site-document-messages.ts).
 */

/**
 * `items`, in order, as runs of at most `count` items whose `size`s add up to
 * at most `bytes`; an item larger than `bytes` alone is a run of its own.
 */
export function cutRuns<T>(items: Iterable<T>, count: number, bytes: number, size: (item: T) => number): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let total = 0;
  for (const item of items) {
    const n = size(item);
    if (run.length > 0 && (run.length === count || total + n > bytes)) {
      runs.push(run);
      run = [];
      total = 0;
    }
    run.push(item);
    total += n;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
