/**
 * Which process listens on a local TCP port, as Linux's /proc tells it.
 *
 * `startLocalInstance` chooses a free port, then starts wrangler on it. Another
 * process can bind that port in between (another test file's instance, or
 * anything that asks the kernel for a free port), and then its server, not
 * ours, answers the readiness probe. Answering is not enough: the listening
 * socket must belong to the process we started or one of its descendants.
 */
import { readFile, readdir, readlink } from "node:fs/promises";

/**
 * Whether the socket listening on 127.0.0.1:`port` is held by `pid` or a
 * process descended from it; `false` when another process holds it or none
 * does; `undefined` where /proc cannot say (not Linux), so callers fall back
 * to trusting the answer.
 */
export async function listenerBelongsTo(port: number, pid: number): Promise<boolean | undefined> {
  const inode = await listeningInode(port);
  if (inode === undefined) return undefined;
  if (inode === null) return false;
  const wanted = `socket:[${inode}]`;
  for (const member of await processTree(pid)) {
    const fds = await readdir(`/proc/${member}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${member}/fd/${fd}`).catch(() => "")) === wanted) return true;
    }
  }
  return false;
}

/** /proc/net/tcp's local address for 127.0.0.1:`port`: the address's bytes as a little-endian machine prints them, then the port. */
function procAddress(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** The inode of the listening socket on 127.0.0.1:`port`; null if none listens; undefined without /proc. */
async function listeningInode(port: number): Promise<string | null | undefined> {
  let table: string;
  try {
    table = await readFile("/proc/net/tcp", "utf8");
  } catch {
    return undefined;
  }
  const address = procAddress(port);
  for (const line of table.split("\n").slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const fields = line.trim().split(/\s+/);
    if (fields[1] === address && fields[3] === "0A") return fields[9] ?? null; // 0A: TCP_LISTEN
  }
  return null;
}

/** `pid` and every process descended from it, from each process's parent in /proc/<pid>/stat. */
async function processTree(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}
