/**
 * Every relative link in the project's Markdown leads somewhere: to a file
 * that exists and, with a `#fragment`, to a heading of that file, as GitHub
 * names headings (docs/measured.md alone has some 150 of them, and its
 * paragraphs move between it and README.md).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/local-instance.ts";

/** Markdown without its fenced code blocks, where a `](…)` is not a link. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, "");

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, "")
    .replaceAll(" ", "-");
}

/** A file's heading anchors; a repeated heading's later ones end in -1, -2, … */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, text = ""] of prose(markdown).matchAll(/^#{1,6}\s+(.*?)\s*#*$/gm)) {
    const anchor = headingAnchor(text);
    const n = seen.get(anchor) ?? 0;
    seen.set(anchor, n + 1);
    anchors.add(n === 0 ? anchor : `${anchor}-${n}`);
  }
  return anchors;
}

function brokenLinks(file: string, read: (path: string) => string | null): string[] {
  const source = read(file) ?? "";
  const broken: string[] = [];
  for (const [, target = ""] of prose(source).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path = "", fragment] = target.split("#");
    const linked = path === "" ? file : normalize(join(dirname(file), decodeURIComponent(path)));
    const text = linked.endsWith(".md") ? read(linked) : existsSync(join(PROJECT_ROOT, linked)) ? "" : null;
    if (text === null) broken.push(`${file}: ${target} (no such file)`);
    else if (fragment && linked.endsWith(".md") && !anchorsOf(text).has(fragment))
      broken.push(`${file}: ${target} (no such heading)`);
  }
  return broken;
}

const readProjectFile = (path: string) =>
  existsSync(join(PROJECT_ROOT, path)) ? readFileSync(join(PROJECT_ROOT, path), "utf8") : null;

describe("links between the project's documents", () => {
  it("names headings as GitHub does", () => {
    expect(headingAnchor("The object on a core of its own (`--pin`)")).toBe("the-object-on-a-core-of-its-own---pin");
    expect(headingAnchor("2,000 targets/s at 16,384 bins, 2026-12-03 late night")).toBe(
      "2000-targetss-at-16384-bins-2026-12-03-late-night",
    );
    expect(headingAnchor("README's goal table until be7c859")).toBe("readmes-goal-table-until-be7c859");
  });

  it("finds a link to a missing file or heading", () => {
    const files: Record<string, string> = {
      "docs/a.md": "# One\n## One\n[ok](b.md#two) [dup](#one-1) [no](b.md#three) [gone](c.md) [up](../README.md)",
      "docs/b.md": "# Two\n```\n[not a link](nowhere.md)\n# not a heading\n```",
    };
    const read = (path: string) => files[path] ?? readProjectFile(path);
    expect(brokenLinks("docs/a.md", read)).toEqual([
      "docs/a.md: b.md#three (no such heading)",
      "docs/a.md: c.md (no such file)",
    ]);
    expect(brokenLinks("docs/b.md", read)).toEqual([]);
  });

  it("every relative link in the committed Markdown leads to a file and heading that exist", () => {
    const files = execFileSync("git", ["ls-files", "*.md"], { cwd: PROJECT_ROOT })
      .toString()
      .split("\n")
      .filter(Boolean);
    expect(files).toContain("docs/measured.md");
    expect(files.flatMap((file) => brokenLinks(file, readProjectFile))).toEqual([]);
  });
});
