/**
 * Codex's two locks on a CODEX_HOME, taken in Codex 0.171's order: a read-modify-write of the
 * credentials (sign-in, refresh, logout) holds `flock` on `auth.lock` and then on `auth.json.lock`
 * (empty regular files that nobody deletes), for every backend but memory, so a keyring writer and
 * a file writer of one CODEX_HOME, ours or Codex's, still serialise. The waits are bounded.
 * Runs on every thread that reads or writes credentials: main, login worker, token service.
 */
import type { Stats } from 'node:fs';
import { lstat, rmdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureCodexHome, removeStaleTempFiles } from './auth-file.js';
import { openLockFile, type HeldFile } from './flock.js';

/** Codex's outer lock: held for a whole read-modify-write (taken blocking by Codex). */
export const AUTH_LOCK_NAME = 'auth.lock';
/** Codex's commit lock, taken inside the outer one (non-blocking by Codex). */
export const COMMIT_LOCK_NAME = 'auth.json.lock';

export interface LockOptions {
  /** Give up waiting after about this long (default: 20 s). */
  readonly maxWaitMs?: number;
  /** When the wait runs out: fail (default), or run `fn` anyway (logout must never hang on a stuck refresh). */
  readonly onTimeout?: 'fail' | 'proceed';
}

export const DEFAULT_MAX_WAIT_MS = 20_000;
/** Between attempts while another holds a lock: short at first (most holds are a few ms), then 25 ms. */
export const pollDelay = (attempt: number) => Math.min(25, 1 + attempt * 2);

/** Callers on this thread queue here, so they do not poll against each other. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding Codex's two locks on this CODEX_HOME, taken in Codex's order. Every reader
 * that rewrites (sign-in, refresh, logout) of this server and of Codex 0.171 takes them.
 */
export async function withAuthLock<T>(codexHome: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  // The wait in this queue counts against the same deadline as the wait for the file locks.
  const deadline = Date.now() + (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  const before = queues.get(codexHome) ?? Promise.resolve();
  const run = before.then(() => lockedRun(codexHome, fn, deadline, options.onTimeout));
  const settled = run.then(() => undefined, () => undefined);
  queues.set(codexHome, settled);
  void settled.then(() => queues.get(codexHome) === settled && queues.delete(codexHome));
  return run;
}

async function lockedRun<T>(codexHome: string, fn: () => Promise<T>, deadline: number, onTimeout: LockOptions['onTimeout']): Promise<T> {
  await ensureCodexHome(codexHome);
  await removeLegacyLockFolder(codexHome);
  const held: HeldFile[] = [];
  let lockedAll = true;
  try {
    // Codex opens auth.lock 0666 (less the umask) and auth.json.lock 0600; so do we, so a file
    // either of us creates looks the same.
    for (const [name, mode] of [[AUTH_LOCK_NAME, 0o666], [COMMIT_LOCK_NAME, 0o600]] as const) {
      let file: HeldFile;
      try {
        file = await openLockFile(join(codexHome, name), mode);
      } catch (error) {
        const shape = await wrongShape(join(codexHome, name), error);
        if (!shape) throw error;
        // Nobody can hold a lock that cannot be opened: a logout goes ahead, as after a long wait.
        lockedAll = false;
        if (onTimeout === 'proceed') break;
        throw shape;
      }
      held.push(file);
      if (!(await lockBefore(file, deadline))) {
        lockedAll = false;
        if (onTimeout === 'proceed') break;
        throw Object.assign(new Error(`${join(codexHome, name)} is held by another process`), { code: 'ELOCKED' });
      }
    }
    if (lockedAll) await sweepOnce(codexHome);
    return await fn();
  } finally {
    for (const file of held.reverse()) file.close();
  }
}

async function lockBefore(file: HeldFile, deadline: number): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    if (file.tryLock()) return true;
    if (Date.now() >= deadline) return false;
    await delay(pollDelay(attempt));
  }
}

/**
 * A lock file of the wrong shape (a symlink, a folder, a FIFO...) that neither Codex nor we can
 * lock: an error naming it and the fix, or undefined when `error` is something else.
 */
async function wrongShape(path: string, error: unknown): Promise<Error | undefined> {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ELOOP' && code !== 'EISDIR' && code !== 'ENOTREGULAR' && code !== 'EMLINK') return undefined;
  const info = await lstat(path).catch(() => undefined);
  const problem = info && lockShapeProblem(path, info);
  return problem ? Object.assign(new Error(problem), { code: 'ELOCKSHAPE' }) : undefined;
}

/** Why a lock file of this shape cannot be locked, with the fix; undefined for a regular file. */
export function lockShapeProblem(path: string, info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  const kind = info.isSymbolicLink() ? 'a symlink' : info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO (named pipe)' : 'not a regular file';
  const fix = info.isDirectory() ? `rm -r ${path}` : `rm ${path}`;
  return `${path} is ${kind}, not the empty regular file Codex locks; remove it (${fix}) and try again: Codex and this server make a new one`;
}

const swept = new Set<string>();

/** Once per process and home, under the locks: a crash's temp files (which may hold tokens) go. */
async function sweepOnce(codexHome: string): Promise<void> {
  if (swept.has(codexHome)) return;
  swept.add(codexHome);
  await removeStaleTempFiles(codexHome);
}

const legacyChecked = new Set<string>();

/**
 * Earlier versions of this server locked with a *directory* named auth.json.lock (proper-lockfile),
 * which Codex cannot open and we no longer use. Removed once per process and home; a non-empty one
 * is left alone and the lock attempt then reports why.
 */
async function removeLegacyLockFolder(codexHome: string): Promise<void> {
  if (legacyChecked.has(codexHome)) return;
  const path = join(codexHome, COMMIT_LOCK_NAME);
  const info = await lstat(path).catch(() => undefined);
  if (info?.isDirectory()) await rmdir(path).catch(() => undefined);
  legacyChecked.add(codexHome);
}

/**
 * Keyring writes change no file, so after one this touches the commit lock file: sibling servers
 * of ours watching CODEX_HOME see the event and re-read the entry at once instead of at their
 * next poll. Called while the locks are held.
 */
export async function announceKeyringWrite(codexHome: string): Promise<void> {
  const now = new Date();
  await utimes(join(codexHome, COMMIT_LOCK_NAME), now, now).catch(() => undefined);
}
