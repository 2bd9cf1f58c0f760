/**
 * PyPI's naming rules, as its Integrity API applies them to decide whether
 * `/integrity/{project}/{version}/{filename}/provenance` names one file:
 *  - project names compare after PEP 503 normalisation (lower case, runs of
 *    `-`, `_` and `.` become one `-`);
 *  - a file's project and version come from its name: a wheel is
 *    `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl` (the binary
 *    distribution format spec), an sdist `{name}-{version}.tar.gz` (or the
 *    legacy `.zip`), the name being everything before the last `-` that
 *    precedes the version;
 *  - versions compare after PEP 440 normalisation (lower case, no leading
 *    `v`, spelled-out pre-release and post-release markers made canonical,
 *    leading zeros of numbers dropped, and trailing `.0` release segments
 *    dropped, as `packaging.utils.canonicalize_version` does).
 */

/** PEP 503: `Foo.Bar__baz` and `foo-bar-baz` are the same project. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

const PRE = { a: "a", alpha: "a", b: "b", beta: "b", c: "rc", rc: "rc", pre: "rc", preview: "rc" } as const;

/**
 * PEP 440 normal form of a version, for comparison only; null for a string
 * that is not a PEP 440 version.
 */
export function canonicalVersion(version: string): string | null {
  const match = VERSION.exec(version.trim().toLowerCase());
  const g = match?.groups;
  if (!g) return null;
  const number = (text: string | undefined) => String(Number(text || "0"));
  const parts = (g.release ?? "0").split(".").map(number);
  while (parts.length > 1 && parts[parts.length - 1] === "0") parts.pop();
  let out = g.epoch && Number(g.epoch) !== 0 ? `${Number(g.epoch)}!` : "";
  out += parts.join(".");
  if (g.pre) out += `${PRE[g.pre as keyof typeof PRE]}${number(g.preN)}`;
  if (g.postN1 !== undefined || g.post) out += `.post${number(g.postN1 ?? g.postN2)}`;
  if (g.dev) out += `.dev${number(g.devN)}`;
  if (g.local) out += `+${g.local.replace(/[-_]/g, ".")}`;
  return out;
}

/** PEP 440's permissive version syntax (its appendix regular expression, in our words). */
const VERSION = new RegExp(
  [
    "^v?",
    "(?:(?<epoch>\\d+)!)?",
    "(?<release>\\d+(?:\\.\\d+)*)",
    "(?:[-_.]?(?<pre>alpha|beta|preview|pre|a|b|c|rc)[-_.]?(?<preN>\\d*))?",
    "(?:-(?<postN1>\\d+)|[-_.]?(?<post>post|rev|r)[-_.]?(?<postN2>\\d*))?",
    "(?:[-_.]?(?<dev>dev)[-_.]?(?<devN>\\d*))?",
    "(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$",
  ].join(""),
);

/** The project and version a distribution file's name declares, or null if it is neither a wheel nor an sdist name. */
export function distributionOf(filename: string): { project: string; version: string } | null {
  if (filename.endsWith(".whl")) {
    const parts = filename.slice(0, -4).split("-");
    if (parts.length !== 5 && parts.length !== 6) return null;
    const [project, version] = parts;
    if (!project || !version) return null;
    return { project, version };
  }
  const base = filename.endsWith(".tar.gz")
    ? filename.slice(0, -7)
    : filename.endsWith(".zip")
      ? filename.slice(0, -4)
      : undefined;
  if (base === undefined) return null;
  // The version is what follows the last "-" whose remainder is a version.
  for (let at = base.lastIndexOf("-"); at > 0; at = base.lastIndexOf("-", at - 1)) {
    const version = base.slice(at + 1);
    if (canonicalVersion(version) !== null) return { project: base.slice(0, at), version };
  }
  return null;
}

/** Whether `filename` is a distribution of `project` at `version`, by PyPI's rules. */
export function fileMatchesRelease(filename: string, project: string, version: string): boolean {
  const dist = distributionOf(filename);
  if (!dist) return false;
  const want = canonicalVersion(version);
  return (
    normalizeProjectName(dist.project) === normalizeProjectName(project) &&
    want !== null &&
    canonicalVersion(dist.version) === want
  );
}
