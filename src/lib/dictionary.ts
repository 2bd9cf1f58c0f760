/**
 * Maps keyed by outside input (target paths, role names) built as plain JSON
 * objects. An object literal `{}` inherits from Object.prototype, so assigning
 * the key `__proto__` replaces its prototype instead of adding an entry: a
 * target at the path `__proto__` would vanish from its bin. A dictionary has
 * no prototype, so every key is an own, enumerable property, and canonical
 * JSON and `Object.entries` see it like any other.
 */
export function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
