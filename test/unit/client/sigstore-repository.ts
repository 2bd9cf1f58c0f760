/// <reference types="vite/client" />
/**
 * Serves the checked-in copy of Sigstore's public-good TUF repository
 * (test/fixtures/sigstore-tuf, see its README) in its published layout, to
 * the client under test: `N.root.json` for the roots that existed at that
 * moment, `timestamp.json`, `V.snapshot.json`, `V.targets.json`, and
 * `targets/<sha256>.<name>`. Edits let a test serve something else.
 */
import { sha256Hex } from "../../../src/lib/digest.ts";
import { utf8 } from "../../../src/lib/bytes.ts";
import type { FetchFile } from "../../../src/tuf/client/updater.ts";

const files = import.meta.glob<string>("../../fixtures/sigstore-tuf/**/*.json", {
  query: "?raw",
  import: "default",
  eager: true,
});

function file(path: string): Uint8Array<ArrayBuffer> {
  const text = files[`../../fixtures/sigstore-tuf/${path}`];
  if (text === undefined) throw new Error(`no fixture ${path}`);
  return utf8(text);
}

/** The two published states checked in, by the date of their timestamp (each with the delegated role registry.npmjs.org). */
export const STATES = {
  /** root-signing 9fbb2f32: root v12, timestamp v397 (expires 2025-07-09T19:23:27Z), trusted_root.json without Rekor v2 or a TSA. */
  "2025-07-02": {
    root: 12,
    targets: ["trusted_root.json", "registry.npmjs.org/keys.json"],
    during: new Date("2025-07-03T00:00:00Z"),
  },
  /** root-signing 60cf2ce8: root v15, timestamp v762 (expires 2026-08-28T19:25:56Z), the trusted_root.json tuf-edge bundles. */
  "2026-08-21": {
    root: 15,
    targets: ["trusted_root.json", "signing_config.v0.2.json", "registry.npmjs.org/keys.json"],
    during: new Date("2026-08-22T00:00:00Z"),
  },
} as const;
export type State = keyof typeof STATES;

/** The first root the fixtures hold: tests pin it as their first trust. */
export const FIRST_ROOT = 5;

export function root(version: number): Uint8Array<ArrayBuffer> {
  return file(`roots/${version}.root.json`);
}

export function stateFile(state: State, name: string): Uint8Array<ArrayBuffer> {
  return file(`${state}/${name}`);
}

export interface Served {
  /** Replaces a published file's bytes (by its published name, e.g. "timestamp.json" or "targets/trusted_root.json"). */
  edits?: Record<string, Uint8Array<ArrayBuffer>>;
}

/** A FetchFile serving one published state, and the names it was asked for. */
export async function serve(state: State, served: Served = {}): Promise<{ fetchFile: FetchFile; asked: string[] }> {
  const published = new Map<string, Uint8Array<ArrayBuffer>>();
  for (let v = FIRST_ROOT; v <= STATES[state].root; v++) published.set(`${v}.root.json`, root(v));
  published.set("timestamp.json", stateFile(state, "timestamp.json"));
  const snapshot = stateFile(state, "snapshot.json");
  const targets = stateFile(state, "targets.json");
  const version = (bytes: Uint8Array) =>
    (JSON.parse(new TextDecoder().decode(bytes)) as { signed: { version: number } }).signed.version;
  published.set(`${version(snapshot)}.snapshot.json`, snapshot);
  published.set(`${version(targets)}.targets.json`, targets);
  const delegated = stateFile(state, "registry.npmjs.org.json");
  published.set(`${version(delegated)}.registry.npmjs.org.json`, delegated);
  for (const name of STATES[state].targets) {
    const original = stateFile(state, `targets/${name}`);
    const bytes = served.edits?.[`targets/${name}`] ?? original;
    const slash = name.lastIndexOf("/");
    published.set(`targets/${name.slice(0, slash + 1)}${await sha256Hex(original)}.${name.slice(slash + 1)}`, bytes);
  }
  for (const [name, bytes] of Object.entries(served.edits ?? {})) {
    if (!name.startsWith("targets/")) published.set(name, bytes);
  }
  const asked: string[] = [];
  const fetchFile: FetchFile = async (kind, name, maxLength) => {
    const key = kind === "target" ? `targets/${name}` : name;
    asked.push(key);
    const bytes = published.get(key);
    if (!bytes) return null;
    if (bytes.length > maxLength) throw new Error(`${key}: longer than ${maxLength} bytes`);
    return bytes;
  };
  return { fetchFile, asked };
}
