/** The frame of every page: landmarks, navigation, the stylesheet and (on target pages) the verifying script. */
import type { Child } from "hono/jsx";
import { STYLES } from "./styles.ts";

export type Section = "overview" | "targets" | "log";

export interface LayoutProps {
  title: string;
  repo: string;
  section: Section;
  children: Child;
  /** A module script's URL (same origin). */
  script?: string;
}

export function Layout(props: LayoutProps) {
  const links: Array<[Section, string, string]> = [
    ["overview", `/${props.repo}/`, "Overview"],
    ["targets", `/${props.repo}/-/targets`, "Targets"],
    ["log", `/${props.repo}/log/`, "Transparency log"],
  ];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · ${props.repo} · tuf-edge`}</title>
        {/* A constant of this module, never pushed data: the one raw insertion. */}
        <style dangerouslySetInnerHTML={{ __html: STYLES }} />
        {props.script ? <script type="module" src={props.script} /> : null}
      </head>
      <body>
        <header>
          <a class="brand" href={`/${props.repo}/`}>
            tuf-edge · {props.repo}
          </a>
          <nav aria-label="Repository">
            <ul>
              {links.map(([section, href, label]) => (
                <li>
                  <a href={href} aria-current={section === props.section ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        </header>
        <main id="main">{props.children}</main>
        <footer>
          Served by tuf-edge from the repository's published files. Machine-readable:{" "}
          <a href={`/${props.repo}/metadata/timestamp.json`}>timestamp.json</a>,{" "}
          <a href={`/${props.repo}/log/checkpoint`}>log checkpoint</a>, <a href="/openapi.json">OpenAPI</a>.
        </footer>
      </body>
    </html>
  );
}
