/** Throwaway CODEX_HOME directories that tests create and always remove. */
import { lstat, mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempHome {
  readonly path: string;
  readonly authFile: string;
  writeAuth(record: unknown, mode?: number): Promise<void>;
  writeConfig(toml: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  remove(): Promise<void>;
}

/** `create: false` gives a path whose directory does not exist yet. */
export async function tempHome(options: { create?: boolean } = {}): Promise<TempHome> {
  const parent = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-test-'));
  const path = options.create === false ? join(parent, 'home') : parent;
  return homeAt(path, () => rm(parent, { recursive: true, force: true }));
}

/** A CODEX_HOME at `path` (made on the first write), removed by `remove`. */
function homeAt(path: string, remove: () => Promise<void>): TempHome {
  return {
    path,
    authFile: join(path, 'auth.json'),
    async writeAuth(record, mode = 0o600) {
      await mkdir(path, { recursive: true });
      await writeFile(join(path, 'auth.json'), typeof record === 'string' ? record : JSON.stringify(record, null, 2), { mode });
    },
    async writeConfig(toml) {
      await mkdir(path, { recursive: true });
      await writeFile(join(path, 'config.toml'), toml);
    },
    remove,
    [Symbol.asyncDispose]: remove,
  };
}

/**
 * A person's home folder whose ~/.codex does not exist yet: `path` is that ~/.codex, and `env`
 * runs a server or command on it as the default (CODEX_HOME unset, HOME set). A CODEX_HOME that
 * is set must exist (as in Codex 0.171); only the default is made by the first sign-in.
 */
export async function defaultHome(): Promise<TempHome & { env: Record<string, string | undefined> }> {
  const home = await tempHome();
  return { ...homeAt(join(home.path, '.codex'), home.remove), env: { CODEX_HOME: undefined, HOME: home.path } };
}

/** Codex's lock files: regular, empty, never removed (by Codex 0.171 or by us). */
export const LOCK_FILES = ['auth.json.lock', 'auth.lock'];

/**
 * What is in a CODEX_HOME besides the lock files, sorted; fails if a lock file is there but is
 * not an empty regular file (a lock folder, or a lock that holds data, would break Codex).
 */
export async function filesBesideLocks(home: string): Promise<string[]> {
  const names = (await readdir(home)).sort();
  for (const name of names.filter((n) => LOCK_FILES.includes(n))) {
    const info = await lstat(join(home, name));
    if (!info.isFile() || info.size !== 0) throw new Error(`${name} is not an empty regular file`);
  }
  return names.filter((n) => !LOCK_FILES.includes(n));
}
