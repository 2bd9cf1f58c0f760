/** A target's page: its entry (digests, size, yank state), attestations in plain words, its bin, its log entries, and the browser's own check. */
import type { TargetFile } from "../tuf/targets.ts";
import type { AttestationSummary } from "./attestation-summary.ts";
import { bytesText } from "./format.ts";
import { Layout } from "./layout.tsx";
import type { TargetLogDocument } from "./site-status.ts";

export interface TargetProps {
  repo: string;
  path: string;
  entry: TargetFile | null;
  bin: { name: string; version: number; expires: string } | null;
  attestations: AttestationSummary[];
  log: TargetLogDocument | null;
  /** The SHA-256 of 1.root.json, the root the browser check starts from. */
  pinnedRoot: string;
  script: string;
}

function Field(props: { label: string; value: string | null; href?: string | null; code?: boolean }) {
  if (props.value === null) return null;
  const text = props.code ? <code>{props.value}</code> : props.value;
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.href ? <a href={props.href}>{text}</a> : text}</dd>
    </>
  );
}

/** Names people know for the predicate types registries use. */
const PREDICATE_NAMES: Record<string, string> = {
  "https://docs.pypi.org/attestations/publish/v1": "PyPI publish attestation",
  "https://slsa.dev/provenance/v1": "SLSA build provenance",
  "https://github.com/npm/attestation/tree/main/specs/publish/v0.1": "npm publish attestation",
};

function Attestation(props: { a: AttestationSummary; repo: string; n: number }) {
  const { a } = props;
  return (
    <article class="card" aria-labelledby={`att-${props.n}`}>
      <h3 id={`att-${props.n}`}>
        {(a.predicateType && PREDICATE_NAMES[a.predicateType]) ?? a.predicateType ?? "Attestation"}{" "}
        <span class="muted">({a.format})</span>
      </h3>
      {a.problem ? <p class="bad">Could not be read: {a.problem}</p> : null}
      <dl>
        <Field label="Publisher" value={a.publisherKind} />
        <Field label="Identity" value={a.identity} code />
        <Field label="OIDC issuer" value={a.issuer} code />
        <Field label="Source repository" value={a.sourceRepository} code />
        <Field label="Workflow" value={a.workflow} code />
        <Field label="Ref" value={a.ref} code />
        <Field label="Commit" value={a.commit} href={a.commitUrl} code />
        <Field label="Build run" value={a.runUrl} href={a.runUrl} code />
        <Field label="Trigger" value={a.trigger} />
        <Field label="Builder" value={a.builder} code />
        <Field label="Predicate type" value={a.predicateType} code />
        {a.subjects.map((s) => (
          <>
            <dt>Subject</dt>
            <dd>
              {s.name ? (
                <>
                  <code>{s.name}</code>{" "}
                </>
              ) : null}
              <span class="digest">{s.digest}</span>
            </dd>
          </>
        ))}
        <Field label="Signed at" value={a.signedAt} />
        <Field label="Rekor entry" value={a.rekorLogIndex} href={a.rekorUrl} />
        <dt>Stored as</dt>
        <dd>
          <a href={`/${props.repo}/attestation-bundles/${a.sha256}.json`} class="digest">
            {a.sha256}.json
          </a>
        </dd>
      </dl>
    </article>
  );
}

export function TargetPage(props: TargetProps) {
  const { entry } = props;
  const custom = (entry?.custom ?? {}) as { yanked?: unknown; yanked_reason?: unknown };
  const yanked = custom.yanked === true;
  return (
    <Layout title={props.path} repo={props.repo} section="targets" script={props.script}>
      <h1>
        <code>{props.path}</code>
      </h1>
      {entry === null ? (
        <p class="warn">This path is not in the repository's current metadata.</p>
      ) : (
        <section aria-labelledby="entry-title">
          <h2 id="entry-title">Signed entry</h2>
          <dl>
            <dt>Size</dt>
            <dd>
              {entry.length} bytes ({bytesText(entry.length)})
            </dd>
            {Object.entries(entry.hashes).map(([alg, hex]) => (
              <>
                <dt>{alg.toUpperCase()}</dt>
                <dd class="digest">{hex}</dd>
              </>
            ))}
            <dt>State</dt>
            <dd>
              {yanked ? (
                <>
                  <span class="badge bad">yanked</span>{" "}
                  {typeof custom.yanked_reason === "string" ? custom.yanked_reason : "(no reason given)"}
                </>
              ) : (
                <span class="badge ok">available</span>
              )}
            </dd>
            {props.bin ? (
              <>
                <dt>Signed by</dt>
                <dd>
                  hash bin <code>{props.bin.name}</code> version {props.bin.version}, valid until{" "}
                  <time datetime={props.bin.expires}>{props.bin.expires}</time>
                </dd>
              </>
            ) : null}
          </dl>
        </section>
      )}

      <section aria-labelledby="verify-title">
        <h2 id="verify-title">Check it in your browser</h2>
        <div
          id="verify"
          data-repo={props.repo}
          data-path={props.path}
          data-root-sha256={props.pinnedRoot}
          data-length={entry ? String(entry.length) : ""}
          data-hashes={entry ? JSON.stringify(entry.hashes) : ""}
          data-yanked={yanked ? "true" : "false"}
          data-log={JSON.stringify((props.log?.entries ?? []).map((e) => e.index))}
        >
          <p id="verify-status" role="status" aria-live="polite">
            Your browser can re-check this page's claims from the pinned root (SHA-256{" "}
            <code>{props.pinnedRoot.slice(0, 16)}…</code>) down to this entry and its log entries. This needs
            JavaScript; without it, nothing on this page is checked by your browser.
          </p>
          <ol id="verify-result" />
        </div>
      </section>

      <section aria-labelledby="attestations-title">
        <h2 id="attestations-title">Attestations</h2>
        {props.attestations.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          props.attestations.map((a, n) => <Attestation a={a} repo={props.repo} n={n} />)
        )}
      </section>

      <section aria-labelledby="history-title">
        <h2 id="history-title">Transparency log entries</h2>
        {!props.log || props.log.entries.length === 0 ? (
          <p class="muted">
            {props.entry
              ? // Listed: its entries may only be behind here (site-documents.ts writes them after each publish).
                "None on this page yet. The pages follow the log after each publish, so a target published moments ago, or by a large import, shows its entries here a little later."
              : "None published yet."}
          </p>
        ) : (
          <ul>
            {props.log.entries.map((e) => (
              <li>
                <a href={`/${props.repo}/log/?entry=${e.index}`}>entry {e.index}</a>: <code>{e.type}</code>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
}
