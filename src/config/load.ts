/**
 * Loads the config once at start-up: `$CODEX_HOME/config.toml` (missing = empty), then the
 * active profile over the top level, then `-c` overrides over both, validated by one schema.
 * Every failure is a ConfigError whose message names the file (or argument), key, line and column.
 * A key that is none of ours but a near miss of one (`prefered_auth_method`) is a warning; every
 * other unknown key belongs to Codex and is ignored without a word.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import * as z from '../protocol/zod.js';
import type { CodexHomeSource } from './codex-home-env.js';
import { CODEX_KEYS } from './codex-keys.js';
import { nearMiss } from './near-miss.js';
import { applyOverrides, parseOverride, type ConfigOverride } from './overrides.js';
import { ConfigSchema, KNOWN_KEYS, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadedConfig {
  readonly codexHome: string;
  /** How codexHome was chosen, when the front end knows (the CLI does); else read from the environment. */
  readonly codexHomeSource?: CodexHomeSource;
  readonly config: Config;
  /** Problems that do not stop anything (a misspelt key of ours), for the front end to show. */
  readonly warnings: readonly string[];
}

/** Where the value of a key came from, so an error can point at it. */
type Origin = { kind: 'file'; path: string[] } | { kind: 'override'; raw: string };

export function loadConfig(codexHome: string, rawOverrides: readonly string[]): LoadedConfig {
  const overrides = rawOverrides.map((raw) => {
    try {
      return parseOverride(raw);
    } catch (error) {
      throw new ConfigError(`config error: ${(error as Error).message}`);
    }
  });
  const file = join(codexHome, 'config.toml');
  const text = readConfigText(file);
  const fileTable = parseConfigText(file, text);
  const merged = applyOverrides(fileTable, overrides);
  const { effective, origins } = applyProfile(merged, overrides, file);

  const parsed = ConfigSchema.safeParse(effective);
  if (!parsed.success) throw describeInvalidValue(parsed.error, origins, file, text);
  return { codexHome, config: Object.freeze(parsed.data), warnings: [...misspeltKeyWarnings(fileTable, overrides, file, text), ...misplacedKeyWarnings(text, file)] };
}

/** One warning per key, in the file (top level or any profile) or in `-c`, that looks like one of ours misspelt. */
function misspeltKeyWarnings(table: Record<string, unknown>, overrides: readonly ConfigOverride[], file: string, text: string): string[] {
  const ours: readonly string[] = KNOWN_KEYS;
  const warnings: string[] = [];
  const check = (key: string, where: string) => {
    if (ours.includes(key) || CODEX_KEYS.has(key)) return;
    const meant = nearMiss(key, ours);
    if (meant) warnings.push(`config warning: ${where}: unknown key ${key} is ignored; did you mean ${meant}?`);
  };
  const inFile = (path: string[]) => {
    const at = locateKey(text, path);
    return at ? `${file}:${at.line}:${at.column}` : file;
  };
  for (const key of Object.keys(table)) check(key, inFile([key]));
  const profiles = table['profiles'];
  if (isTable(profiles)) {
    for (const [name, profile] of Object.entries(profiles)) {
      if (isTable(profile)) for (const key of Object.keys(profile)) check(key, inFile(['profiles', name, key]));
    }
  }
  for (const { path, raw } of overrides) {
    if (path.length === 1) check(path[0]!, `-c ${raw}`);
    else if (path.length === 3 && path[0] === 'profiles') check(path[2]!, `-c ${raw}`);
  }
  return warnings;
}

/**
 * One warning per key of ours written under a table where it is not read: TOML puts every line
 * after `[mcp_servers.auth]` into that table, so `forced_login_method = "chatgpt"` written at the
 * end of the file is silently someone else's key. Only the top level and `[profiles.<name>]` are
 * ours to read.
 */
