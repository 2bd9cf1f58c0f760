import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { SPEC_VERSION } from "../../src/tuf/metadata.ts";
import { timestamp } from "../../src/tuf/timestamp.ts";
import { REPOSITORY_DATA_SNAPSHOT, REPOSITORY_DATA_TIMESTAMP } from "./fixtures/python-tuf.ts";
import { envelopeOf } from "./helpers.ts";

describe("timestamp", () => {
  it("pins snapshot.json by version, length and sha256 as python-tuf's repository_data timestamp.json does", async () => {
    // The published timestamp names the published snapshot.json file: 515 bytes,
    // sha256 8f88e2ba…; hashing the file's exact bytes must give the same values.
    const snapshotBytes = utf8(REPOSITORY_DATA_SNAPSHOT);
    const published = envelopeOf(REPOSITORY_DATA_TIMESTAMP, "timestamp");
    const ours = timestamp(1, "2030-01-01T00:00:00Z", {
      version: 1,
      length: snapshotBytes.length,
      sha256: await sha256Hex(snapshotBytes),
    });
    expect({ ...ours, spec_version: "1.0.0" }).toEqual(published.signed);
  });

  it("has the shape the specification gives", () => {
    expect(timestamp(5, "2030-01-01T00:00:00Z", { version: 4, length: 10, sha256: "ab".repeat(32) })).toEqual({
      _type: "timestamp",
      spec_version: SPEC_VERSION,
      version: 5,
      expires: "2030-01-01T00:00:00Z",
      meta: { "snapshot.json": { version: 4, length: 10, hashes: { sha256: "ab".repeat(32) } } },
    });
  });
});
