/**
 * Bootstrap: a repository's first root, checked (bootstrap.ts), then every
 * online role signed and published: targets, and every hash bin's version 1
 * as one shared empty bin (publisher.ts, storeEmptyBin). A root that fails
 * any check, or a bootstrap that loses the race to another, changes nothing.
 */
import { z } from "zod";
import { sha256Hex } from "../src/lib/digest.ts";
import { type BootstrapRequest, failure, type PublishedVersions, type Result } from "../src/repository-api.ts";
import { serialize } from "../src/tuf/metadata.ts";
import { verifyBootstrapRoot } from "./bootstrap.ts";
import { binExpiry } from "./freshness.ts";
import { published } from "./group-commit.ts";
import type { RepositoryParts } from "./repository-parts.ts";
import { hashBins, saveSettings, SettingsSchema } from "./settings.ts";

export class Bootstrapping {
  readonly #p: RepositoryParts;
  /** A bootstrap is storing its files (between its checks and its transaction). */
  #under = false;

  constructor(parts: RepositoryParts) {
    this.#p = parts;
  }

  async bootstrap(request: BootstrapRequest): Promise<Result<{ versions: PublishedVersions }>> {
    const p = this.#p;
    const taken = () => failure(409, "already_bootstrapped", `repository "${p.name}" is already bootstrapped`);
    if (p.settings) return taken();
    const settings = SettingsSchema.safeParse(request.settings ?? {});
    if (!settings.success) return failure(422, "invalid_settings", z.prettifyError(settings.error));
    await p.inDirectory();
    const online = p.vault.find("pending");
    if (!online)
      return failure(409, "invalid_root", "fetch the online key (GET …/admin/online-key) before bootstrapping");
    const verified = await verifyBootstrapRoot(request.root, online.keyid, new Date());
    if (!verified.ok) return verified;

    const file = serialize(request.root);
    const rootSha256 = await sha256Hex(file.bytes);
    // Nothing of the repository was written above. Another bootstrap may have won meanwhile,
    // or be storing its empty bin now: only one goes on.
    if (p.settings || this.#under) return taken();
    this.#under = true;
    try {
      // Every top-level bin's version 1, stored before anything lists it.
      const bins = hashBins(settings.data);
      const signer = await p.vault.signer(online.keyid);
      const emptyBin = await p.publisher.storeEmptyBin(
        signer,
        binExpiry(new Date(), settings.data.expiry.bins, 0, bins.count),
      );
      p.transaction(() => {
        p.tlog.append({ type: "root.change", repository: p.name, version: 1, sha256: rootSha256 });
        saveSettings(p.sql, settings.data);
        p.roots.add(1, file.bytes, verified.root.expires, Date.now());
        p.publisher.roles.create(["targets"]);
        p.publisher.roles.createStaged(bins.names(), emptyBin);
        p.vault.setState(online.keyid, "active");
        p.audit.record("bootstrapped", `root 1 with ${settings.data.bins} bins`, { keyid: online.keyid });
      });
    } finally {
      this.#under = false;
    }
    p.settings = settings.data;
    const result = await published(p.commits.publish(p.publisher.roles.nextSeq()));
    // What health and the pages read, before the repository is reported bootstrapped.
    await p.site.publishSoon();
    return result;
  }
}
