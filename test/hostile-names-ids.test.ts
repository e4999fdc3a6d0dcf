/**
 * Issue 26, item 8: tool names come from the model, so a name that is an `Object.prototype`
 * member (`__proto__`, `constructor`, `hasOwnProperty`, `toString`...) must give the ordinary
 * unknown-tool result. Before the fix the access table was a plain object: these names gave
 * -32603, and `constructor` with `{"writes":"auth"}` made every later request of the chunk fail
 * (a logout included).
 *
 * Issue 26, item 13 (ids): MCP requires a request id to be a string or an integer; JSON-RPC 2.0
 * allows a number with a fraction (SHOULD NOT). Such a request is refused with -32600 that echoes
 * the id when the id can be echoed exactly (1.5 is; 1e400 or 2^53+1 cannot be, and get null).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable', 'toLocaleString'];

test('tool names that are Object.prototype members give the unknown-tool result', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  await client.initialize();
  for (const name of PROTOTYPE_NAMES) {
    for (const args of [undefined, {}, { writes: 'auth' }, { reads: ['auth'] }]) {
      const answer = await client.request('tools/call', { name, ...(args && { arguments: args }) });
      assert.equal(answer.error, undefined, `${name} ${JSON.stringify(args)}: ${JSON.stringify(answer.error)}`);
      assert.equal(answer.result.isError, true);
      assert.equal(answer.result.content[0].text, `Unknown tool '${name}'`);
    }
  }
});

test('`constructor` with {"writes":"auth"} does not break later requests of the same chunk', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  await client.initialize();
  const lines = [
    { jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name: 'constructor', arguments: { writes: 'auth' } } },
    { jsonrpc: '2.0', id: 'c2', method: 'tools/call', params: { name: '__proto__', arguments: { writes: ['auth'] } } },
    { jsonrpc: '2.0', id: 's1', method: 'tools/call', params: { name: 'auth_status', arguments: {} } },
    { jsonrpc: '2.0', id: 'l1', method: 'tools/call', params: { name: 'logout', arguments: { revoke: false } } },
    { jsonrpc: '2.0', id: 'g1', method: 'getAuthStatus', params: {} },
  ];
  client.child.stdin.write(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  for (const id of ['c1', 'c2', 's1', 'l1', 'g1']) {
    const answer = await client.waitFor((m) => m.id === id, `the answer to ${id}`);
    assert.equal(answer.error, undefined, `${id}: ${JSON.stringify(answer.error)}`);
  }
  assert.match((await client.waitFor((m) => m.id === 'l1')).result.content[0].text, /^Signed out/);
});

test('method names and resource URIs that are Object.prototype members are unknown, not internal errors', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  await client.initialize();
  for (const name of PROTOTYPE_NAMES) {
    const method = await client.request(name, {});
    assert.equal(method.error?.code, -32601, `${name}: ${JSON.stringify(method)}`);
    const resource = await client.request('resources/read', { uri: name });
    assert.notEqual(resource.error?.code, -32603, `${name}: ${JSON.stringify(resource)}`);
    assert.notEqual(resource.error, undefined);
  }
  assert.deepEqual((await client.request('getAuthStatus', {})).result, { preferredAuthMethod: 'chatgpt' });
});

test('a fractional or out-of-range id gets -32600 that echoes the id when it can be echoed exactly', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  const cases: [raw: string, echoed: unknown][] = [
    ['1.5', 1.5],
    ['-0.25', -0.25],
    ['1e400', null], // Infinity: no JSON number holds it
    ['9007199254740993', null], // 2^53+1: the parsed number is not the one sent
    ['1.50', null], // would come back as 1.5: not the id sent
  ];
  for (const [raw, echoed] of cases) {
    client.sendLine(`{"jsonrpc":"2.0","id":${raw},"method":"getAuthStatus","params":{}}`);
    client.sendLine(`{"jsonrpc":"2.0","id":"after ${raw}","method":"ping"}`);
    await client.waitFor((m) => m.id === `after ${raw}`, `the ping after ${raw}`);
    const answers = client.messages.filter((m) => m.error?.code === -32600);
    const answer = answers.at(-1)!;
    assert.equal(answers.length, cases.indexOf(cases.find((c) => c[0] === raw)!) + 1, `one -32600 per bad id (${raw})`);
    assert.equal(answer.id, echoed, raw);
    assert.match(answer.error!.message, /id must be a string or an integer/);
  }
  // An integer written with a fraction of zero is an integer: answered.
  client.sendLine('{"jsonrpc":"2.0","id":7.0,"method":"getAuthStatus","params":{}}');
  assert.deepEqual((await client.waitFor((m) => m.id === 7, 'the answer to id 7.0')).result, { preferredAuthMethod: 'chatgpt' });
});
