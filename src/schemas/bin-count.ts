/** A number of hash bins (TAP 15): a power of two from 2 to 16,384 (repository settings, delegations with bins). */
import { z } from "zod";
import { MAX_BIT_LENGTH, MIN_BIT_LENGTH } from "../tuf/hash-bins.ts";

export const BinCountSchema = z
  .number()
  .int()
  .min(2 ** MIN_BIT_LENGTH)
  .max(2 ** MAX_BIT_LENGTH)
  .refine((n) => Number.isInteger(Math.log2(n)), "bins must be a power of two");
