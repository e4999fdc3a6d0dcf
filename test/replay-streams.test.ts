/**
 * The load-test tooling, for correctness only (no timing): one short replay of each shipped
 * stream, the replayer catching what is wrong, and a session recorded through the proxy.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { benchClient } from '../bench/lib/bench-client.js';
import { mismatch, substitute } from '../bench/load/stream.js';

const replayer = fileURLToPath(new URL('../bench/load/replay.js', import.meta.url));
const recorder = fileURLToPath(new URL('../bench/load/record.js', import.meta.url));
const server = fileURLToPath(new URL('../bundle/main.js', import.meta.url));
const streams = fileURLToPath(new URL('../../bench/streams/', import.meta.url));

interface Replay {
  code: number;
  report: { requests: number; notifications: number; mismatchCount: number; mismatches: string[]; errors: string[] };
}

/** Runs `npm run load`'s replayer and returns its exit code and JSON report. */
function replay(stream: string, ...args: string[]): Promise<Replay> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [replayer, stream, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      try {
        resolve({ code, report: JSON.parse(stdout) });
      } catch {
        reject(new Error(`no report (exit ${code}): ${stdout}\n${stderr}`));
      }
    });
  });
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'replay-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const lines = (...entries: unknown[]) => `${entries.map((entry) => JSON.stringify(entry)).join('\n')}\n`;
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

test('stream patterns: exact values, $match and $any; references to earlier results', () => {
  assert.equal(mismatch({ a: 1, b: { $match: '^x+$' }, c: { $any: true } }, { a: 1, b: 'xxx', c: [1] }), undefined);
  assert.match(mismatch({ a: 1 }, { a: 2 })!, /\$\.a: expected 1, got 2/);
  assert.match(mismatch({ a: 1 }, { a: 1, extra: true })!, /extra/);
  assert.match(mismatch({ b: { $match: '^x+$' } }, { b: 'y' })!, /does not match/);
  assert.deepEqual(substitute({ p: '${result:5.loginId}' }, new Map([[5, { loginId: 'L' }]])), { p: 'L' });
});

const shipped = (await readdir(streams)).filter((f) => f.endsWith('.jsonl')).sort();

test('three streams are shipped', () => {
  assert.deepEqual(shipped, ['external-change-storm.jsonl', 'ide-startup.jsonl', 'login-churn.jsonl']);
});

for (const stream of shipped) {
  test(`replaying ${stream} (2 clients, once) finds no mismatch`, async () => {
    const { code, report } = await replay(`${streams}${stream}`, '--clients', '2');
    assert.equal(report.mismatchCount, 0, JSON.stringify(report.mismatches));
    assert.deepEqual(report.errors, []);
    assert.equal(code, 0);
    assert.ok(report.requests > 0);
  });
}

test('a wrong expectation and an unexpected notification are mismatches: exit 1', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    `${dir}/wrong.jsonl`,
    lines(
      { stream: 'wrong', auth: { OPENAI_API_KEY: 'sk-x' }, notifications: [] },
      { t: 0, send: INIT, expect: { result: { $any: true } } },
      // A checkpoint (`eventually`), so the logout below cannot overtake it.
      { t: 1, send: { jsonrpc: '2.0', id: 2, method: 'getAuthStatus', params: {} }, expect: { result: { authMethod: 'chatgpt', preferredAuthMethod: 'chatgpt' } }, eventually: 100 },
      { t: 2, send: { jsonrpc: '2.0', id: 3, method: 'logoutChatGpt', params: {} }, expect: { result: { $any: true } } },
    ),
  );
  const { code, report } = await replay(`${dir}/wrong.jsonl`, '--clients', '1');
  assert.equal(code, 1);
  assert.equal(report.mismatchCount, 2, JSON.stringify(report.mismatches));
  assert.ok(report.mismatches.some((m) => /step 3 \(getAuthStatus\), for 100 ms: \$\.result\.authMethod: expected "chatgpt", got "apikey"/.test(m)), report.mismatches.join('\n'));
  assert.ok(report.mismatches.some((m) => /unexpected notification .*auth_status_change/.test(m)), report.mismatches.join('\n'));
});

