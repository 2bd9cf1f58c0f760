/** The repository overview: trusted root and pinning, role freshness, recent changes, the log head, warnings. */
import { relative, shortDate, targetHref } from "./format.ts";
import { Layout } from "./layout.tsx";
import type { SiteStatus } from "./site-status.ts";
import { Timeline, type TimelineRow } from "./timeline.tsx";

export interface OverviewProps {
  repo: string;
  baseUrl: string;
  now: number;
  status: SiteStatus;
  timestamp: { version: number; expires: string };
  root: { version: number; sha256: string; threshold: number; keys: number };
  firstRootSha256: string;
  checkpoint: { size: number; rootHash: string; cosignatures: number } | null;
}

const CHANGE_WORDS: Record<string, string> = {
  "target.add": "added",
  "target.remove": "removed",
  "target.yank": "yanked",
  "target.unyank": "unyanked",
  "attestation.add": "attestation added to",
  "root.change": "root changed to version",
};

function timelineRows(props: OverviewProps): TimelineRow[] {
  const { roles } = props.status;
  const rows: TimelineRow[] = [];
  if (roles.root) rows.push({ role: "root", version: roles.root.version, expires: roles.root.expires });
  for (const name of ["targets", "snapshot", "timestamp"] as const) {
    const r = roles[name];
    if (r) rows.push({ role: name, version: r.version, expires: r.expires, nextResign: r.nextResign });
  }
  const bins = roles.bins as { name?: string; version: number; expires: string; nextResign?: string } | null;
  if (bins)
    rows.push({
      role: `${bins.name ?? "bins"} (soonest bin)`,
      version: bins.version,
      expires: bins.expires,
      nextResign: bins.nextResign,
    });
  return rows;
}

export function Overview(props: OverviewProps) {
  const { repo, status, now } = props;
  const rows = timelineRows(props);
  const metadataUrl = `${props.baseUrl}/${repo}/metadata`;
  return (
    <Layout title="Overview" repo={repo} section="overview">
      <h1>Repository {repo}</h1>
      <p>
        {status.targetsCount} targets in {status.bins} hash bins. Timestamp version {props.timestamp.version}, expires{" "}
        <time datetime={props.timestamp.expires}>{relative(props.timestamp.expires, now)}</time>.
      </p>
      {status.warnings.length > 0 || status.openCeremony ? (
        <section class="card warnings" aria-labelledby="warnings-title">
          <h2 id="warnings-title" class="warn">
            Warnings
          </h2>
          <ul>
            {status.openCeremony ? (
              <li>
                A root ceremony is open ({status.openCeremony.kind}, root version {status.openCeremony.rootVersion});
                its draft expires <time datetime={status.openCeremony.expiresAt}>{status.openCeremony.expiresAt}</time>.
              </li>
            ) : null}
            {status.warnings.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </section>
      ) : (
        <p class="ok">No warnings: every role is fresh and nothing is pending.</p>
      )}

      <section aria-labelledby="root-title">
        <h2 id="root-title">Trusted root</h2>
        <dl>
          <dt>Current root</dt>
          <dd>
            version {props.root.version}: {props.root.threshold} of {props.root.keys} root keys must sign a change
          </dd>
          <dt>Its SHA-256</dt>
          <dd class="digest">{props.root.sha256}</dd>
          <dt>Root 1 SHA-256</dt>
          <dd class="digest">{props.firstRootSha256}</dd>
        </dl>
        <h3>Pin it in a client</h3>
        <p>
          Download the first root, check its SHA-256 against the one above (and against one you got from the
          repository's owners another way), and give it to your TUF client as its trusted root. The client then follows
          every later root itself.
        </p>
        <pre>
          <code>{`curl -so root.json ${metadataUrl}/1.root.json
sha256sum root.json   # ${props.firstRootSha256}
# tuf-js: new Updater({ metadataDir, metadataBaseUrl: "${metadataUrl}", targetBaseUrl: "${props.baseUrl}/${repo}/targets", … })`}</code>
        </pre>
      </section>

      <section aria-labelledby="roles-title">
        <h2 id="roles-title">Roles: version, expiry and next re-sign</h2>
        <p class="muted">
          A bar runs from now to the role's expiry; the red mark is its next re-sign. Every online role is re-signed
          before it expires.
        </p>
        <Timeline rows={rows} now={now} />
        <section class="table" tabindex={0} aria-label="Roles, scrollable">
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Version</th>
                <th scope="col">Expires</th>
                <th scope="col">Next re-sign</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <th scope="row">{r.role}</th>
                  <td>{r.version}</td>
                  <td>
                    <time datetime={r.expires}>{shortDate(r.expires)}</time>
                    <br />
                    <span class="muted">{relative(r.expires, now)}</span>
                  </td>
                  <td>
                    {r.nextResign ? <time datetime={r.nextResign}>{relative(r.nextResign, now)}</time> : "by ceremony"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </section>

      <section aria-labelledby="find-title">
        <h2 id="find-title">Find a target</h2>
        <search>
          <form method="get" action={`/${repo}/-/targets`}>
            <label for="prefix">Path or prefix</label>
            <input id="prefix" name="prefix" type="search" placeholder="e.g. packages/" />
            <button type="submit">Search</button>
          </form>
        </search>
      </section>

      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent changes</h2>
        {status.recent.length === 0 ? (
          <p class="muted">None yet.</p>
        ) : (
          <ul>
            {status.recent.map((change) => (
              <li>
                <a href={`/${repo}/log/?entry=${change.index}`}>#{change.index}</a>{" "}
                {CHANGE_WORDS[change.type] ?? change.type}{" "}
                {change.path !== undefined ? (
                  <a href={targetHref(repo, change.path)}>
                    <code>{change.path}</code>
                  </a>
                ) : (
                  change.version
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="log-title">
        <h2 id="log-title">Transparency log</h2>
        {props.checkpoint ? (
          <dl>
            <dt>Size</dt>
            <dd>{props.checkpoint.size} entries</dd>
            <dt>Root hash</dt>
            <dd class="digest">{props.checkpoint.rootHash}</dd>
            <dt>Witness cosignatures</dt>
            <dd>{props.checkpoint.cosignatures}</dd>
          </dl>
        ) : (
          <p class="muted">No checkpoint yet.</p>
        )}
        <p>
          <a href={`/${repo}/log/`}>The log's checkpoint, cosignatures and inclusion proofs</a>
        </p>
      </section>
    </Layout>
  );
}
