/**
 * A frozen copy of the project for the instances to run from. `wrangler dev`
 * rebuilds and restarts the Worker whenever a source file changes (a restart
 * mid-measurement fails requests with "Your worker restarted mid-request"),
 * and a work tree others are editing may not even build at a given moment.
 * So by default the instances run the last commit (HEAD), extracted at the
 * start; `--worktree` copies the work tree as it is instead (uncommitted
 * edits included), `--live` runs in place. node_modules becomes a tree of
 * hard links: no bytes copied, yet an `npm install` in the work tree during
 * the run (which replaces files, and makes wrangler rebuild) leaves it alone.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../lib/local-instance.ts";

export type LocalInstanceModule = typeof import("../lib/local-instance.ts");

export type CodeSource = "head" | "worktree" | "live";

export interface ProjectCopy {
  root: string;
  source: CodeSource;
  /** What was run, e.g. "HEAD 204bb88". */
  description: string;
  /** How node_modules was provided to the copy. */
  nodeModules: "hard links" | "symlink" | "live";
  module: LocalInstanceModule;
}

const git = (...args: string[]) =>
  execFileSync("git", args, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });

async function copyWorkTree(root: string): Promise<number> {
  const listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0").filter(Boolean);
  let files = 0;
  for (const file of listed) {
    const from = join(PROJECT_ROOT, file);
    if (!existsSync(from)) continue; // deleted in the work tree
    await mkdir(dirname(join(root, file)), { recursive: true });
    await copyFile(from, join(root, file));
    files++;
  }
  return files;
}

/**
 * The project as `source` says; with `revision`, that commit (for a baseline
 * measured in the same run), extracted into `workDir/<folder>`.
 */
export async function freezeProject(
  workDir: string,
  source: CodeSource,
  revision = "HEAD",
  folder = "project",
): Promise<ProjectCopy> {
  if (source === "live") {
    return {
      root: PROJECT_ROOT,
      source,
      description: "the live work tree",
      nodeModules: "live",
      module: await import("../lib/local-instance.ts"),
    };
  }
  const root = join(workDir, folder);
  await mkdir(root, { recursive: true });
  let description: string;
  if (source === "head") {
    const commit = git("rev-parse", "--short", revision).trim();
    const tar = join(workDir, `${folder}.tar`);
    git("archive", "--format=tar", "-o", tar, revision);
    execFileSync("tar", ["-xf", tar, "-C", root]);
    await rm(tar);
    description =
      revision === "HEAD"
        ? `commit ${commit} (HEAD at the start of the run; uncommitted edits not included)`
        : `commit ${commit} (${revision})`;
  } else {
    const files = await copyWorkTree(root);
    description = `the work tree at the start of the run (${files} files, uncommitted edits included)`;
  }
  let nodeModules: ProjectCopy["nodeModules"] = "hard links";
  try {
    execFileSync("cp", ["-al", join(PROJECT_ROOT, "node_modules"), join(root, "node_modules")], { stdio: "ignore" });
  } catch {
    // Another file system (or no GNU cp): a symlink, which an npm install during the run can disturb.
    await rm(join(root, "node_modules"), { recursive: true, force: true });
    await symlink(join(PROJECT_ROOT, "node_modules"), join(root, "node_modules"), "dir");
    nodeModules = "symlink";
  }
  const module = (await import(pathToFileURL(join(root, "scripts/lib/local-instance.ts")).href)) as LocalInstanceModule;
  return { root, source, description, nodeModules, module };
}
