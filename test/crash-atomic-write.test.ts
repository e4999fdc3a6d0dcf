/**
 * Kill a writer at random points, many times: auth.json must always parse and hold either the old
 * or the new tokens, never a mix, a truncation or an empty file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, readdir, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempHome } from './support/temp-home.js';

const writer = fileURLToPath(new URL('./support/auth-writer.js', import.meta.url));
const KILLS = 200;

test(`auth.json survives ${KILLS} SIGKILLs of its writer`, async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  for (let i = 0; i < KILLS; i++) {
    const child = spawn(process.execPath, [writer, home.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout, 'data'); // it is about to write
    // Random moments inside the write loop: from at once to a few writes in.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
    child.kill('SIGKILL');
    await once(child, 'exit');
    let text: string;
    try {
      text = await readFile(home.authFile, 'utf8');
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOENT', 'only "not written yet" is acceptable');
      continue;
    }
    const record = JSON.parse(text);
    const which = record.tokens.id_token.slice(3);
    assert.ok(which === 'A' || which === 'B');
    assert.equal(record.tokens.access_token, `access-${which}`.repeat(200), 'never a mix of two records');
    assert.equal(record.tokens.refresh_token, `refresh-${which}`);
    assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  }
  // At least the file was written at some point in all those runs.
  assert.ok((await readdir(home.path)).includes('auth.json'));
});
