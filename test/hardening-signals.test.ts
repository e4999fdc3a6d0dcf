/**
 * Issue 11, item 5: SIGHUP ends `serve` the way SIGTERM and SIGINT do: a pending login sends its
 * completion, the process exits 0 on its own. Before the fix Node's default ended it at once,
 * with no completion (and a refresh in flight would have lost its rotated token).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
  test(`${signal} winds serve down: the pending login's completion goes out, then exit 0`, async (t) => {
    const home = await tempHome();
    t.after(() => home.remove());
    const client = startServer(t, { codexHome: home.path, args: ['-c', 'login_callback_port=0'] });
    const { result } = await client.request('loginChatGpt', {});
    client.child.kill(signal);
    const completion = await client.waitFor((m) => m.method === 'codex/event/login_chat_gpt_complete', 'the login completion');
    assert.equal(completion.params.loginId, result.loginId);
    assert.equal(completion.params.success, false);
    assert.deepEqual(await client.exited, { code: 0, signal: null });
  });
}