export function misplacedKeyWarnings(text: string, file: string): string[] {
  const ours: readonly string[] = KNOWN_KEYS;
  const unquote = (part: string) => part.trim().replace(/^["']|["']$/g, '');
  const warnings: string[] = [];
  let table: string[] = [];
  let header = '';
  for (const [index, line] of text.split('\n').entries()) {
    const found = /^\s*(\[\[?([^\]]+)\]\]?)/.exec(line);
    if (found) {
      header = found[1]!;
      table = found[2]!.split('.').map(unquote);
      continue;
    }
    const assignment = /^(\s*)([A-Za-z0-9_-]+)\s*=/.exec(line);
    if (!assignment || table.length === 0 || !ours.includes(assignment[2]!)) continue;
    if (table.length === 2 && table[0] === 'profiles') continue;
    warnings.push(
      `config warning: ${file}:${index + 1}:${assignment[1]!.length + 1}: ${assignment[2]} is under ${header}, where it is not read; ` +
        `move it above the first [table] line (or into a [profiles.<name>] table)`,
    );
  }
  return warnings;
}

const isTable = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * config.toml, read only if it is a regular file: opened non-blocking and judged by fstat of that
 * descriptor, so a FIFO there cannot block the start for good (src/auth/store/regular-file.ts).
 */
function readConfigText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new ConfigError(`config error: cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new ConfigError(`config error: cannot read ${file}: it is not a regular file; remove it or put a file there`);
    return readFileSync(fd, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`config error: cannot read ${file}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

function parseConfigText(file: string, text: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = error.message.split('\n')[0];
      throw new ConfigError(
        `config error: ${file}:${error.line}:${error.column}: malformed TOML: ${reason}`,
      );
    }
    throw error;
  }
}

/** Lays `[profiles.<profile>]` over the top level for the keys we read. */
function applyProfile(
  table: Record<string, unknown>,
  overrides: readonly ConfigOverride[],
  file: string,
): { effective: Record<string, unknown>; origins: Map<string, Origin> } {
  const origins = new Map<string, Origin>();
  for (const key of Object.keys(table)) origins.set(key, { kind: 'file', path: [key] });
  // The last override that wrote into a dotted path, so an error names the argument, not the file.
  const overrideAt = (path: readonly string[]) =>
    overrides.findLast((o) => path.every((part, i) => o.path[i] === part));
  for (const key of Object.keys(table)) {
    const override = overrideAt([key]);
    if (override) origins.set(key, { kind: 'override', raw: override.raw });
  }
  const profileName = table['profile'];
  const effective: Record<string, unknown> = { ...table };
  if (profileName !== undefined) {
    if (typeof profileName !== 'string') {
      const override = overrideAt(['profile']);
      throw new ConfigError(`config error: ${override ? `-c ${override.raw}` : file}: profile: expected a string`);
    }
    const profiles = table['profiles'];
    const profile =
      profiles && typeof profiles === 'object' ? (profiles as Record<string, unknown>)[profileName] : undefined;
    if (!profile || typeof profile !== 'object') {
      throw new ConfigError(`config error: profile '${profileName}' not found in ${file}`);
    }
    for (const key of KNOWN_KEYS) {
      if (key in profile) {
        effective[key] = (profile as Record<string, unknown>)[key];
        const override = overrideAt(['profiles', profileName, key]);
        origins.set(key, override ? { kind: 'override', raw: override.raw } : { kind: 'file', path: ['profiles', profileName, key] });
      }
    }
  }
  // An override of a top-level key beats both the file and the profile.
  for (const override of overrides) {
    if (override.path.length === 1) {
      effective[override.path[0]!] = override.value;
      origins.set(override.path[0]!, { kind: 'override', raw: override.raw });
    }
  }
  return { effective, origins };
}

function describeInvalidValue(
  error: z.core.$ZodError,
  origins: Map<string, Origin>,
  file: string,
  text: string,
): ConfigError {
  const issue = error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const origin = origins.get(key);
  const what = `${key}: ${issue.message}`;
  if (origin?.kind === 'override') {
    return new ConfigError(`config error: -c ${origin.raw}: ${what}`);
  }
  const dotted = origin ? origin.path.join('.') : key;
  const at = origin ? locateKey(text, origin.path) : undefined;
  const where = at ? `${file}:${at.line}:${at.column}` : file;
  return new ConfigError(`config error: ${where}: ${dotted === key ? what : `${dotted}: ${issue.message}`}`);
}

/**
 * Finds the line and column where a key is assigned in TOML text. smol-toml gives positions only
 * for syntax errors, so this walks table headers and `key =` lines; good enough for messages.
 */
export function locateKey(text: string, path: readonly string[]): { line: number; column: number } | undefined {
  const unquote = (part: string) => part.trim().replace(/^["']|["']$/g, '');
  let table: string[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const header = /^\s*\[\[?([^\]]+)\]\]?/.exec(line);
    if (header) {
      table = header[1]!.split('.').map(unquote);
      continue;
    }
    const assignment = /^(\s*)([A-Za-z0-9_\-."' ]+?)\s*=/.exec(line);
    if (!assignment) continue;
    const full = [...table, ...assignment[2]!.split('.').map(unquote)];
    if (full.length === path.length && full.every((part, i) => part === path[i])) {
      return { line: index + 1, column: assignment[1]!.length + 1 };
    }
  }
  return undefined;
}
