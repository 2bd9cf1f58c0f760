/**
 * A small Worker of the bench's own, run by the same `wrangler dev` (and so
 * the same workerd and local simulators) as tuf-edge: a baseline inside the
 * same runtime (trivial-worker.ts) or a probe of one of its parts
 * (sections/local-r2.ts). Its folder holds a wrangler.toml, one module and
 * a link to the node_modules wrangler runs from.
 */
import { copyFile, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../lib/local-instance.ts";
import type { LocalInstance } from "../lib/local-instance.ts";
import type { LocalInstanceModule } from "./snapshot.ts";

export interface ScratchWorker {
  /** Folder name under the work folder, and the Worker's name. */
  name: string;
  /** The module's source (an ES module with a default export). */
  script: string;
  /** wrangler.toml lines after name, main and compatibility_date (bindings). */
  toml?: string;
}

export async function startScratchWorker(
  workDir: string,
  worker: ScratchWorker,
  /** The node_modules to run wrangler from (the frozen copy's, so both instances run the same wrangler). */
  nodeModules: string = join(PROJECT_ROOT, "node_modules"),
): Promise<{ instance: LocalInstance; root: string }> {
  const root = join(workDir, worker.name);
  await mkdir(join(root, "scripts/lib"), { recursive: true });
  const projectToml = await readFile(join(PROJECT_ROOT, "wrangler.toml"), "utf8").catch(() => "");
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(projectToml)?.[1] ?? "2026-11-01";
  await writeFile(join(root, "package.json"), JSON.stringify({ name: worker.name, private: true, type: "module" }));
  await writeFile(
    join(root, "wrangler.toml"),
    `name = "${worker.name}"\nmain = "worker.js"\ncompatibility_date = "${compatibilityDate}"\n${worker.toml ?? ""}`,
  );
  await writeFile(join(root, "worker.js"), worker.script);
  // The instance helper computes the project root from its own place: give it one here.
  for (const helper of ["local-instance.ts", "port-owner.ts"]) {
    await copyFile(join(PROJECT_ROOT, "scripts/lib", helper), join(root, "scripts/lib", helper));
  }
  await symlink(nodeModules, join(root, "node_modules"), "dir");
  const module = (await import(pathToFileURL(join(root, "scripts/lib/local-instance.ts")).href)) as LocalInstanceModule;
  const instance = await module.startLocalInstance({ persistTo: join(root, "state"), secrets: module.randomSecrets() });
  return { instance, root };
}
