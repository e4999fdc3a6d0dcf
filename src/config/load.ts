/**
 * Loads the config once at start-up from the layers Codex 0.171 reads (see loadConfig), for the
 * keys we read, validated by one schema.
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
import type { LoginRestrictions } from '../protocol/login-restrictions.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadedConfig {
  readonly codexHome: string;
  /** How codexHome was chosen, when the front end knows (the CLI does); else read from the environment. */
  readonly codexHomeSource?: CodexHomeSource;
  readonly config: Config;
  /** Who may be signed in, from every layer (forced_login_method, forced_chatgpt_workspace_id, requirements.toml). */
  readonly restrictions: LoginRestrictions;
  /** Problems that do not stop anything (a misspelt key of ours), for the front end to show. */
  readonly warnings: readonly string[];
}

export interface LoadOptions {
  /** `--profile <name>`: lays `$CODEX_HOME/<name>.config.toml` over the user config. */
  readonly profile?: string | undefined;
  /** Where the admin's files are (default /etc/codex, as 0.171 reads them; none on Windows). Tests point it elsewhere. */
  readonly systemDir?: string | undefined;
}

/** Where the value of a key came from, so an error can point at it. */
type Origin = { kind: 'file'; file: string; text: string; path: string[] } | { kind: 'override'; raw: string };

/**
 * Loads the layers 0.171 reads, lowest first (see docs/config-layers.md): /etc/codex/config.toml,
 * $CODEX_HOME/config.toml, `--profile`'s <name>.config.toml, `-c` overrides (and a legacy
 * `[profiles.<name>]` they or the file select), then the admin's /etc/codex/managed_config.toml
 * over all of them; /etc/codex/requirements.toml narrows who may sign in.
 */
export function loadConfig(codexHome: string, rawOverrides: readonly string[], options: LoadOptions = {}): LoadedConfig {
  const overrides = rawOverrides.map((raw) => {
    try {
      return parseOverride(raw);
    } catch (error) {
      throw new ConfigError(`config error: ${(error as Error).message}`);
    }
  });
  const systemDir = options.systemDir ?? defaultSystemDir();
  const file = join(codexHome, 'config.toml');
  const text = readConfigText(file);
  const fileTable = parseConfigText(file, text);
  const layers: Layer[] = [];
  if (systemDir) layers.push(readLayer(join(systemDir, 'config.toml')));
  layers.push({ file, text, table: fileTable });
  if (options.profile !== undefined) layers.push(profileLayer(codexHome, options.profile, fileTable, file));
  const { table: base, origins: baseOrigins } = mergeLayers(layers);
  const merged = applyOverrides(base, overrides);
  const { effective, origins } = applyProfile(merged, overrides, file, baseOrigins);
  if (systemDir) {
    // The admin's managed_config.toml beats everything, `-c` included (0.171: measured).
    const managed = readLayer(join(systemDir, 'managed_config.toml'));
    for (const key of KNOWN_KEYS) {
      if (Object.hasOwn(managed.table, key)) {
        effective[key] = managed.table[key];
        origins.set(key, { kind: 'file', file: managed.file, text: managed.text, path: [key] });
      }
    }
  }

  const parsed = ConfigSchema.safeParse(effective);
  if (!parsed.success) throw describeInvalidValue(parsed.error, origins, file, text);
  const requirementsFile = systemDir ? join(systemDir, 'requirements.toml') : '';
  const requirements = systemDir ? readRequirements(requirementsFile) : {};
  const restrictions = combineRestrictions(parsed.data, requirements, requirementsFile);
  const warnings = [...misspeltKeyWarnings(fileTable, overrides, file, text), ...misplacedKeyWarnings(text, file)];
  const legacyProfile = effective['profile'];
  if (typeof legacyProfile === 'string') {
    // Kept for the configs Codex 0.25 users have; 0.171 refuses to load such a config at all.
    warnings.push(`config warning: the legacy profile = "${legacyProfile}" selector ([profiles.${legacyProfile}]) is read here, but Codex 0.171 refuses it: use --profile ${legacyProfile} with $CODEX_HOME/${legacyProfile}.config.toml`);
  }
  return { codexHome, config: Object.freeze(parsed.data), restrictions, warnings };
}

const defaultSystemDir = () => (process.platform === 'win32' ? undefined : '/etc/codex');

interface Layer {
  readonly file: string;
  readonly text: string;
  readonly table: Record<string, unknown>;
}

/** A config file that may be missing (then empty). */
function readLayer(file: string): Layer {
  const text = readConfigText(file);
  return { file, text, table: parseConfigText(file, text) };
}

/**
 * `--profile <name>`: `$CODEX_HOME/<name>.config.toml` (missing = empty, as 0.171). 0.171 refuses a
 * `--profile` while config.toml still holds the legacy selector or table of that name.
 */
