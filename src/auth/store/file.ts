/**
 * The `file` backend (the default): auth.json, read and written as Codex 0.171 does (auth-file.ts)
 * under Codex's locks (locks.ts), watched through CODEX_HOME's events (watch.ts).
 * Runs on all three threads: main, login worker, token service.
 */
import { stat } from 'node:fs/promises';
import { authFilePath, deleteAuthFile, readAuthFile, writeAuthFile } from './auth-file.js';
import { withAuthLock } from './locks.js';
import type { CredentialStore } from './credential-store.js';
import { watchCodexHome } from './watch.js';

export function fileStore(codexHome: string): CredentialStore {
  let warning: string | undefined;
  return {
    kind: 'file',
    /** Set by a load that found auth.json open to other users (status shows it, as the CLI does). */
    get warning() {
      return warning;
    },
    async load() {
      const stored = await readAuthFile(codexHome);
      warning = stored.kind === 'present' ? await openModeWarning(authFilePath(codexHome)) : undefined;
      return stored;
    },
    save: (record) => writeAuthFile(codexHome, record),
    delete: () => deleteAuthFile(codexHome),
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
    watch: (onChange) => watchCodexHome(codexHome, onChange),
  };
}

/** ssh's warning for a private key others can read, for auth.json (Codex writes it 0600). */
async function openModeWarning(path: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined;
  const mode = await stat(path).then((info) => info.mode & 0o777, () => undefined);
  if (mode === undefined || (mode & 0o077) === 0) return undefined;
  return `other users can read ${path} (mode 0${mode.toString(8).padStart(3, '0')}); run: chmod 600 ${path}`;
}
