/**
 * Whether a sign-in's result could be kept: asked before a sign-in page or a device code is handed
 * out, so that a CODEX_HOME this process cannot write is found out before the person signs in,
 * not after (a browser sign-in that went all the way through, then "Unable to persist auth file:
 * EACCES … auth.lock"). What a write needs: to create files in CODEX_HOME (or, for a folder not
 * made yet, in the nearest folder above it) and to open Codex's two lock files read-write. The
 * ownership and mode rules of a private folder (private-folder.ts) are checked at the write
 * itself, and here too when the folder exists, so both refuse alike.
 */
import { constants } from 'node:fs';
import { access, lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { lockShapeProblem } from './locks.js';
import { assertPrivateFolder } from './private-folder.js';

const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);
const LOCK_FILES = ['auth.lock', 'auth.json.lock'];

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/** Why `path` cannot be written, in words with the fix, or undefined when it can. */
async function notWritable(path: string, mode: number): Promise<string | undefined> {
  try {
    await access(path, mode);
    return undefined;
  } catch (error) {
    if (code(error) === 'EROFS') return `${path} is on a read-only file system; point CODEX_HOME at a writable folder`;
    const info = await stat(path).catch(() => undefined);
    const uid = process.getuid?.();
    if (info && uid !== undefined && info.uid !== uid) {
      return `${path} belongs to another user (uid ${info.uid}, mode ${octal(info.mode)}; you are uid ${uid}) and this process may not write it (${code(error)}); point CODEX_HOME at a folder of yours`;
    }
    const mode = info ? ` (mode ${octal(info.mode)})` : '';
    return `this process may not write ${path}${mode} (${code(error)}); run: chmod u+w ${path}`;
  }
}

/**
 * Throws an Error naming CODEX_HOME, why a sign-in could not be stored there and the fix; returns
 * when it could be. Run on the main thread (local file system only).
 */
export async function assertCodexHomeWritable(codexHome: string, purpose: 'sign-in' | 'sign-out' = 'sign-in'): Promise<void> {
  const refuse = (why: string): never => {
    throw new Error(
      purpose === 'sign-in'
        ? `CODEX_HOME (${codexHome}) cannot hold a sign-in: ${why}. Nothing was started.`
        : `CODEX_HOME (${codexHome}) cannot be changed: ${why}. Nothing was removed.`,
    );
  };
  let existing = codexHome;
  while (!(await lstat(existing).then(() => true, () => false))) {
    if (dirname(existing) === existing) refuse('no folder above it exists');
    existing = dirname(existing);
  }
  // A folder: to create files in it, write and search permission.
  const problem = await notWritable(existing, constants.W_OK | constants.X_OK);
  if (problem) refuse(existing === codexHome ? problem : `it does not exist yet and cannot be made: ${problem}`);
  if (existing !== codexHome) return;
  for (const name of LOCK_FILES) {
    const lock = join(codexHome, name);
    const info = await lstat(lock).catch(() => undefined);
    if (!info) continue;
    // A lock of the wrong shape is named as the lock itself names it; a logout goes ahead without it.
    // An empty auth.json.lock folder is an earlier version's lock, removed at the first lock (locks.ts).
    const legacyFolder = name === 'auth.json.lock' && info.isDirectory() && (await readdir(lock).then((entries) => entries.length === 0, () => false));
    const shape = legacyFolder ? undefined : lockShapeProblem(lock, info);
    if (shape) {
      if (purpose === 'sign-in') refuse(shape);
      continue;
    }
    const lockProblem = await notWritable(lock, constants.W_OK);
    if (lockProblem) refuse(`its lock file ${name} cannot be opened for writing: ${lockProblem}`);
  }
  // Removing credentials from a folder that is not private is what one wants: only a sign-in is refused there.
  if (purpose === 'sign-in') await assertPrivateFolder(codexHome).catch((error: Error) => refuse(error.message));
}
