/**
 * The deployment's Sigstore trust material, kept fresh through TUF: one
 * Durable Object (named "sigstore") that runs tuf-edge's own TUF client
 * (src/tuf/client) against Sigstore's TUF repository on the cron, and keeps,
 * in its storage, the client's trusted metadata and the verified
 * `trusted_root.json` and `signing_config.v0.2.json` targets. Repositories
 * ask it for the trusted root when they verify attestations. A refresh that
 * fails changes nothing that was trusted; until one succeeds, the
 * public-good trusted root bundled with tuf-edge is used (first trust).
 */
import { DurableObject } from "cloudflare:workers";
import { sigstoreTrustedRoot } from "../src/attestations/policy.ts";
import { npmAttestationKeys } from "../src/attestations/trusted-root.ts";
import { fromUtf8, utf8 } from "../src/lib/bytes.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import type { TrustedFiles } from "../src/tuf/client/trusted-metadata.ts";
import { downloadTarget, type FetchFile, findTarget, updateMetadata } from "../src/tuf/client/updater.ts";
import { InvalidMetadataError, TufError } from "../src/tuf/errors.ts";
import type { MetricFamily } from "../src/metrics/prometheus.ts";
import { logEvent } from "../src/structured-log.ts";
import { httpFetchFile } from "./capped-fetch.ts";
import { sourceFromEnv, sourceId, type TufSource } from "./sigstore-trust-source.ts";

/**
 * The targets kept: trusted_root.json is required; the signing configuration
 * and the npm registry's keys (a target of the delegated role
 * registry.npmjs.org) are kept when listed.
 */
const TRUSTED_ROOT = "trusted_root.json";
const SIGNING_CONFIG = "signing_config.v0.2.json";
const NPM_KEYS = "registry.npmjs.org/keys.json";

/** How often the cron's call refreshes: hourly after a success, every 5 minutes after a failure. */
const AFTER_SUCCESS_MS = 3_600_000;
const AFTER_FAILURE_MS = 300_000;

interface StoredTarget {
  sha256: string;
  text: string;
}

interface Status {
  lastAttempt: number | null;
  lastSuccess: number | null;
  error: { code: string; detail: string } | null;
}

export interface TrustView {
  /** tuf: fetched and verified; bundled: nothing fetched yet, the bundled public-good copy; none: nothing to use. */
  source: "tuf" | "bundled" | "none";
  url: string;
  /** The trusted root's SHA-256. */
  sha256: string | null;
  /** The npm registry keys' SHA-256 if fetched (null: the bundled keys apply). */
  npmKeysSha256: string | null;
  /** Names what `trustedRoot` and `npmKeys` hold together; a caller passes it back as `known`. */
  version: string | null;
  /** The trusted_root.json text, unless the caller already holds this version. */
  trustedRoot?: string;
  /** The npm registry's keys.json text, if fetched, unless the caller already holds this version. */
  npmKeys?: string;
  rootVersion: number | null;
  timestampVersion: number | null;
  lastSuccess: string | null;
  error: Status["error"];
}

export interface RefreshReport {
  ok: boolean;
  skipped: boolean;
  rootVersion: number | null;
  timestampVersion: number | null;
  trustedRootSha256: string | null;
  error: Status["error"];
}

export class SigstoreTrust extends DurableObject<Env> {
  /** The refresh under way: a second call while one runs waits for it instead of racing it. */
  #running: Promise<RefreshReport> | null = null;

