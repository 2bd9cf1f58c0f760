/**
 * The value, or an error that names what was missing: what tests and scripts write where a
 * non-null assertion (`x!`) would otherwise crash later with an unrelated TypeError.
 */
export function defined<T>(value: T | null | undefined, what = "value"): T {
  if (value === null || value === undefined) throw new Error(`expected a ${what}, got ${value}`);
  return value;
}
