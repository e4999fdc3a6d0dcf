/**
 * auth.json itself: read, replace atomically and delete it exactly as Codex 0.171 does, so the two
 * can share one CODEX_HOME. A write goes to a fresh `.auth-XXXXXX` file opened exclusive and
 * no-follow with mode 0600, is fsynced, renamed onto auth.json, and the folder is fsynced. Callers
 * that read-modify-write hold Codex's locks around these (locks.ts).
 * Runs on every thread that reads or writes credentials: main, login worker, token service.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createCodexHome } from './codex-home.js';
import { fingerprintOf, parseStoredAuth, type AuthRecord, type StoredAuth } from './record.js';

export const AUTH_FILE_NAME = 'auth.json';
export const authFilePath = (codexHome: string) => join(codexHome, AUTH_FILE_NAME);

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
  await createCodexHome(codexHome);
}
