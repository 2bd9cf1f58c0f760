/** A registry's name: a path segment of the admin API and of its push URL, and the owner of its delivery ids. */
import { z } from "zod";

export const REGISTRY_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const RegistryNameSchema = z
  .string()
  .regex(REGISTRY_NAME, "a registry name is 1-63 lower-case letters, digits, '.', '_' or '-'");

/**
 * Most credentials one registry holds at once (current ones and those in
 * their overlap). A push names its registry and only that registry's
 * credentials are tried, so this bounds what a forged push costs; two
 * rotations in flight, of both kinds, fit with room to spare.
 */
export const MAX_CREDENTIALS_PER_REGISTRY = 8;
