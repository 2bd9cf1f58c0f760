/**
 * A round's snapshot signed from its `meta` members as text and as UTF-8
 * bytes (src/tuf/assembled.ts, signJoined): the members as SQLite joins them
 * for 16,384 bins (snapshot-parts.ts), about 560 KB. Before bddba44 they came
 * as a string and were copied through the canonical text, its replace and
 * the envelope's text before their UTF-8; since, they come as bytes and are
 * copied once. Run in this Node (its V8, not workerd's), on the same members
 * and key, taking turns.
 *
 *   node scripts/bench/snapshot-sign.ts [--bins N] [--rounds R]
 *
 * Prints ms per snapshot for each form, the ratio, and checks that both
 * make the same bytes.
 */
import { parseArgs } from "node:util";
import { joinMembers, signJoined, versionMember } from "../../src/tuf/assembled.ts";
import { bytesEqual, utf8 } from "../../src/lib/bytes.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { snapshot } from "../../src/tuf/snapshot.ts";

const { values } = parseArgs({
  options: { bins: { type: "string", default: "16384" }, rounds: { type: "string", default: "100" } },
});
const bins = Number(values.bins);
const rounds = Number(values.rounds);
const signer = await Ed25519Signer.fromSeed(new Uint8Array(32).fill(7));
const width = Math.max(1, Math.ceil(Math.log2(bins) / 4));
const members = [versionMember("targets.json", 5)];
for (let i = 0; i < bins; i++)
  members.push(versionMember(`bins-${i.toString(16).padStart(width, "0")}.json`, 1000 + i));
const text = joinMembers(members).canonical as string;
const bytes = utf8(text);
const { meta: _meta, ...header } = snapshot(9, "2030-01-01T00:00:00Z", []) as unknown as Record<string, unknown>;

const forms = { text: { canonical: text, json: text }, bytes: { canonical: bytes, json: bytes } };
const made = {
  text: (await signJoined(header, "meta", forms.text, [signer])).bytes,
  bytes: (await signJoined(header, "meta", forms.bytes, [signer])).bytes,
};
if (!bytesEqual(made.text, made.bytes)) throw new Error("the two forms made different snapshots");
const ms = { text: [] as number[], bytes: [] as number[] };
for (let turn = 0; turn < 6; turn++) {
  for (const form of turn % 2 === 0 ? (["text", "bytes"] as const) : (["bytes", "text"] as const)) {
    const start = performance.now();
    for (let i = 0; i < rounds / 6; i++) await signJoined(header, "meta", forms[form], [signer]);
    ms[form].push((performance.now() - start) / (rounds / 6));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(`snapshot of ${bins.toLocaleString("en-US")} bins: ${made.bytes.length.toLocaleString("en-US")} bytes`);
for (const form of ["text", "bytes"] as const)
  console.log(`members as ${form.padEnd(5)}: ${median(ms[form]).toFixed(2)} ms per snapshot (median of 6 turns)`);
console.log(`bytes ÷ text: ${(median(ms.bytes) / median(ms.text)).toFixed(2)}`);
