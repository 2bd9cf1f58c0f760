/**
 * Pages for people, rendered on the server from what the repository published
 * in R2 (src/pages): no page view reaches the Durable Object.
 *   GET /{repo}/                     overview (/{repo} redirects to it)
 *   GET /{repo}/-/targets?prefix=P   targets by path prefix
 *   GET /{repo}/-/target/{path}      one target, checked again by the browser
 *   GET /{repo}/log/?entry=N         the transparency log, an entry's inclusion proof
 *   GET /-/assets/verify-{hash}.js   the target page's script (immutable)
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { IMMUTABLE, notModified } from "../http/edge-cache.ts";
import { ProblemError } from "../http/problem.ts";
import { validate } from "../http/validate.ts";
import { parseCheckpoint } from "../log/checkpoint.ts";
import { parseNote } from "../log/note.ts";
import { summarizeAttestation } from "../pages/attestation-summary.ts";
import { LogPage } from "../pages/log-page.tsx";
import { checkpointView, entryView, logVerifierKey } from "../pages/log-view.ts";
import { Overview } from "../pages/overview.tsx";
import { Published, type PublishedFile } from "../pages/published.ts";
import { resolveTarget, topLevel } from "../pages/resolve.ts";
import { htmlPage } from "../pages/respond.ts";
import { SITE_STATUS, type SiteStatus, siteTargetName, type TargetLogDocument } from "../pages/site-status.ts";
import { TargetPage } from "../pages/target.tsx";
import { TargetsList } from "../pages/targets-list.tsx";
import { VERIFY_SCRIPT, VERIFY_SCRIPT_SHA256 } from "../pages/verify-script.generated.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { fromHex, toHex } from "../lib/bytes.ts";
import { sha256Hex } from "../lib/digest.ts";

export const VERIFY_SCRIPT_URL = `/-/assets/verify-${VERIFY_SCRIPT_SHA256.slice(0, 16)}.js`;

const notPublished = (repo: string) =>
  new ProblemError(404, { code: "not_found", detail: `repository "${repo}" has not published anything yet` });

async function fileSha256(file: PublishedFile): Promise<string> {
  return file.sha256 ?? sha256Hex(file.bytes);
}

async function siteStatus(c: Context<AppEnv>, published: Published): Promise<SiteStatus> {
  const status = await published.json<SiteStatus>(published.site(SITE_STATUS));
  if (!status) throw notPublished(c.get("repo"));
  return status;
}

async function firstRootSha256(c: Context<AppEnv>, published: Published): Promise<string> {
  const root = await published.metadata("1.root.json");
  if (!root) throw notPublished(c.get("repo"));
  return fileSha256(root);
}

const ListQuery = z
  .object({
    prefix: z
      .string()
      .max(1024)
      .refine((p) => !/\p{Cc}/u.test(p), "no control characters")
      .default(""),
    cursor: z.string().max(2048).optional(),
  })
  .strict();

const LogQuery = z
  .object({
    entry: z
      .union([
        z.literal(""),
        z.coerce
          .number()
          .int()
          .min(0)
          .max(2 ** 53 - 1),
      ])
      .optional(),
  })
  .strict();

export const pageAssets = new Hono<AppEnv>().get(VERIFY_SCRIPT_URL.slice("/-/assets".length), (c) => {
  const response = c.body(VERIFY_SCRIPT, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": IMMUTABLE,
    ETag: `"${VERIFY_SCRIPT_SHA256}"`,
    "X-Content-Type-Options": "nosniff",
  });
  return notModified(c, response) ?? response;
});

/** GET /{repo}/ (mounted by the app with the repository parameter's middleware). */
export async function overview(c: Context<AppEnv>): Promise<Response> {
  const repo = c.get("repo");
  const published = new Published(c);
  const [status, top, firstSha, checkpointFile] = await Promise.all([
    siteStatus(c, published),
    topLevel(published),
    firstRootSha256(c, published),
    published.log("checkpoint", true),
  ]);
  if (!top || !status.roles.root) throw notPublished(repo);
  const rootFile = await published.metadata(`${status.roles.root.version}.root.json`);
  if (!rootFile) throw notPublished(repo);
  const root = JSON.parse(new TextDecoder().decode(rootFile.bytes)) as {
    signed: { roles: { root: { keyids: string[]; threshold: number } } };
  };
  let checkpoint = null;
  if (checkpointFile) {
    const note = parseNote(new TextDecoder().decode(checkpointFile.bytes));
    const parsed = parseCheckpoint(note.text);
    checkpoint = {
      size: parsed.size,
      rootHash: toHex(parsed.rootHash),
      cosignatures: note.signatures.filter((s) => s.name !== parsed.origin).length,
    };
  }
  return htmlPage(
    c,
    Overview({
      repo,
      baseUrl: new URL(c.req.url).origin,
      now: Date.now(),
      status,
      timestamp: { version: top.timestamp.version, expires: top.timestamp.expires },
      root: {
        version: status.roles.root.version,
        sha256: await fileSha256(rootFile),
        threshold: root.signed.roles.root.threshold,
        keys: root.signed.roles.root.keyids.length,
      },
      firstRootSha256: firstSha,
      checkpoint,
    }),
  );
}

