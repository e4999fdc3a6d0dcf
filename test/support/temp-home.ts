/** Throwaway CODEX_HOME directories that tests create and always remove. */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
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
  const remove = () => rm(parent, { recursive: true, force: true });
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
