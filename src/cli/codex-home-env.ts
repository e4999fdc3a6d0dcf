/** CODEX_HOME as Codex resolves it: the variable, else ~/.codex. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function codexHomeFromEnv(): string {
  const fromEnv = process.env['CODEX_HOME'];
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.codex');
}
