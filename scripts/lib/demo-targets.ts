/**
 * The demo repository's targets: small files with fixed bytes (so their
 * URLs are the same on every machine), one of them a real .tgz package.
 */
import { gzipSync } from "node:zlib";

export interface DemoTarget {
  path: string;
  bytes: Uint8Array<ArrayBuffer>;
}

const text = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

/** 2026-01-01T00:00:00Z, the modification time of every file in the demo package. */
const MTIME = 1_767_225_600;

export function demoTargets(): DemoTarget[] {
  const packageJson = JSON.stringify(
    { name: "demo", version: "1.0.0", description: "A demo package served by tuf-edge" },
    null,
    2,
  );
  return [
    { path: "hello/hello-world.txt", bytes: text("Hello, world! Served by tuf-edge, verified by your TUF client.\n") },
    {
      path: "packages/demo-1.0.0.tgz",
      bytes: tgz([
        { name: "package/package.json", content: text(`${packageJson}\n`) },
        {
          name: "package/README.md",
          content: text("# demo 1.0.0\n\nA package downloaded and verified through TUF.\n"),
        },
      ]),
    },
  ];
}

/** A gzipped ustar archive of regular files (names up to 100 bytes). */
function tgz(files: { name: string; content: Uint8Array }[]): Uint8Array<ArrayBuffer> {
  const blocks: Uint8Array[] = [];
  for (const file of files) {
    blocks.push(tarHeader(file.name, file.content.length));
    blocks.push(file.content, new Uint8Array((512 - (file.content.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024)); // end of archive: two zero blocks
  return new Uint8Array(gzipSync(Buffer.concat(blocks)));
}

function tarHeader(name: string, size: number): Uint8Array {
  const header = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string) => {
    if (Buffer.byteLength(value) > length) throw new RangeError(`tar field too long: ${value}`);
    header.write(value, offset, length, "utf8");
  };
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, "0")}\0`;
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8)); // uid
  put(116, 8, octal(0, 8)); // gid
  put(124, 12, octal(size, 12));
  put(136, 12, octal(MTIME, 12));
  put(148, 8, " ".repeat(8)); // checksum: counted as spaces while summing
  put(156, 1, "0"); // regular file
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}