function profileLayer(codexHome: string, name: string, userTable: Record<string, unknown>, userFile: string): Layer {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new ConfigError(`config error: invalid --profile value \`${name}\``);
  const legacy = userTable['profiles'];
  if (userTable['profile'] === name || (isTable(legacy) && Object.hasOwn(legacy, name))) {
    const target = join(codexHome, `${name}.config.toml`);
    throw new ConfigError(
      `config error: --profile \`${name}\` cannot be used while ${userFile} contains legacy \`profile = "${name}"\` or \`[profiles.${name}]\` config; move those settings into ${target} and remove the legacy profile selector/table`,
    );
  }
  return readLayer(join(codexHome, `${name}.config.toml`));
}

/** Later layers win, key by key at the top level (the keys we read are all top-level values). */
function mergeLayers(layers: readonly Layer[]): { table: Record<string, unknown>; origins: Map<string, Origin> } {
  const table: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.table)) {
      Object.defineProperty(table, key, { value, writable: true, enumerable: true, configurable: true });
      origins.set(key, { kind: 'file', file: layer.file, text: layer.text, path: [key] });
    }
  }
  return { table, origins };
}

/** requirements.toml's keys about sign-in, checked as 0.171 checks them (its messages). */
const RequirementsSchema = z.object({
  allowed_login_methods: z.optional(z.array(z.enum(['chatgpt', 'api']))),
  allowed_chatgpt_workspaces: z.optional(z.array(z.string())),
});
type Requirements = z.infer<typeof RequirementsSchema>;

function readRequirements(file: string): Requirements {
  const text = readConfigText(file);
  let table: Record<string, unknown>;
  try {
    table = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof TomlError ? `TOML parse error at line ${error.line}, column ${error.column}` : (error as Error).message;
    throw new ConfigError(`config error: failed to parse requirements layer ${file}: ${reason}`);
  }
  const parsed = RequirementsSchema.safeParse(table);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`config error: failed to parse requirements layer ${file}: ${String(issue.path[0])}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * One set of restrictions from config and requirements, as 0.171 combines them: the allowed
 * methods are the intersection (none left is a config error, with its message); the allowed
 * workspaces are the intersection of every layer that names some (none left: no ChatGPT sign-in).
 */
function combineRestrictions(config: Config, requirements: Requirements, requirementsFile: string): LoginRestrictions {
  let methods: ('chatgpt' | 'api')[] = ['chatgpt', 'api'];
  const methodSettings: string[] = [];
  if (config.forced_login_method) {
    methods = methods.filter((m) => m === config.forced_login_method);
    methodSettings.push(`forced_login_method = "${config.forced_login_method}"`);
  }
  if (requirements.allowed_login_methods) {
    methods = methods.filter((m) => requirements.allowed_login_methods!.includes(m));
    methodSettings.push(`allowed_login_methods in ${requirementsFile}`);
  }
  if (methods.length === 0) throw new ConfigError('config error: authentication requirements do not permit any usable login method');
  let workspaces: string[] | undefined = config.forced_chatgpt_workspace_id;
  const workspaceSettings: string[] = workspaces ? ['forced_chatgpt_workspace_id'] : [];
  const required = requirements.allowed_chatgpt_workspaces;
  if (required) {
    workspaces = workspaces ? workspaces.filter((id) => required.includes(id)) : [...required];
    workspaceSettings.push(`allowed_chatgpt_workspaces in ${requirementsFile}`);
  }
  return {
    ...(methods.length === 1 && { forcedLoginMethod: methods[0], methodSetting: methodSettings.join(' and ') }),
    ...(workspaces && { allowedWorkspaceIds: workspaces, workspaceSetting: workspaceSettings.join(' and ') }),
  };
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
  baseOrigins: ReadonlyMap<string, Origin>,
): { effective: Record<string, unknown>; origins: Map<string, Origin> } {
  const origins = new Map<string, Origin>(baseOrigins);
  // A legacy [profiles.x] table is reported where it was read (config.toml, or /etc/codex/config.toml).
  const profilesOrigin = baseOrigins.get('profiles');
  const fileText = profilesOrigin?.kind === 'file' ? profilesOrigin.text : '';
  if (profilesOrigin?.kind === 'file') file = profilesOrigin.file;
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
        origins.set(key, override ? { kind: 'override', raw: override.raw } : { kind: 'file', file, text: fileText, path: ['profiles', profileName, key] });
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
  defaultFile: string,
  defaultText: string,
): ConfigError {
  const issue = error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const origin = origins.get(key);
  const what = `${key}: ${issue.message}`;
  if (origin?.kind === 'override') {
    return new ConfigError(`config error: -c ${origin.raw}: ${what}`);
  }
  const dotted = origin ? origin.path.join('.') : key;
  const file = origin ? origin.file : defaultFile;
  const at = origin ? locateKey(origin.text, origin.path) : undefined;
  const where = at ? `${file}:${at.line}:${at.column}` : file;
  void defaultText;
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