test('an expectation that never settles fails after its `eventually` bound', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    `${dir}/never.jsonl`,
    lines(
      { stream: 'never', notifications: [] },
      { t: 0, send: INIT, expect: { result: { $any: true } }, eventually: 60_000 }, // a checkpoint: the server is up after it
      { t: 1, send: { jsonrpc: '2.0', id: 2, method: 'getAuthStatus', params: {} }, expect: { result: { authMethod: 'apikey', preferredAuthMethod: 'chatgpt' } }, eventually: 1_500 },
    ),
  );
  const { code, report } = await replay(`${dir}/never.jsonl`, '--clients', '1');
  assert.equal(code, 1);
  assert.equal(report.mismatchCount, 1);
  assert.match(report.mismatches[0]!, /for 1500 ms: \$\.result\.authMethod/);
  assert.ok(report.requests > 2, 'it asked again');
});

test('a server that cannot start is an error, not a hang: exit 1', async (t) => {
  const dir = await tempDir(t);
  await writeFile(`${dir}/bad.jsonl`, lines({ stream: 'bad', args: ['-c', 'preferred_auth_method=bogus'] }, { t: 0, send: INIT, expect: { result: { $any: true } } }));
  const { code, report } = await replay(`${dir}/bad.jsonl`, '--clients', '1');
  assert.equal(code, 1);
  assert.match(report.errors.join('\n'), /server exited \(code 2\)/);
});

test('a session recorded through the proxy is forwarded unchanged, redacted, and replays without mismatch', async (t) => {
  const dir = await tempDir(t);
  // A CODEX_HOME that is set must exist (as in Codex 0.171).
  await mkdir(`${dir}/home`, { mode: 0o700 });
  const proxy = spawn(process.execPath, [recorder, `${dir}/s.jsonl`, '--', process.execPath, server, 'mcp', '-c', 'login_callback_port=0'], {
    env: { PATH: process.env['PATH'] ?? '', CODEX_HOME: `${dir}/home` },
  });
  const client = benchClient(proxy);
  await client.request('initialize', INIT.params);
  assert.deepEqual((await client.request('loginApiKey', { apiKey: 'sk-very-secret' })).result, {});
  const status = await client.request('getAuthStatus', { includeToken: true });
  assert.equal(status.result.authToken, 'sk-very-secret', 'the client gets every answer unchanged');
  const { result: login } = await client.request('loginChatGpt', {});
  const ended = new Promise((resolve) => client.onNotification((m) => m.method === 'codex/event/login_chat_gpt_complete' && resolve(m.params)));
  assert.deepEqual((await client.request('cancelLoginChatGpt', { loginId: login.loginId })).result, {});
  assert.equal(((await ended) as { loginId: string }).loginId, login.loginId);
  await client.close();
  assert.equal((await client.exited).code, 0);

  const recorded = await readFile(`${dir}/s.jsonl`, 'utf8');
  assert.equal(recorded.includes('sk-very-secret'), false, 'the API key is redacted');
  assert.equal(recorded.includes(login.loginId), false, 'the random login id is not recorded literally');
  const [header, ...steps] = recorded.trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(header.args, ['-c', 'login_callback_port=0']);
  assert.deepEqual(steps.find((s) => s.send.method === 'cancelLoginChatGpt').send.params, { loginId: '${result:4.loginId}' });
  assert.deepEqual(steps.find((s) => s.send.method === 'getAuthStatus').expect.result.authToken, { $any: true });
  // The status was asked once the sign-in was answered; the replay must keep that order.
  assert.deepEqual(steps.find((s) => s.send.method === 'getAuthStatus').after, [steps.find((s) => s.send.method === 'loginApiKey').send.id]);
  assert.ok(header.notifications.some((n: { method: string }) => n.method === 'codex/event/login_chat_gpt_complete'));

  const { code, report } = await replay(`${dir}/s.jsonl`, '--clients', '1');
  assert.equal(report.mismatchCount, 0, JSON.stringify(report.mismatches));
  assert.deepEqual(report.errors, []);
  assert.equal(code, 0);
  assert.ok(report.notifications >= 2);
});
