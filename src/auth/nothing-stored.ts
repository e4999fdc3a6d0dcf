/**
 * The one validation the main thread answers itself: in `file` mode with no auth.json there is
 * nothing to read, decode or validate, so no token-service thread is started for it. A signed-out
 * server (and `status` for a signed-out person) then starts no thread at all: its first answer
 * comes sooner, and it costs a third less CPU to start (the thread's boot and code).
 *
 * Only a missing file counts: anything else there (a directory, an unreadable or empty file, a
 * dangling symlink) is read and judged by the token service, as before.
 */
import { lstat } from 'node:fs/promises';
import { BACKENDS } from './store/store.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { StoreOptions } from '../protocol/storage.js';

/** What the token service answers for no stored record in file mode (resolve-snapshot.ts; test/nothing-stored.test.ts holds them equal). */
export const NOTHING_STORED: AuthSnapshot = Object.freeze({ storage: 'file', source: 'none', fingerprint: 'none' });

/**
 * NOTHING_STORED when the backend keeps its record in one file (the file backend: auth.json) and
 * that file does not exist; undefined when the token service must look.
 */
export async function nothingStored(store: StoreOptions): Promise<AuthSnapshot | undefined> {
  const recordFile = BACKENDS[store.mode].recordFile(store);
  if (recordFile === undefined) return undefined;
  const code = await lstat(recordFile).then(
    () => 'exists',
    (error: NodeJS.ErrnoException) => error.code,
  );
  // The codes auth-file.ts reads as "missing" (ENOTDIR: CODEX_HOME is not a folder yet).
  return code === 'ENOENT' || code === 'ENOTDIR' ? { ...NOTHING_STORED } : undefined;
}
