/**
 * CODEX_HOME as Codex 0.171 resolves it, and how it was chosen, so that every signed-out answer
 * can say where it looked. An empty CODEX_HOME is no CODEX_HOME (0.171 reads ~/.codex then too);
 * a relative one is taken from the working folder, as 0.171 does (it canonicalises the path).
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** `env`: CODEX_HOME was set in this process's environment; `default`: it was not, so ~/.codex. */
export type CodexHomeSource = 'env' | 'default';

export interface CodexHomeOrigin {
  readonly path: string;
  readonly source: CodexHomeSource;
  /** The variable's value as given (`~/x`, `rel`), for messages; undefined for the default. */
  readonly raw?: string;
}

export function codexHomeOrigin(env: NodeJS.ProcessEnv = process.env): CodexHomeOrigin {
  const raw = env['CODEX_HOME'];
  return raw ? { path: resolve(raw), source: 'env', raw } : { path: join(homedir(), '.codex'), source: 'default' };
}

export function codexHomeFromEnv(): string {
  return codexHomeOrigin().path;
}

/** Whether the variable was given as a relative path (taken from whatever folder the client started us in). */
export const isRelativeCodexHome = (origin: CodexHomeOrigin) => origin.raw !== undefined && !isAbsolute(origin.raw);
