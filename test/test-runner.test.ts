/**
 * The suite's runner (scripts/run-files.mjs) starts files in the order it is given, not by name
 * (`node --test` sorts them, which left the slowest file running alone at the end), and exits 1
 * when a test fails or a file cannot load.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from './support/paths.js';

const runFiles = join(projectRoot, 'scripts/run-files.mjs');

async function scratch(t: { after(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-runner-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'order.log');
  /** A test file that appends its name to the log when it starts. */
  const file = async (name: string, body = '') => {
    const path = join(dir, `${name}.test.mjs`);
    await writeFile(path, `import { appendFileSync } from 'node:fs';\nimport { test } from 'node:test';\nappendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${name}\n`)});\ntest('${name}', () => { ${body} });\n`);
    return path;
  };
  // NODE_TEST_CONTEXT would make the inner runner report to this one instead of printing.
  const { NODE_TEST_CONTEXT: _outer, ...env } = process.env;
  const run = (files: string[]) => spawnSync(process.execPath, [runFiles, '1', ...files], { env, encoding: 'utf8' });
  return { dir, file, run, order: async () => (await readFile(log, 'utf8')).trim().split('\n') };
}

test('files start in the order given, not by name; all passing exits 0', async (t) => {
  const { file, run, order } = await scratch(t);
  const files = [await file('charlie'), await file('alpha'), await file('bravo')];
  const result = run(files);
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.deepEqual(await order(), ['charlie', 'alpha', 'bravo']);
  assert.match(result.stdout, /ℹ pass 3/);
});

test('a failing test, or a file that cannot load, exits 1 and is reported', async (t) => {
  const { dir, file, run } = await scratch(t);
  const failing = run([await file('passes'), await file('fails', "throw new Error('expected failure');")]);
  assert.equal(failing.status, 1);
  assert.match(failing.stdout, /ℹ fail 1/);
  const broken = join(dir, 'broken.test.mjs');
  await writeFile(broken, "throw new Error('cannot load');\n");
  const unloadable = run([await file('fine'), broken]);
  assert.equal(unloadable.status, 1);
  assert.match(unloadable.stdout, /cannot load/);
});
