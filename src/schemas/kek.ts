/** The body of a key-encryption key re-seal request (src/routes/kek.ts). */
import { z } from "zod";

/** How many sealed values to re-seal in this request (default 100). */
export const ResealSchema = z
  .object({ budget: z.number().int().min(1).max(1000).optional() })
  .strict()
  .optional();
