/** The transparency log: the checkpoint, its signatures, and an entry with its inclusion proof. */
import { targetHref } from "./format.ts";
import { Layout } from "./layout.tsx";

export interface LogEntryView {
  index: number;
  entry: string;
  path: string | null;
  leafHash: string;
  proof: string[];
  verified: boolean;
}

export interface LogPageProps {
  repo: string;
  checkpoint: {
    text: string;
    origin: string;
    size: number;
    rootHash: string;
    logSignature: "verified" | "failed" | "no key";
    cosignatures: Array<{ name: string; keyId: string; verified: boolean }>;
  } | null;
  /** The entry asked for, or why it cannot be shown. */
  entry: LogEntryView | { problem: string } | null;
  asked: string;
}

export function LogPage(props: LogPageProps) {
  const cp = props.checkpoint;
  return (
    <Layout title="Transparency log" repo={props.repo} section="log">
      <h1>Transparency log</h1>
      <p>
        Every change this repository publishes is an entry in an append-only Merkle log (RFC 6962), served as C2SP
        tiles. The log's key comes from the repository's signed targets metadata.
      </p>
      <section aria-labelledby="checkpoint-title">
        <h2 id="checkpoint-title">Latest checkpoint</h2>
        {cp ? (
          <>
            <dl>
              <dt>Origin</dt>
              <dd>
                <code>{cp.origin}</code>
              </dd>
              <dt>Size</dt>
              <dd>{cp.size} entries</dd>
              <dt>Root hash</dt>
              <dd class="digest">{cp.rootHash}</dd>
              <dt>Log signature</dt>
              <dd class={cp.logSignature === "verified" ? "ok" : "bad"}>{cp.logSignature}</dd>
              <dt>Witness cosignatures</dt>
              <dd>
                {cp.cosignatures.length === 0 ? (
                  "none"
                ) : (
                  <ul>
                    {cp.cosignatures.map((s) => (
                      <li>
                        <code>{s.name}</code> (key {s.keyId}):{" "}
                        <span class={s.verified ? "ok" : "warn"}>
                          {s.verified ? "verified" : "not by a configured witness"}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
            </dl>
            <h3>The signed note</h3>
            <pre>
              <code>{cp.text}</code>
            </pre>
          </>
        ) : (
          <p class="muted">No checkpoint yet.</p>
        )}
      </section>
      <section aria-labelledby="lookup-title">
        <h2 id="lookup-title">Look up an entry</h2>
        <form method="get" action={`/${props.repo}/log/`}>
          <label for="entry">Entry number</label>
          <input id="entry" name="entry" inputmode="numeric" pattern="[0-9]+" value={props.asked} />
          <button type="submit">Show with its inclusion proof</button>
        </form>
        {props.entry && "problem" in props.entry ? <p class="bad">{props.entry.problem}</p> : null}
        {cp && props.entry && !("problem" in props.entry) ? (
          <EntryView repo={props.repo} e={props.entry} size={cp.size} />
        ) : null}
      </section>
    </Layout>
  );
}

function EntryView(props: { repo: string; e: LogEntryView; size: number }) {
  const { e } = props;
  return (
    <article class="card" aria-labelledby="entry-title">
      <h3 id="entry-title">Entry {e.index}</h3>
      <pre>
        <code>{e.entry}</code>
      </pre>
      {e.path !== null ? (
        <p>
          About <a href={targetHref(props.repo, e.path)}>{e.path}</a>
        </p>
      ) : null}
      <dl>
        <dt>Leaf hash</dt>
        <dd class="digest">{e.leafHash}</dd>
        <dt>Inclusion</dt>
        <dd class={e.verified ? "ok" : "bad"}>
          {e.verified
            ? `verified against the checkpoint's root for size ${props.size}`
            : "the proof does not lead to the checkpoint's root"}
        </dd>
      </dl>
      <h4>Inclusion proof (leaf to root)</h4>
      <ol>
        {e.proof.map((h) => (
          <li class="digest">{h}</li>
        ))}
      </ol>
    </article>
  );
}
