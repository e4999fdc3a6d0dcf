/**
 * `-c key=value` overrides, parsed the way codex parses them: split on the first `=`, trim both
 * sides, read the value as a TOML value and, when that fails, take it as a literal string with
 * surrounding quotes stripped. A dotted key (`a.b.c`) addresses a nested table.
 */
import { parse as parseToml } from 'smol-toml';

export interface ConfigOverride {
  /** The argument as the user typed it, for error messages. */
  readonly raw: string;
  readonly path: readonly string[];
  readonly value: unknown;
}

export class OverrideError extends Error {
  override name = 'OverrideError';
}

export function parseOverride(raw: string): ConfigOverride {
  const eq = raw.indexOf('=');
  if (eq < 0) {
    throw new OverrideError(
      `invalid override '${raw}': expected key=value (quote the whole argument if the value has spaces)`,
    );
  }
  const key = raw.slice(0, eq).trim();
  if (key === '') throw new OverrideError(`invalid override '${raw}': the key is empty`);
  const path = key.split('.');
  if (path.some((part) => part === '')) {
    throw new OverrideError(`invalid override '${raw}': '${key}' has an empty part`);
  }
  return { raw, path, value: parseOverrideValue(raw.slice(eq + 1).trim()) };
}

export function parseOverrideValue(text: string): unknown {
  try {
    // A throwaway key makes any TOML value (number, bool, string, array, inline table) parseable.
    return parseToml(`value = ${text}`)['value'];
  } catch {
    return text.replace(/^["']+|["']+$/g, '');
  }
}

/** Returns a copy of `table` with every override written at its dotted path. */
export function applyOverrides(
  table: Record<string, unknown>,
  overrides: readonly ConfigOverride[],
): Record<string, unknown> {
  const result = structuredClone(table);
  for (const { path, value } of overrides) {
    let cursor = result;
    for (const part of path.slice(0, -1)) {
      // Own properties only: `-c __proto__.x=1` must make a key, never reach Object.prototype.
      const next = Object.hasOwn(cursor, part) ? cursor[part] : undefined;
      if (next === null || typeof next !== 'object' || Array.isArray(next)) setOwn(cursor, part, {});
      cursor = cursor[part] as Record<string, unknown>;
    }
    setOwn(cursor, path[path.length - 1]!, value);
  }
  return result;
}

/** Like `table[key] = value`, except that `__proto__` becomes an ordinary key. */
const setOwn = (table: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(table, key, { value, writable: true, enumerable: true, configurable: true });
