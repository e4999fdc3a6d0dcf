/**
 * auth.json on disk, written and locked exactly as Codex 0.171 does it, so the two can share one
 * CODEX_HOME: a read-modify-write takes `flock` on `auth.lock` and then on `auth.json.lock` (empty
 * regular files that nobody deletes); a write goes to a fresh `.auth-XXXXXX` file opened exclusive
 * and no-follow with mode 0600, is fsynced, renamed onto auth.json, and the folder is fsynced.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm, rmdir, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseStoredAuth, type AuthRecord, type StoredAuth } from './auth-record.js';
import { openLockFile, type HeldFile } from './flock.js';

export const AUTH_FILE_NAME = 'auth.json';
/** Codex's outer lock: held for a whole read-modify-write (taken blocking by Codex). */
export const AUTH_LOCK_NAME = 'auth.lock';
/** Codex's commit lock, taken inside the outer one (non-blocking by Codex). */
export const COMMIT_LOCK_NAME = 'auth.json.lock';
export const authFilePath = (codexHome: string) => join(codexHome, AUTH_FILE_NAME);

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

const TEMP_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** `.auth-` and six unpredictable characters, as Codex names its temp files (mkstemp style). */
const tempName = () => `.auth-${[...randomBytes(6)].map((byte) => TEMP_ALPHABET[byte % TEMP_ALPHABET.length]).join('')}`;
// A name another writer (or someone planting a file) took is never opened: O_EXCL fails and we
// draw again; O_NOFOLLOW refuses a symlink in its place. Windows has no O_NOFOLLOW (0 there).
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Replaces auth.json atomically (see the top of this file). */
export async function writeAuthFile(codexHome: string, record: AuthRecord): Promise<void> {
  await ensureCodexHome(codexHome);
  // Byte for byte what 0.171 writes: two-space indent, no newline at the end.
  const text = JSON.stringify(record, null, 2);
  let temp = '';
  let handle;
  for (let attempt = 0; !handle; attempt++) {
    temp = join(codexHome, tempName());
    try {
      handle = await open(temp, TEMP_FLAGS, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 10) throw error;
    }
  }
  try {
    // The umask may have narrowed the mode further; 0600 exactly is what Codex leaves.
    await handle.chmod(0o600);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, authFilePath(codexHome));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncFolder(codexHome);
}

/** Makes the rename durable. Windows cannot open a folder for fsync; its rename is already durable enough. */
async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(folder, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
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
  /** Give up waiting after about this long (default: 20 s). */
  readonly maxWaitMs?: number;
  /** When the wait runs out: fail (default), or run `fn` anyway (logout must never hang on a stuck refresh). */
  readonly onTimeout?: 'fail' | 'proceed';
}

const DEFAULT_MAX_WAIT_MS = 20_000;
/** Between attempts while another holds a lock: short at first (most holds are a few ms), then 25 ms. */
const pollDelay = (attempt: number) => Math.min(25, 1 + attempt * 2);

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
  try {
    // Codex opens auth.lock 0666 (less the umask) and auth.json.lock 0600; so do we, so a file
    // either of us creates looks the same.
    for (const [name, mode] of [[AUTH_LOCK_NAME, 0o666], [COMMIT_LOCK_NAME, 0o600]] as const) {
      const file = await openLockFile(join(codexHome, name), mode);
      held.push(file);
      if (!(await lockBefore(file, deadline))) {
        if (onTimeout === 'proceed') break;
        throw Object.assign(new Error(`${join(codexHome, name)} is held by another process`), { code: 'ELOCKED' });
      }
    }
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


