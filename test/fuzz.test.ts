/**
 * Random input against the built server: it must stay alive, answer at most one line per input
 * line, never answer a notification, and write nothing but JSON-RPC to stdout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startServer } from './support/rpc-client.js';
import { tempHome } from './support/temp-home.js';

const methods = ['initialize', 'ping', 'getAuthStatus', 'logoutChatGpt', 'cancelLoginChatGpt', 'tools/list', 'nope', 'notifications/cancelled'];

/** Lines a confused or hostile client might send, tagged with whether they may be answered. */
const lineArbitrary = fc.oneof(
  fc.string({ maxLength: 200 }).map((text) => ({ line: text.replace(/\n/g, ' ') })),
  fc.json({ maxDepth: 4 }).map((text) => ({ line: text })),
  fc
    .record({
      jsonrpc: fc.constantFrom('2.0', '1.0', undefined),
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.double(), fc.constant(null), fc.constant(undefined)),
      method: fc.oneof(fc.constantFrom(...methods), fc.string({ maxLength: 10 }), fc.integer()),
      params: fc.oneof(fc.anything({ maxDepth: 3 }), fc.constant(undefined)),
    })
    .map((message) => ({ line: JSON.stringify(message) })),
  fc.integer({ min: 1, max: 200 }).map((depth) => ({ line: `${'['.repeat(depth)}${']'.repeat(depth)}` })),
  fc.string({ maxLength: 50 }).map((method) => ({ line: JSON.stringify({ jsonrpc: '2.0', method }), notification: true })),
);

test('random lines never crash the server and get at most one well-formed answer each', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  const samples = fc.sample(fc.array(lineArbitrary, { minLength: 1, maxLength: 40 }), { numRuns: 60, seed: 4242 }).flat();
  samples.push({ line: `{"jsonrpc":"2.0","id":"huge","method":"ping","params":{"x":"${'a'.repeat(5 * 1024 * 1024)}"}}` });
  samples.push({ line: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` });
  for (const { line } of samples) client.sendLine(line);
  await client.request('ping', undefined, 'fuzz-end', 30_000);

  assert.equal(client.child.exitCode, null, 'still running');
  // Every input line produces at most one output line (plus our own final ping).
  assert.ok(client.stdoutLines.length <= samples.length + 1, `${client.stdoutLines.length} lines for ${samples.length} inputs`);
  for (const message of client.messages) {
    assert.equal(message.jsonrpc, '2.0');
    const isResponse = 'result' in message || 'error' in message;
    assert.ok(isResponse, `only responses are expected here: ${JSON.stringify(message).slice(0, 200)}`);
    if (message.error) {
      assert.ok(Number.isInteger(message.error.code));
      assert.equal(typeof message.error.message, 'string');
    }
  }
  const oversized = client.messages.find((m) => m.error?.message === 'Invalid request: line too long');
  assert.ok(oversized, 'the 5 MiB line was refused');
});

test('notifications with any method and params are never answered', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  const notifications = fc.sample(
    fc.record({ method: fc.oneof(fc.constantFrom(...methods), fc.string()), params: fc.anything({ maxDepth: 2 }) }),
    { numRuns: 300, seed: 7 },
  );
  for (const notification of notifications) client.send({ jsonrpc: '2.0', ...notification });
  await client.request('ping', undefined, 'after', 30_000);
  // logoutChatGpt and the like sent as notifications may still act (and announce), but never respond.
  assert.deepEqual(client.messages.filter((m) => 'result' in m || 'error' in m).map((m) => m.id), ['after']);
});

test('duplicate ids are each answered', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  for (let i = 0; i < 5; i++) client.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
  await client.request('ping', undefined, 'end');
  assert.equal(client.messages.filter((m) => m.id === 7).length, 5);
});
