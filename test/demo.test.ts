/** `npm run demo` must work on a fresh clone: run it the way CI (no terminal) would. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

for (const flow of ['browser', 'device'] as const) test(`the demo (${flow}) signs in against the embedded issuer and reports chatgpt`, async (t) => {
  const demo = spawn(process.execPath, [fileURLToPath(new URL('../dev/demo.js', import.meta.url)), '--auto', ...(flow === 'device' ? ['--device'] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => demo.kill('SIGKILL'));
  let output = '';
  demo.stdout.on('data', (chunk) => (output += chunk));
  const [code] = await once(demo, 'exit');
  assert.equal(code, 0, output);
  assert.match(output, /codex\/event\/login_chat_gpt_complete \{"loginId":"[0-9a-f-]+","success":true\}/);
  assert.match(output, /Signed in: authMethod=chatgpt/);
});

test('the demo (--accounts) signs in twice, lists both accounts and switches back, offline', async (t) => {
  const demo = spawn(process.execPath, [fileURLToPath(new URL('../dev/demo.js', import.meta.url)), '--accounts'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => demo.kill('SIGKILL'));
  let output = '';
  demo.stdout.on('data', (chunk) => (output += chunk));
  const [code] = await once(demo, 'exit');
  assert.equal(code, 0, output);
  assert.match(output, /\* work@example\.com \(plan business, session session-[0-9a-f]+\)\n\s+demo@example\.com \(plan plus/);
  assert.match(output, /auth\.json now holds demo@example\.com/);
  assert.doesNotMatch(output, /"(refresh_token|access_token|id_token)"/, 'no token in what the demo prints');
});
