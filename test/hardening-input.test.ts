/**
 * Issue 11, item 8: a UTF-8 byte order mark before the first line (PowerShell pipes and some
 * Windows editors write one) is not part of the request. Before the fix that request was
 * answered with -32700 Parse error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

test('a BOM before the first line is ignored; the request is answered', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  client.child.stdin.write(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"jsonrpc":"2.0","id":"bom","method":"getAuthStatus","params":{}}\n')]));
  const answer = await client.waitFor((m) => m.id === 'bom', 'the answer to the first line');
  assert.deepEqual(answer.result, { preferredAuthMethod: 'chatgpt' });
  // Only the start of the stream: later a BOM is a stray character, as JSON says.
  client.child.stdin.write('\ufeff{"jsonrpc":"2.0","id":"later","method":"getAuthStatus","params":{}}\n');
  const parseError = await client.waitFor((m) => m.error?.code === -32700, 'a parse error');
  assert.equal(parseError.id, null);
});
