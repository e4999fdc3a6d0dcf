/**
 * src/log.ts: pino is loaded on the first line logged at an enabled level, and a line whose
 * logger cannot be loaded (EMFILE, say) still gets out as its message alone, never its fields,
 * and never throws into the code that logged it.
 *
 * Each case runs the compiled log.js in a child process, so the level is read from a fresh
 * environment and the module cache says what was loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const logModule = fileURLToPath(new URL('../src/log.js', import.meta.url));

async function runLogging(module: string, level: string, script: string) {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(module)};\nconst log = createLogger();\n${script}`],
    { env: { ...process.env, CODEX_AUTH_MCP_LOG: level } },
  );
  return { stdout, lines: stderr.split('\n').filter(Boolean) };
}

test('below the level nothing is written and pino is never loaded; at it, pino writes the line with secrets redacted', async () => {
  const loaded = "process.stdout.write(String(Object.keys((await import('node:module')).createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/pino/'))))";
  const quiet = await runLogging(logModule, 'warn', `log.info({ a: 1 }, 'not shown'); log.debug('nor this');\n${loaded}`);
  assert.deepEqual(quiet.lines, []);
  assert.equal(quiet.stdout, 'false', 'pino was not loaded');

  const shown = await runLogging(logModule, 'info', `log.info({ apiKey: 'sk-secret', n: 2 }, 'shown');\n${loaded}`);
  assert.equal(shown.stdout, 'true', 'pino was loaded for the line');
  assert.equal(shown.lines.length, 1);
  const line = JSON.parse(shown.lines[0]!);
  assert.deepEqual([line.level, line.msg, line.n, line.apiKey], [30, 'shown', 2, '[redacted]']);
});

test('a logger that cannot be loaded: the message alone, no field, and the caller goes on', async (t) => {
  // log.js copied where no node_modules can be found: require('pino') fails, as under EMFILE.
  const dir = await mkdtemp(join(tmpdir(), 'log-without-pino-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const copy = join(dir, 'log.mjs');
  await copyFile(logModule, copy);
  const { stdout, lines } = await runLogging(copy, 'info', "log.warn({ apiKey: 'sk-secret' }, 'could not do it'); log.error('twice'); process.stdout.write('went on');");
  assert.equal(stdout, 'went on');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!);
  assert.deepEqual([first.level, first.msg, first.name], [40, 'could not do it', 'codex-auth-mcp']);
  assert.match(first.logger, /^unavailable: Cannot find module 'pino'/);
  assert.doesNotMatch(lines.join('\n'), /sk-secret|apiKey/);
  assert.equal(JSON.parse(lines[1]!).msg, 'twice', 'each line tries again');
});
