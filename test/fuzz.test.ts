/**
 * Random input against the built server: it must stay alive, answer at most one line per input
 * line, never answer a notification, and write nothing but JSON-RPC to stdout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { eventually } from './support/eventually.js';
import { startServer } from './support/spawn-server.js';
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

test('in-process: any line gives at most one well-formed answer, with the request id or null, and notifications none', async () => {
  const { Dispatcher } = await import('../src/rpc/dispatcher.js');
  const { mcpMethods } = await import('../src/server/methods/mcp.js');
  const { Connection } = await import('../src/server/connection.js');
  const { Methods } = await import('../src/protocol/methods.js');
  const { pino } = await import('pino');
  const message = fc.record(
    {
      jsonrpc: fc.constantFrom('2.0', '1.0', 2),
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.double(), fc.constant(null), fc.boolean()),
      method: fc.oneof(fc.constantFrom('initialize', 'ping', 'tools/list', 'prompts/list', 'resources/list', 'nope'), fc.string({ maxLength: 8 })),
      params: fc.anything({ maxDepth: 3 }),
    },
    { requiredKeys: [] },
  );
  const line = fc.oneof(
    message.map((m) => JSON.stringify(m)),
    fc.string({ maxLength: 60 }),
    fc.json({ maxDepth: 3 }),
    message.map((m) => JSON.stringify(m)).chain((text) => fc.nat({ max: text.length }).map((cut) => text.slice(0, cut))),
  );
  fc.assert(
    fc.property(line, (text) => {
      const out: string[] = [];
      const dispatcher = new Dispatcher(Methods, { send: (l) => out.push(l) }, pino({ level: 'silent' }));
      for (const [name, handler] of Object.entries(mcpMethods(new Connection(), () => []))) dispatcher.register(name as 'ping', handler as never);
      dispatcher.handleLine(text); // these handlers are synchronous: any answer is written now
      assert.ok(out.length <= 1, `${out.length} answers to ${text}`);
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const isNotification =
        parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && typeof parsed.method === 'string' && !('id' in parsed);
      if (isNotification) assert.deepEqual(out, [], `a notification was answered: ${text}`);
      for (const l of out) {
        const answer = JSON.parse(l);
        assert.equal(answer.jsonrpc, '2.0');
        assert.ok(('result' in answer) !== ('error' in answer), 'exactly one of result and error');
        const echoed = answer.id === null || (parsed && typeof parsed === 'object' && answer.id === parsed.id);
        assert.ok(echoed, `id ${JSON.stringify(answer.id)} for ${text}`);
        if (answer.error) assert.ok([-32700, -32600, -32601, -32602, -32603].includes(answer.error.code), l);
      }
    }),
    { numRuns: 3000, seed: 99 },
  );
});

test('over stdio: truncated requests, batches, invalid UTF-8 and deep nesting get exactly the answers they should', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  const requests = fc.sample(
    fc.record({ id: fc.integer({ min: 1, max: 1_000_000 }), method: fc.constantFrom(...methods), params: fc.anything({ maxDepth: 2 }) }),
    { numRuns: 40, seed: 5 },
  ).map((r) => JSON.stringify({ jsonrpc: '2.0', ...r }));
  // A request cut anywhere short of its end is unparsable: exactly one -32700 each.
  const truncated = requests.map((line, i) => line.slice(0, 1 + (i * 7919) % (line.length - 1)));
  for (const line of truncated) client.sendLine(line);
  // A batch (of anything) is one -32600, never one answer per element.
  const batches = fc.sample(fc.array(fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j)), { maxLength: 5 }), { numRuns: 20, seed: 6 });
  for (const batch of batches) client.sendLine(JSON.stringify(batch));
  // Invalid UTF-8 inside a string: read as U+FFFD, a well-formed request that is answered.
  client.child.stdin.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":"utf8","method":"ping","params":{"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}\n')]));
  // 100 000 levels of nesting inside params: parsed (V8's JSON.parse does not recurse) and answered.
  client.sendLine(`{"jsonrpc":"2.0","id":"deep","method":"ping","params":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`);
  await client.request('ping', undefined, 'end', 30_000);

  const answers = client.messages.filter((m) => m.id !== 'end');
  assert.equal(answers.filter((m) => m.error?.code === -32700 && m.id === null).length, truncated.length);
  assert.equal(answers.filter((m) => m.error?.code === -32600 && m.error.message === 'Invalid request: batches are not supported').length, batches.length);
  assert.deepEqual(answers.find((m) => m.id === 'utf8')?.result, {});
  assert.deepEqual(answers.find((m) => m.id === 'deep')?.result, {});
  assert.equal(answers.length, truncated.length + batches.length + 2, 'nothing else was written');
  assert.equal(client.child.exitCode, null);
});

test('over stdio: every answer to a random request line carries an id that was sent', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  const sent = new Set<unknown>();
  const lines = fc.sample(
    fc.record({
      id: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 5 })),
      method: fc.oneof(fc.constantFrom(...methods.filter((m) => m !== 'logoutChatGpt')), fc.string({ maxLength: 6 })),
      params: fc.oneof(fc.constant(undefined), fc.anything({ maxDepth: 2 })),
    }),
    { numRuns: 400, seed: 8 },
  );
  for (const line of lines) {
    sent.add(line.id);
    client.send({ jsonrpc: '2.0', ...line });
  }
  // Some handlers are async (a later sync ping may overtake them): wait until all are in.
  const answers = () => client.messages.filter((m) => 'result' in m || 'error' in m);
  await eventually(() => assert.ok(answers().length >= lines.length, `${answers().length} of ${lines.length} answered`), 30_000);
  await client.request('ping', undefined, 'end', 30_000);
  // Requests with a valid id: each answered exactly once, by an id that was sent; nothing more.
  assert.equal(answers().length, lines.length + 1);
  for (const answer of answers()) assert.ok(answer.id === 'end' || sent.has(answer.id), `unexpected id ${JSON.stringify(answer.id)}`);
});
