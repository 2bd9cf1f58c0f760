/** Targets by path prefix, a page at a time. */
import { targetHref } from "./format.ts";
import { Layout } from "./layout.tsx";

export interface TargetsListProps {
  repo: string;
  prefix: string;
  paths: string[];
  /** The query string of the next page, or null. */
  next: string | null;
}

export function TargetsList(props: TargetsListProps) {
  return (
    <Layout title="Targets" repo={props.repo} section="targets">
      <h1>Targets</h1>
      <search>
        <form method="get" action={`/${props.repo}/-/targets`}>
          <label for="prefix">Path prefix</label>
          <input id="prefix" name="prefix" type="search" value={props.prefix} placeholder="e.g. packages/" />
          <button type="submit">Search</button>
        </form>
      </search>
      <p class="muted">
        {props.paths.length === 0
          ? "No target path starts with that."
          : `${props.paths.length} path(s)${props.prefix ? " starting with the prefix" : ""}${props.next ? " on this page" : ""}.`}
      </p>
      <ul>
        {props.paths.map((path) => (
          <li>
            <a href={targetHref(props.repo, path)}>
              <code>{path}</code>
            </a>
          </li>
        ))}
      </ul>
      {props.next ? (
        <p>
          <a href={`/${props.repo}/-/targets?${props.next}`} rel="next">
            Next page
          </a>
        </p>
      ) : null}
    </Layout>
  );
}
