/**
 * CODEX_HOME as a place to keep credentials: what is wrong with it, if anything, in words that
 * name it (checked once at start-up by the CLI), and creating it when the first write needs it.
 *
 * Creating goes one folder at a time rather than through `mkdir -p`: Node's recursive mkdir
 * loops forever where a parent exists but refuses children with ENOENT (/proc), and a message
 * naming the folder that could not be made is what a person needs anyway.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);

/** The nearest folder of `path` (itself included) that exists, and the ones below it still to make. */
async function existingAncestor(path: string): Promise<{ found: string; isDirectory: boolean; missing: string[] } | { error: string; at: string }> {
  const missing: string[] = [];
  for (let current = path; ; current = dirname(current)) {
    try {
      const info = await stat(current);
      return { found: current, isDirectory: info.isDirectory(), missing };
    } catch (error) {
      // ENOTDIR: a part of the path is a file; the walk up reaches it and reports it.
      if (code(error) !== 'ENOENT' && code(error) !== 'ENOTDIR') return { error: code(error), at: current };
      if (dirname(current) === current) return { error: code(error), at: current };
      missing.unshift(current);
    }
  }
}

/**
 * Why CODEX_HOME cannot hold credentials, or undefined when it can (or can be created). A folder
 * that does not exist yet is fine as long as what exists above it is a folder.
 */
export async function codexHomeProblem(codexHome: string): Promise<string | undefined> {
  const found = await existingAncestor(codexHome);
  if ('error' in found) return `CODEX_HOME (${codexHome}) cannot be used: ${found.at}: ${found.error}`;
  if (found.isDirectory) return undefined;
  return found.found === codexHome
    ? `CODEX_HOME (${codexHome}) is not a folder; point CODEX_HOME at a folder (or unset it for ~/.codex)`
    : `CODEX_HOME (${codexHome}) cannot be created: ${found.found} is not a folder`;
}

/** Makes CODEX_HOME (mode 0700), and any missing folder above it, one at a time; throws a message naming it. */
export async function createCodexHome(codexHome: string): Promise<void> {
  const found = await existingAncestor(codexHome);
  if ('error' in found) throw new Error(`CODEX_HOME (${codexHome}) cannot be used: ${found.at}: ${found.error}`);
  if (!found.isDirectory) throw new Error(`CODEX_HOME (${codexHome}) cannot be created: ${found.found} is not a folder`);
  for (const folder of found.missing) {
    try {
      await mkdir(folder, { mode: 0o700 });
    } catch (error) {
      if (code(error) === 'EEXIST' && (await stat(folder).then((s) => s.isDirectory(), () => false))) continue; // made by a sibling meanwhile
      throw new Error(`CODEX_HOME (${codexHome}) cannot be created: mkdir ${folder}: ${code(error)}`);
    }
  }
}
