/**
 * Reading a credentials file (auth.json, account-sessions.json) only when it is a regular file.
 * A FIFO in its place would block the read forever: a libuv threadpool thread stuck in open(2),
 * requests unanswered, SIGTERM waiting on it, and Codex's locks held by whoever was reading under
 * them. So the file is opened non-blocking (a FIFO then opens at once, with no writer needed),
 * judged by fstat of that very descriptor (no window between a check and the open), and read
 * only if it is a regular file. Windows has no FIFOs at these paths and no O_NONBLOCK (0 there).
 */
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
  readonly code = 'ENOTREGULAR';
}

const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export function kindOfFile(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isDirectory()) return 'a folder';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

/**
 * The text of `path`, or undefined when there is no such file; throws NotRegularFileError
 * (naming the file, what it is, and the fix) when something else is there.
 */
export async function readRegularFile(path: string, fix: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NotRegularFileError(`${path} is ${kindOfFile(info)}, not a regular file; ${fix}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close().catch(() => undefined);
  }
}
