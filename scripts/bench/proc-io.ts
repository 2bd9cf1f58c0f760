/** /proc/<pid>/io read as text (proc(5)), no I/O here: what proc.ts processIo takes of it. */

/** wchar (bytes written by write system calls) and syscw (their number) of a /proc/<pid>/io text; null if either is missing. */
export function parseProcIo(text: string): { writeBytes: number; writeCalls: number } | null {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s*(\\d+)$`, "m").exec(text);
    return m ? Number(m[1]) : null;
  };
  const writeBytes = field("wchar");
  const writeCalls = field("syscw");
  return writeBytes === null || writeCalls === null ? null : { writeBytes, writeCalls };
}
