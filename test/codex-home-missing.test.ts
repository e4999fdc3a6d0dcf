/**
 * A CODEX_HOME that is set but does not exist, as Codex 0.171 decides it (run side by side with
 * `codex login status` on the same value, from the same working folder):
 *  - an absolute path, a literal `~/x` (no shell expanded it) and a relative path that do not
 *    exist: 0.171 refuses with `CODEX_HOME points to "…", but that path does not exist` (exit 1);
 *    we refuse with the same words and the fix, exit 2 as every unusable CODEX_HOME (README);
 *    nothing is created, by `status`, `login` or the server;
 *  - a relative path that exists: both read it (taken from the working folder); we warn;
 *  - an empty CODEX_HOME: both read the default ~/.codex.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { requireCodex0171 } from './support/codex-0171-offline.js';
import { serverEntry } from './support/paths.js';
import { tempHome } from './support/temp-home.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], cwd: string, env: Record<string, string>, stdin = ''): Promise<Run> {
  const child = spawn(command, args, { cwd, env: { PATH: process.env['PATH']!, RUST_LOG: 'error', CODEX_AUTH_MCP_LOG: 'warn', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(stdin);
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

test('a CODEX_HOME that does not exist is refused as Codex 0.171 refuses it; an existing relative one is read by both', async (t) => {
  const dir = await tempHome();
  t.after(() => dir.remove());
  const userHome = join(dir.path, 'user');
  const cwd = join(dir.path, 'cwd');
  await mkdir(join(userHome, '.codex'), { recursive: true });
  await mkdir(join(cwd, 'relexist'), { recursive: true });
  const env = (codexHome: string) => ({ HOME: userHome, CODEX_HOME: codexHome });
  const codex = requireCodex0171();

  for (const value of [join(dir.path, 'missing'), '~/x', 'rel']) {
    const theirs = await run(codex, ['login', 'status'], cwd, env(value));
    const words = `CODEX_HOME points to "${value}", but that path does not exist`;
    assert.equal(theirs.code, 1, `0.171 refuses ${value}`);
    assert.ok(theirs.stderr.includes(words), `0.171 says: ${theirs.stderr}`);
    for (const args of [['status'], ['login', '--with-api-key'], ['mcp']]) {
      const ours = await run(process.execPath, [serverEntry, ...args], cwd, env(value), 'sk-never\n');
      assert.equal(ours.code, 2, `${value} ${args.join(' ')}: ${ours.stderr}`);
      assert.equal(ours.stdout, '');
      assert.ok(ours.stderr.startsWith(`codex-auth-mcp: ${words}; `), ours.stderr);
    }
    assert.equal(existsSync(join(cwd, value)) || existsSync(join(dir.path, 'missing')), false, 'nothing was created');
  }
  const tilde = await run(process.execPath, [serverEntry, 'status'], cwd, env('~/x'));
  assert.match(tilde.stderr, new RegExp(`~ is not expanded here: write the full path \\(${userHome}/x\\)`));

  // Existing and relative: read by both, from the working folder.
  const theirs = await run(codex, ['login', 'status'], cwd, env('relexist'));
  assert.equal(theirs.code, 1);
  assert.match(theirs.stdout + theirs.stderr, /Not logged in/);
  const ours = await run(process.execPath, [serverEntry, 'status', '--json'], cwd, env('relexist'));
  assert.equal(ours.code, 1);
  assert.deepEqual(JSON.parse(ours.stdout).codexHome, { path: join(cwd, 'relexist'), source: 'env' });
  assert.equal(ours.stderr, `codex-auth-mcp: warning: CODEX_HOME (relexist) is a relative path, taken from the working folder: ${join(cwd, 'relexist')}\n`);

  // Empty: the default, for both.
  assert.equal((await run(codex, ['login', 'status'], cwd, env(''))).code, 1);
  const empty = await run(process.execPath, [serverEntry, 'status', '--json'], cwd, env(''));
  assert.deepEqual(JSON.parse(empty.stdout).codexHome, { path: join(userHome, '.codex'), source: 'default' });
});
