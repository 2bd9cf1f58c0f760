/**
 * What a V8 heap snapshot (Inspector.heapSnapshot, the .heapsnapshot JSON
 * DevTools saves) holds, by kind: the bytes of the objects of each
 * constructor, of strings, of compiled code, of V8's internal arrays. Self
 * sizes only (an object's own bytes, not what it keeps alive), summed as
 * DevTools' "Summary" view sums its "Shallow Size" column. A stop-the-world
 * major collection (workerd runs V8 without incremental marking) marks every
 * live object, so these are what each such pause walks.
 */

/** The parts of the snapshot's JSON this reads. */
export interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

export interface HeapKind {
  /** The constructor's name for objects, else V8's kind in parentheses: "(string)", "(code)", "(array)", … */
  name: string;
  count: number;
  bytes: number;
}

export interface HeapSummary {
  /** Every node's self size. */
  totalBytes: number;
  nodes: number;
  /** Heaviest first. */
  kinds: HeapKind[];
}

const STRING_TYPES = new Set(["string", "concatenated string", "sliced string"]);

/** The heaviest `limit` kinds of `snapshot` and its totals. */
export function summarizeHeap(snapshot: HeapSnapshotJson, limit = 25): HeapSummary {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const at = (field: string) => {
    const i = fields.indexOf(field);
    if (i < 0) throw new Error(`the heap snapshot's nodes have no "${field}" field`);
    return i;
  };
  const [typeAt, nameAt, sizeAt] = [at("type"), at("name"), at("self_size")];
  const types = snapshot.snapshot.meta.node_types[typeAt];
  if (!Array.isArray(types)) throw new Error("the heap snapshot does not list its node types");
  const byKind = new Map<string, HeapKind>();
  let totalBytes = 0;
  const { nodes, strings } = snapshot;
  for (let i = 0; i + width <= nodes.length; i += width) {
    const type = String(types[nodes[i + typeAt] as number]);
    const size = nodes[i + sizeAt] as number;
    const name = type === "object" ? (strings[nodes[i + nameAt] as number] ?? "(unnamed)") : kindOf(type);
    totalBytes += size;
    const kind = byKind.get(name) ?? { name, count: 0, bytes: 0 };
    kind.count++;
    kind.bytes += size;
    byKind.set(name, kind);
  }
  const kinds = [...byKind.values()].sort((a, b) => b.bytes - a.bytes).slice(0, limit);
  return { totalBytes, nodes: nodes.length / width, kinds };
}

function kindOf(type: string): string {
  return STRING_TYPES.has(type) ? "(string)" : `(${type})`;
}

/** What allocation sampling (Inspector.stopAllocationSampling) reads: a tree of stacks with their own bytes. */
export interface AllocationTree {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocationTree[];
}

export interface AllocationSite {
  /** The allocating frame and up to two callers, innermost last: "caller > caller > frame". */
  path: string;
  /** Where the frame is: the script's file name and line (1-based), or "" for the runtime's own. */
  where: string;
  bytes: number;
}

/**
 * The `limit` stacks (cut to their innermost three frames) that allocated
 * the most bytes, heaviest first, and the bytes of all of them.
 */
export function heaviestAllocations(head: AllocationTree, limit = 20): { totalBytes: number; sites: AllocationSite[] } {
  const sites = new Map<string, AllocationSite>();
  let totalBytes = 0;
  const walk = (node: AllocationTree, stack: string[]) => {
    const name = node.callFrame.functionName || "(anonymous)";
    const here = node === head ? stack : [...stack, name];
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      const path = here.slice(-3).join(" > ") || "(root)";
      const file = node.callFrame.url.split("/").pop() ?? "";
      const where = file ? `${file}:${node.callFrame.lineNumber + 1}` : "";
      const key = `${path}\u0000${where}`;
      const site = sites.get(key) ?? { path, where, bytes: 0 };
      site.bytes += node.selfSize;
      sites.set(key, site);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(head, []);
  return { totalBytes, sites: [...sites.values()].sort((a, b) => b.bytes - a.bytes).slice(0, limit) };
}
