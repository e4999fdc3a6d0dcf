/**
 * auth.json itself: read, replace atomically and delete it exactly as Codex 0.171 does, so the two
 * can share one CODEX_HOME. A write goes to a fresh `.auth-XXXXXX` file opened exclusive and
 * no-follow with mode 0600, is fsynced, renamed onto auth.json, and the folder is fsynced. Nothing
 * is written into a folder other users can write (private-folder.ts). Callers
 * that read-modify-write hold Codex's locks around these (locks.ts).
 * Runs on every thread that reads or writes credentials: main, login worker, token service.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createCodexHome } from './codex-home.js';
import { assertPrivateFolder, UnsafeFolderError } from './private-folder.js';
import { fingerprintOf, parseStoredAuth, type AuthRecord, type StoredAuth } from './record.js';
import { NotRegularFileError, readRegularFile } from './regular-file.js';

export const AUTH_FILE_NAME = 'auth.json';
export const authFilePath = (codexHome: string) => join(codexHome, AUTH_FILE_NAME);

/**
 * auth.json as stored, read under the same rules as a write: not from a CODEX_HOME others can
 * write or that is not ours, not through another user's symlink, and only from a regular file
 * (regular-file.ts). A planted record is never served; a FIFO never blocks the thread.
 */
export async function readAuthFile(codexHome: string): Promise<StoredAuth> {
  const path = authFilePath(codexHome);
  let text: string | undefined;
  try {
    const target = await credentialTarget(codexHome);
    text = await readRegularFile(target, `remove it (rm ${target}) and sign in again`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (error instanceof UnsafeFolderError) {
      // Nothing stored is nothing planted: an unsafe home with no auth.json is simply signed out
      // (a sign-in there is refused with this same message).
      if (!(await lstat(path).then(() => true, () => false))) return { kind: 'missing' };
      return { kind: 'unusable', reason: error.message, fingerprint: `unsafe:${error.message}`, code: 'codex_home_unsafe' };
    }
    if (error instanceof NotRegularFileError) return { kind: 'unusable', reason: error.message, fingerprint: `not-regular:${path}` };
    return { kind: 'unusable', reason: `cannot read auth.json (${code ?? 'error'})`, fingerprint: `error:${code}` };
  }
  if (text === undefined) return { kind: 'missing' };
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
  await replaceAtomically(await credentialTarget(codexHome), JSON.stringify(record, null, 2));
}

/**
 * Replaces another private file of CODEX_HOME (the inactive account sessions) the way auth.json
 * is replaced: a fresh 0600 temp file, fsynced, renamed, the folder fsynced. A symlink in its
 * place is replaced, never written through (only auth.json follows a person's dotfile link).
 */
export async function writePrivateFile(codexHome: string, name: string, text: string): Promise<void> {
  await ensureCodexHome(codexHome);
  await replaceAtomically(join(codexHome, name), text);
}

async function replaceAtomically(target: string, text: string): Promise<void> {
  const folder = dirname(target);
  let temp = '';
  let handle;
  for (let attempt = 0; !handle; attempt++) {
    temp = join(folder, tempName());
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
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncFolder(folder);
}

/**
 * Where auth.json is read from and written to, once CODEX_HOME is found private (private-folder.ts).
 * Normally auth.json itself (a write's rename replaces it). A symlink
 * the person made (dotfiles: ~/.codex/auth.json -> ~/dotfiles/codex/auth.json) is kept, and the
 * file it leads to is replaced instead, as Codex 0.171 does, provided the link is theirs and the
 * folder it leads into passes the same check as CODEX_HOME. A link anyone else made is refused:
 * writing through it would hand them the tokens.
 */
async function credentialTarget(codexHome: string): Promise<string> {
  await assertPrivateFolder(codexHome);
  const path = authFilePath(codexHome);
  const link = await lstat(path).catch(() => undefined);
  if (!link?.isSymbolicLink()) return path;
  const uid = process.getuid?.();
  if (uid !== undefined && link.uid !== uid && link.uid !== 0) {
    throw new UnsafeFolderError(`refusing to write the credentials through ${path}: it is a symlink made by another user (uid ${link.uid}); remove it and sign in again`);
  }
  // A dangling link (the dotfile not there yet) leads to where it points.
  const target = await realpath(path).catch(async () => resolve(dirname(path), await readlink(path)));
  await assertPrivateFolder(dirname(target));
  const existing = await lstat(target).catch(() => undefined);
  if (existing && !existing.isFile()) throw new UnsafeFolderError(`refusing to write the credentials through ${path}: it leads to ${target}, which is not a regular file`);
  return target;
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

const TEMP_PATTERN = /^\.auth-[A-Za-z0-9]{6}$/;
/** Older than this, a temp file is no write in progress (a write takes milliseconds) but a crash's leftover. */
export const STALE_TEMP_MS = 60_000;

/**
 * Removes temp files a crash left behind (they may hold tokens). Called with Codex's locks held;
 * the age bound also spares a write of Codex 0.171's refresh, which it does without the lock.
 */
export async function removeStaleTempFiles(codexHome: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(codexHome).catch(() => [] as string[])) {
    if (!TEMP_PATTERN.test(name)) continue;
    const path = join(codexHome, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile() || now - info.mtimeMs < STALE_TEMP_MS) continue;
    if (await unlink(path).then(() => true, () => false)) removed++;
  }
  return removed;
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

/** Creates CODEX_HOME (0700) if need be, and refuses one that others can write or that is not ours (private-folder.ts). */
export async function ensureCodexHome(codexHome: string): Promise<void> {
  await createCodexHome(codexHome);
  await assertPrivateFolder(codexHome);
}
