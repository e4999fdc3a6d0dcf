/**
 * The `file` backend (the default): auth.json, read and written as Codex 0.171 does (auth-file.ts)
 * under Codex's locks (locks.ts), watched through CODEX_HOME's events (watch.ts).
 * Runs on all three threads: main, login worker, token service.
 */
import { deleteAuthFile, readAuthFile, writeAuthFile } from './auth-file.js';
import { withAuthLock } from './locks.js';
import type { CredentialStore } from './store.js';
import { watchCodexHome } from './watch.js';

export function fileStore(codexHome: string): CredentialStore {
  return {
    kind: 'file',
    load: () => readAuthFile(codexHome),
    save: (record) => writeAuthFile(codexHome, record),
    delete: () => deleteAuthFile(codexHome),
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
    watch: (onChange) => watchCodexHome(codexHome, onChange),
  };
}