  /** The cron's call: refreshes from the configured source when due (or when the configuration changed). */
  async refresh(): Promise<RefreshReport> {
    if (this.#running) return this.#running;
    this.#running = this.#refreshIfDue().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #refreshIfDue(): Promise<RefreshReport> {
    const source = sourceFromEnv(this.env);
    const status = this.#status();
    const sameSource = this.ctx.storage.kv.get<string>("source") === (await sourceId(source));
    const wait = status.error ? AFTER_FAILURE_MS : AFTER_SUCCESS_MS;
    if (sameSource && status.lastAttempt !== null && Date.now() - status.lastAttempt < wait) {
      return { ...this.#versions(), ok: status.error === null, skipped: true, error: status.error };
    }
    return this.refreshFrom(source, httpFetchFile(source.url), new Date());
  }

  /**
   * One refresh with its inputs explicit (the cron passes the configured
   * source, HTTP and the clock; tests pass a local repository and a time).
   */
  async refreshFrom(source: TufSource, fetchFile: FetchFile, now: Date): Promise<RefreshReport> {
    const kv = this.ctx.storage.kv;
    const id = await sourceId(source);
    if (kv.get<string>("source") !== id) {
      for (const key of ["files", TRUSTED_ROOT, SIGNING_CONFIG, NPM_KEYS, "status"]) kv.delete(key);
      kv.put("source", id);
    }
    const status = this.#status();
    status.lastAttempt = now.getTime();
    try {
      const trusted = kv.get<TrustedFiles>("files") ?? { root: source.root };
      const persist = (files: TrustedFiles) => kv.put("files", files);
      const { state } = await updateMetadata(trusted, now, fetchFile, persist);
      for (const name of [TRUSTED_ROOT, SIGNING_CONFIG, NPM_KEYS]) {
        const info = await findTarget(state, name, fetchFile, persist);
        if (!info) {
          if (name === TRUSTED_ROOT)
            throw new InvalidMetadataError(`targets v${state.targets?.version} lists no ${name}`);
          kv.delete(name); // no longer listed, no longer trusted (npm keys fall back to the bundled copy)
          continue;
        }
        if (info.hashes.sha256 && kv.get<StoredTarget>(name)?.sha256 === info.hashes.sha256) continue;
        const bytes = await downloadTarget(state, name, info, fetchFile);
        const text = fromUtf8(bytes);
        // A trusted root or keys file this verifier cannot read would replace a good one: refuse it.
        if (name === TRUSTED_ROOT) sigstoreTrustedRoot(JSON.parse(text));
        if (name === NPM_KEYS) npmAttestationKeys(JSON.parse(text));
        kv.put(name, { sha256: await sha256Hex(bytes), text } satisfies StoredTarget);
      }
      status.lastSuccess = now.getTime();
      status.error = null;
    } catch (error) {
      status.error = {
        code: error instanceof TufError ? error.code : "refresh_failed",
        detail: error instanceof Error ? error.message : String(error),
      };
      logEvent("sigstore_trust.refresh_failed", { url: source.url, ...status.error }, "error");
    }
    kv.put("status", status);
    return { ...this.#versions(), ok: status.error === null, skipped: false, error: status.error };
  }

  /** The trusted root (and npm keys) to verify with; their texts only if `known` is not their version. */
  async current(known: string | null = null): Promise<TrustView> {
    const source = sourceFromEnv(this.env);
    const status = this.#status();
    const { rootVersion, timestampVersion } = this.#versions();
    const view = {
      url: source.url,
      rootVersion,
      timestampVersion,
      lastSuccess: status.lastSuccess === null ? null : new Date(status.lastSuccess).toISOString(),
      error: status.error,
    };
    const npm = this.ctx.storage.kv.get<StoredTarget>(NPM_KEYS);
    const offer = (kind: "tuf" | "bundled", sha256: string, text: string): TrustView => {
      const version = `${sha256} ${npm?.sha256 ?? "bundled"}`;
      const texts = { trustedRoot: text, ...(npm ? { npmKeys: npm.text } : {}) };
      return {
        ...view,
        source: kind,
        sha256,
        npmKeysSha256: npm?.sha256 ?? null,
        version,
        ...(known === version ? {} : texts),
      };
    };
    const stored = this.ctx.storage.kv.get<StoredTarget>(TRUSTED_ROOT);
    if (stored) return offer("tuf", stored.sha256, stored.text);
    if (source.bundledTrustedRoot !== null) {
      return offer("bundled", await sha256Hex(utf8(source.bundledTrustedRoot)), source.bundledTrustedRoot);
    }
    return { ...view, source: "none", sha256: null, npmKeysSha256: null, version: null };
  }

  /** Gauges for /metrics: whether refreshes succeed, when one last did, what is trusted. */
  async metrics(): Promise<MetricFamily[]> {
    const view = await this.current("");
    const status = this.#status();
    const gauge = (name: string, help: string, value: number | null, labels: Record<string, string> = {}) => ({
      name,
      help,
      type: "gauge" as const,
      samples: value === null ? [] : [{ labels, value }],
    });
    return [
      gauge(
        "tuf_edge_sigstore_trust_refresh_ok",
        "1 if the last refresh of the Sigstore trusted root through TUF succeeded, 0 if it failed.",
        status.lastAttempt === null ? null : status.error ? 0 : 1,
      ),
      gauge(
        "tuf_edge_sigstore_trust_last_success_timestamp_seconds",
        "When the Sigstore trusted root was last refreshed successfully (Unix seconds).",
        status.lastSuccess === null ? null : Math.floor(status.lastSuccess / 1000),
      ),
      gauge("tuf_edge_sigstore_trust_root_version", "The Sigstore TUF root version trusted.", view.rootVersion),
      gauge(
        "tuf_edge_sigstore_trust_timestamp_version",
        "The Sigstore TUF timestamp version trusted.",
        view.timestampVersion,
      ),
      gauge("tuf_edge_sigstore_trusted_root_info", "The trusted root attestations are verified with.", 1, {
        source: view.source,
        sha256: view.sha256 ?? "",
      }),
    ];
  }

  #status(): Status {
    return this.ctx.storage.kv.get<Status>("status") ?? { lastAttempt: null, lastSuccess: null, error: null };
  }

  #versions(): Pick<RefreshReport, "rootVersion" | "timestampVersion" | "trustedRootSha256"> {
    const files = this.ctx.storage.kv.get<TrustedFiles>("files");
    const version = (bytes: Uint8Array | undefined) =>
      bytes ? (JSON.parse(fromUtf8(bytes)) as { signed: { version: number } }).signed.version : null;
    return {
      rootVersion: version(files?.root),
      timestampVersion: version(files?.timestamp),
      trustedRootSha256: this.ctx.storage.kv.get<StoredTarget>(TRUSTED_ROOT)?.sha256 ?? null,
    };
  }
}
