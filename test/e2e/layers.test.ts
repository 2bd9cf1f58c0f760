/**
 * The folder table of docs/architecture.md is the rule for imports: every
 * relative import in src/, durable-objects/ and scripts/ must go to the same
 * folder or to one its row names.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/local-instance.ts";

function folderOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "src") return parts.length > 2 ? `src/${parts[1]}/` : "src/*.ts";
  return `${parts[0]}/`;
}

function allowedImports(): Map<string, Set<string>> {
  const doc = readFileSync(join(PROJECT_ROOT, "docs/architecture.md"), "utf8");
  const table = doc.slice(doc.indexOf("<!-- layers:begin -->"), doc.indexOf("<!-- layers:end -->"));
  const rules = new Map<string, Set<string>>();
  for (const line of table.split("\n").filter((l) => l.startsWith("| `"))) {
    const [, folder = "", , allowed = ""] = line.split("|").map((cell) => cell.trim());
    rules.set(folder.replaceAll("`", ""), new Set([...allowed.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "")));
  }
  return rules;
}

describe("layers", () => {
  it("every relative import follows docs/architecture.md's folder table", () => {
    const rules = allowedImports();
    expect(rules.size).toBeGreaterThan(10);
    const files = execFileSync("git", ["ls-files", "src", "durable-objects", "scripts"], { cwd: PROJECT_ROOT })
      .toString()
      .split("\n")
      .filter((f) => /\.tsx?$/.test(f));
    const broken: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      const allowed = rules.get(from);
      const text = readFileSync(join(PROJECT_ROOT, file), "utf8");
      for (const [, spec = ""] of text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g)) {
        const to = folderOf(normalize(join(dirname(file), spec)));
        if (to !== from && !allowed?.has(to)) broken.push(`${file} imports ${spec} (${from} -> ${to})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every RPC method of a Durable Object class declares its return type (the contract callers compile against)", () => {
    const untyped: string[] = [];
    for (const file of ["durable-objects/repository.ts", "durable-objects/sigstore-trust.ts"]) {
      const lines = readFileSync(join(PROJECT_ROOT, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        // A public method starts at the class's indentation: `  name(` or `  async name(` (not #private, not the constructor).
        const method = /^ {2}(?:async )?([A-Za-z]\w*)\(/.exec(line);
        if (!method || method[1] === "constructor") return;
        // The signature runs until its parentheses close and a line ends with the body's `{`.
        const open = (text: string) => text.split("(").length - text.split(")").length;
        let signature = line;
        for (let j = i + 1; (open(signature) > 0 || !signature.trimEnd().endsWith("{")) && j < lines.length; j++)
          signature += lines[j];
        if (!/\)\s*:\s*\S[\s\S]*\{\s*$/.test(signature)) untyped.push(`${file}:${i + 1} ${method[1]}`);
      });
    }
    expect(untyped).toEqual([]);
  });
  /**
   * Each SQL text handed to `exec` in src/ and durable-objects/, with where
   * it is. A `${NAME}` in it is replaced by the text of the string constant
   * NAME, wherever in those folders it is defined (a join written once, as
   * `roles LEFT JOIN reserved_versions …`, is a join in every statement that
   * names it); any other interpolation stays as it is.
   */
  function statements(): Array<{ at: string; sql: string }> {
    const files = execFileSync("git", ["ls-files", "src", "durable-objects"], { cwd: PROJECT_ROOT })
      .toString()
      .split("\n")
      .filter((f) => /\.ts$/.test(f));
    const texts = files.map((file) => ({ file, text: readFileSync(join(PROJECT_ROOT, file), "utf8") }));
    const constants = new Map<string, string>();
    for (const { text } of texts)
      for (const m of text.matchAll(/\bconst ([A-Z][A-Z0-9_]*) = (`[^`]*`|"(?:[^"\\]|\\.)*");/g))
        constants.set(m[1] ?? "", (m[2] ?? "").slice(1, -1));
    const resolve = (sql: string) => {
      let out = sql;
      // Constants built from constants: a few rounds resolve them.
      for (let round = 0; round < 4; round++)
        out = out.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (whole, name: string) => constants.get(name) ?? whole);
      return out;
    };
    const found: Array<{ at: string; sql: string }> = [];
    for (const { file, text } of texts) {
      for (const m of text.matchAll(/\.exec(?:<[^>(]*>)?\(\s*(`[^`]*`|"(?:[^"\\]|\\.)*")/g)) {
        const line = text.slice(0, m.index).split("\n").length;
        found.push({ at: `${file}:${line}`, sql: resolve((m[1] ?? "").slice(1, -1)).replace(/\s+/g, " ") });
      }
    }
    return found;
  }

  it("no SQL statement binds its LIMIT or OFFSET (workerd would prepare it again on every run: durable-objects/stable-plans.ts)", () => {
    const all = statements();
    expect(all.length).toBeGreaterThan(150);
    const bound = all.filter((s) => /\b(?:LIMIT|OFFSET)\s+(?:\?|:\w|@\w|\$\w)/i.test(s.sql));
    expect(bound.map((s) => `${s.at}: ${s.sql}`)).toEqual([]);
  });

  it("no statement that asks for an order compares a column to a bare ? (write = +?: durable-objects/stable-plans.ts)", () => {
    // ORDER BY (not an aggregate's own), GROUP BY, DISTINCT, a join, or a lone MIN or MAX (which SQLite plans as ORDER BY … LIMIT 1).
    const ordered =
      /\bORDER BY\b|\bGROUP BY\b|\bDISTINCT\b|\bJOIN\b|\bSELECT\s+(?:MIN|MAX)\(\s*[\w.]+\s*\)(?:\s+AS\s+\w+)?\s+FROM\b/i;
    const planned = statements().filter((s) => ordered.test(s.sql.replace(/\([^()]*\bORDER BY[^()]*\)/gi, "")));
    expect(planned.length).toBeGreaterThan(20);
    const bare = planned.filter((s) => /(?<![<>!])=\s*\?|\bIS\s+\?/i.test(s.sql));
    expect(bare.map((s) => `${s.at}: ${s.sql}`)).toEqual([]);
  });
});
