/**
 * The associated data each kind of sealed secret is sealed with (sealer.ts):
 * it binds a sealed value to its repository and row, so it cannot be moved.
 * Pure strings, shared by the stores, the re-sealer and tests.
 */

/** An online signing key, by repository and keyid (key-vault.ts). */
export const onlineKeyContext = (repo: string, keyid: string) => `tuf-edge online key\n${repo}\n${keyid}`;

/** A registry's HMAC webhook secret, by repository and credential id (registries.ts). */
export const webhookSecretContext = (repo: string, id: string) => `tuf-edge webhook secret\n${repo}\n${id}`;

/** The transparency log's note key, by log origin (log-checkpoint.ts). */
export const logKeyContext = (origin: string) => `tuf-edge log key\n${origin}`;
