/**
 * Step 4 of a log monitor run (log-monitor.ts): the served hash tiles
 * checked against what the monitor verified itself, so that proofs built
 * from them (by clients, by the service) would be right.
 */
import { type Hash, rootHash } from "../../src/log/merkle.ts";
import { encodeTile, subtreeHashesFromTiles, type Tile, tilePath } from "../../src/log/tiles.ts";
import { toHex } from "../../src/lib/bytes.ts";
import {
  type EntryBundle,
  type LogClient,
  LogHttpError,
  LogVerificationError,
  type VerifiedCheckpoint,
} from "./log-client.ts";
import type { CheckStatus, MonitorFinding } from "./log-monitor-report.ts";

/** Level-0 tiles of the downloaded bundles against their entries' leaf hashes; then the signed root from the tiles. */
export async function checkTiles(
  client: LogClient,
  cp: VerifiedCheckpoint,
  bundles: readonly EntryBundle[],
  leaves: ReadonlyArray<{ index: number; leaf: Hash }>,
  findings: MonitorFinding[],
): Promise<CheckStatus> {
  const fetched = new Map<string, Promise<Hash[]>>();
  const load = (tile: Tile): Promise<Hash[]> => {
    const path = tilePath(tile);
    let hashes = fetched.get(path);
    if (!hashes) {
      hashes = client.tile(tile);
      fetched.set(path, hashes);
    }
    return hashes;
  };
  const byIndex = new Map(leaves.map((l) => [l.index, l.leaf]));
  let failed = false;
  try {
    for (const bundle of bundles) {
      const hashes = await load(bundle.tile);
      const bad = hashes.findIndex((h, i) => toHex(h) !== toHex(byIndex.get(bundle.start + i) ?? new Uint8Array()));
      if (bad >= 0) {
        failed = true;
        findings.push({
          type: "tile_mismatch",
          severity: "alert",
          tile: tilePath(bundle.tile),
          detail: `hash ${bad} of ${tilePath(bundle.tile)} is not the leaf hash of entry ${bundle.start + bad}`,
        });
      }
    }
    const source = subtreeHashesFromTiles(cp.size, (tile) => load(tile).then(encodeTile));
    const fromTiles = toHex(await rootHash(source, cp.size));
    if (fromTiles !== cp.rootHashHex) {
      failed = true;
      findings.push({
        type: "tile_mismatch",
        severity: "alert",
        tile: "(root)",
        detail: `the tiles hash to ${fromTiles}, not to the signed root ${cp.rootHashHex}`,
      });
    }
  } catch (error) {
    if (!(error instanceof LogHttpError || error instanceof LogVerificationError)) throw error;
    findings.push({
      type: "tile_mismatch",
      severity: "alert",
      tile: "?",
      detail: `a tile the checkpoint needs cannot be downloaded: ${error.message}`,
    });
    return "unavailable";
  }
  return failed ? "failed" : "verified";
}
