/** One short replay of each shipped stream, as `npm run load` runs it: correctness only, no timing. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mismatch, substitute } from '../bench/load/stream.js';

const run = promisify(execFile);
const replay = fileURLToPath(new URL('../bench/load/replay.js', import.meta.url));
const streams = fileURLToPath(new URL('../../bench/streams/', import.meta.url));

test('stream patterns: exact values, $match and $any', () => {
  assert.equal(mismatch({ a: 1, b: { $match: '^x+$' }, c: { $any: true } }, { a: 1, b: 'xxx', c: [1] }), undefined);
  assert.match(mismatch({ a: 1 }, { a: 2 })!, /\$\.a: expected 1, got 2/);
  assert.match(mismatch({ a: 1 }, { a: 1, extra: true })!, /extra/);
  assert.deepEqual(substitute({ p: '${result:5.loginId}' }, new Map([[5, { loginId: 'L' }]])), { p: 'L' });
});

for (const stream of (await readdir(streams)).filter((f) => f.endsWith('.jsonl'))) {
  test(`replaying ${stream} finds no mismatch`, async () => {
    const { stdout } = await run(process.execPath, [replay, `${streams}${stream}`, '--clients', '2'], { timeout: 120_000 });
    const report = JSON.parse(stdout);
    assert.equal(report.mismatchCount, 0, JSON.stringify(report.mismatches));
    assert.deepEqual(report.errors, []);
    assert.ok(report.requests > 0);
  });
}

test('a session recorded through the proxy replays without mismatch, with secrets redacted', async (t) => {
  const dir = await mkdtemp(`${tmpdir()}/record-`);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const recorder = fileURLToPath(new URL('../bench/load/record.js', import.meta.url));
  const server = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const proxy = spawn(process.execPath, [recorder, `${dir}/s.jsonl`, '--', process.execPath, server, 'mcp'], {
    env: { PATH: process.env['PATH'] ?? '', CODEX_HOME: `${dir}/home` },
  });
  proxy.stdin.end(
    ['{"jsonrpc":"2.0","id":1,"method":"loginApiKey","params":{"apiKey":"sk-very-secret"}}', '{"jsonrpc":"2.0","id":2,"method":"getAuthStatus","params":{"includeToken":true}}', ''].join('\n'),
  );
  let forwarded = '';
  proxy.stdout.on('data', (chunk) => (forwarded += chunk));
  await once(proxy, 'exit');
  assert.match(forwarded, /"authToken":"sk-very-secret"/, 'the client still gets everything, unchanged');
  const recorded = await readFile(`${dir}/s.jsonl`, 'utf8');
  assert.equal(recorded.includes('sk-very-secret'), false);
  const { stdout } = await run(process.execPath, [replay, `${dir}/s.jsonl`, '--clients', '1'], { timeout: 60_000 });
  assert.equal(JSON.parse(stdout).mismatchCount, 0);
});
