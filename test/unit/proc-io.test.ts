/**
 * The bench's reading of a process's writes (scripts/bench/proc-io.ts): the
 * scale table's write rows for the process that runs the object come from
 * /proc/<pid>/io, parsed here.
 */
import { describe, expect, it } from "vitest";
import { parseProcIo } from "../../scripts/bench/proc-io.ts";

/** /proc/<pid>/io as Linux writes it (proc(5)). */
const SAMPLE = `rchar: 1541328092
wchar: 1827649654
syscr: 376468
syscw: 841851
read_bytes: 2322432
write_bytes: 69632
cancelled_write_bytes: 0
`;

describe("parseProcIo", () => {
  it("reads wchar and syscw, not the storage layer's write_bytes", () => {
    expect(parseProcIo(SAMPLE)).toEqual({ writeBytes: 1_827_649_654, writeCalls: 841_851 });
  });

  it("is null when a field is missing or not a number", () => {
    expect(parseProcIo(SAMPLE.replace(/^syscw:.*$/m, ""))).toBeNull();
    expect(parseProcIo(SAMPLE.replace(/^wchar: \d+$/m, "wchar: n/a"))).toBeNull();
    expect(parseProcIo("")).toBeNull();
  });

  it("does not take a field whose name only ends like one (e.g. a longer name)", () => {
    expect(parseProcIo("xwchar: 5\nsyscw: 1\n")).toBeNull();
  });
});
