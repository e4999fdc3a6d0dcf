/**
 * ssh's rule for where secrets may go, applied to CODEX_HOME (and to the folder a symlinked
 * auth.json points into): the folder must belong to this user (or root) and must not be writable
 * by anyone else. Another user who can write there can swap files and links under us between a
 * check and a write, and so read the refresh token; no care in the write itself can stop that.
 * The same rule holds for reading: credentials found in such a folder may have been planted there.
 * Windows has neither uids nor these mode bits; its folder ACLs are left to the person.
 */
import { lstat, realpath } from 'node:fs/promises';

export class UnsafeFolderError extends Error {
  override readonly name = 'UnsafeFolderError';
  readonly code = 'EUNSAFEFOLDER';
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/** Throws UnsafeFolderError (naming the folder, what is wrong and the fix) unless `folder` is private to us. */
export async function assertPrivateFolder(folder: string, what = 'the credentials'): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const info = await lstat(folder);
  // A CODEX_HOME that is itself a symlink (~/.codex -> dotfiles) is judged by where it leads,
  // once the link is found to be ours: another user's link could be pointed elsewhere at will.
  if (info.isSymbolicLink()) {
    if (info.uid !== uid && info.uid !== 0) {
      throw new UnsafeFolderError(`refusing to store ${what} in ${folder}: it is a symlink made by another user (uid ${info.uid}, you are uid ${uid}); remove it, or set CODEX_HOME to a folder of your own`);
    }
    return assertPrivateFolder(await realpath(folder), what);
  }
  if (info.uid !== uid && info.uid !== 0) {
    throw new UnsafeFolderError(`refusing to store ${what} in ${folder}: it belongs to another user (uid ${info.uid}, you are uid ${uid}); use a folder of your own (set CODEX_HOME) or run: chown ${uid} ${folder}`);
  }
  if ((info.mode & 0o022) !== 0) {
    throw new UnsafeFolderError(`refusing to store ${what} in ${folder}: other users can write to it (mode ${octal(info.mode)}); run: chmod go-w ${folder}`);
  }
}

