/**
 * auth.json on disk: atomic writes (temp file, fsync, rename) with mode 0600 enforced even over
 * an existing file, CODEX_HOME created 0700, and one cross-process lock that every writer takes.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseStoredAuth, type AuthRecord, type StoredAuth } from './auth-record.js';

export const AUTH_FILE_NAME = 'auth.json';
export const authFilePath = (codexHome: string) => join(codexHome, AUTH_FILE_NAME);

// The writer's libraries (and graceful-fs under them) cost ~20 ms to load; most runs of the
// server only read, so they are loaded on the first write or lock.
const loadWriteFileAtomic = () => import('write-file-atomic').then((m) => m.default);
const loadLockfile = () => import('proper-lockfile').then((m) => m.default);

export const fingerprintOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

export async function readAuthFile(codexHome: string): Promise<StoredAuth> {
  let text: string;
  try {
    text = await readFile(authFilePath(codexHome), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unusable', reason: `cannot read auth.json (${code ?? 'error'})`, fingerprint: `error:${code}` };
  }
  return parseStoredAuth(text, fingerprintOf(text));
}

/** Codex writes auth.json pretty-printed with two spaces; so do we. */
export async function writeAuthFile(codexHome: string, record: AuthRecord): Promise<void> {
  await ensureCodexHome(codexHome);
  const file = authFilePath(codexHome);
  const writeFileAtomic = await loadWriteFileAtomic();
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, fsync: true });
  // write-file-atomic keeps an existing file's mode when told a mode; enforce 0600 regardless.
  await chmod(file, 0o600);
}

/** Removes auth.json; a missing file is not an error. Returns whether a file was removed. */
export async function deleteAuthFile(codexHome: string): Promise<boolean> {
  try {
    await rm(authFilePath(codexHome));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export async function ensureCodexHome(codexHome: string): Promise<void> {
  await mkdir(codexHome, { recursive: true, mode: 0o700 });
}

export interface LockOptions {
  /** Give up waiting after about this long (default: about 20 s). */
  readonly maxWaitMs?: number;
  /** When the wait runs out: fail (default), or run `fn` anyway (logout must never hang on a stuck refresh). */
  readonly onTimeout?: 'fail' | 'proceed';
}

/**
 * Runs `fn` holding the cross-process lock on auth.json (a `auth.json.lock` directory, as
 * proper-lockfile makes it; stale after 10 s if its holder died, refreshed every 2 s while held).
 */
export async function withAuthLock<T>(codexHome: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await ensureCodexHome(codexHome);
  const maxTimeout = 100;
  const retries = Math.max(1, Math.ceil((options.maxWaitMs ?? 20_000) / maxTimeout));
  const lockfile = await loadLockfile();
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(authFilePath(codexHome), {
      realpath: false,
      stale: 10_000,
      update: 2_000,
      retries: { retries, factor: 1.3, minTimeout: 5, maxTimeout, randomize: true },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED' && options.onTimeout === 'proceed') return fn();
    throw error;
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