export const pages = new Hono<AppEnv>()
  .get("/", (c) => c.redirect(`/${c.get("repo")}/`, 301))
  .get("/-/targets", validate("query", ListQuery), async (c) => {
    const { prefix, cursor } = c.req.valid("query");
    const published = new Published(c);
    const page = await published.bucket.listSiteTargets(prefix, { limit: 100, cursor });
    return htmlPage(
      c,
      TargetsList({
        repo: c.get("repo"),
        prefix,
        paths: page.paths,
        next: page.cursor ? new URLSearchParams({ prefix, cursor: page.cursor }).toString() : null,
      }),
    );
  })
  .get("/-/target/:path{.+}", async (c) => {
    const repo = c.get("repo");
    const parsed = TargetPathSchema.safeParse(c.req.param("path"));
    if (!parsed.success) throw new ProblemError(404, { code: "not_found", detail: "not a target path" });
    const path = parsed.data;
    const published = new Published(c);
    const [top, firstSha, log] = await Promise.all([
      topLevel(published),
      firstRootSha256(c, published),
      published.json<TargetLogDocument>(published.site(siteTargetName(path))),
    ]);
    if (!top) throw notPublished(repo);
    const resolved = await resolveTarget(published, top, path);
    const entry = resolved?.entry ?? null;
    const listed = ((entry?.custom as { attestations?: Array<{ sha256: string }> } | undefined)?.attestations ?? [])
      .map((a) => a.sha256)
      .filter((sha) => /^[0-9a-f]{64}$/.test(sha));
    const attestations = await Promise.all(
      listed.map(async (sha) => {
        const file = await published.attestation(sha);
        return summarizeAttestation(sha, file?.bytes ?? new Uint8Array());
      }),
    );
    return htmlPage(
      c,
      TargetPage({
        repo,
        path,
        entry,
        bin: resolved ? { name: resolved.bin, version: resolved.binVersion, expires: resolved.binExpires } : null,
        attestations,
        log,
        pinnedRoot: firstSha,
        script: VERIFY_SCRIPT_URL,
      }),
      entry || log ? 200 : 404,
    );
  });

export const logPage = new Hono<AppEnv>().get("/", validate("query", LogQuery), async (c) => {
  const repo = c.get("repo");
  const { entry } = c.req.valid("query");
  const published = new Published(c);
  const [top, checkpointFile, status] = await Promise.all([
    topLevel(published),
    published.log("checkpoint", true),
    published.json<SiteStatus>(published.site(SITE_STATUS)),
  ]);
  const checkpoint = checkpointFile
    ? await checkpointView(new TextDecoder().decode(checkpointFile.bytes), logVerifierKey(top), status?.witnesses ?? [])
    : null;
  let shown: Parameters<typeof LogPage>[0]["entry"] = null;
  if (typeof entry === "number") {
    if (!checkpoint || entry >= checkpoint.size) {
      shown = { problem: `entry ${entry} is not in the checkpoint's tree (size ${checkpoint?.size ?? 0})` };
    } else {
      shown = await entryView(published, entry, checkpoint.size, fromHex(checkpoint.rootHash));
    }
  }
  return htmlPage(c, LogPage({ repo, checkpoint, entry: shown, asked: entry === undefined ? "" : String(entry) }));
});
