/** The stdio framing with in-memory streams: batching, back-pressure, oversized lines, split chunks. */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { StdioTransport } from '../src/transport/stdio.js';

function harness(options: { highWaterMark?: number; maxLineBytes?: number; readAheadBytes?: number } = {}) {
  const input = new PassThrough();
  const writes: string[] = [];
  let release: (() => void) | undefined;
  const output = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk, _encoding, callback) {
      writes.push(String(chunk));
      // With a tiny high-water mark the consumer is "slow": it acknowledges only when released.
      if (options.highWaterMark) release = callback;
      else callback();
    },
  });
  const lines: string[] = [];
  let oversized = 0;
  let closed = false;
  const transport = new StdioTransport(input, output, options.maxLineBytes, options.readAheadBytes).start(
    { handleLine: (line) => lines.push(line), handleOversizedLine: () => oversized++ },
    () => (closed = true),
  );
  return { input, output, writes, lines, transport, oversized: () => oversized, closed: () => closed, release: () => release?.() };
}

test('lines split across chunks, CRLF-free and blank lines are handled', async () => {
  const h = harness();
  h.input.write('{"a":');
  h.input.write('1}\n\n   \n{"b":2}\n{"c"');
  h.input.end(':3}');
  await new Promise((resolve) => h.input.once('end', resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(h.lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  assert.equal(h.closed(), true);
});

test('everything sent in one turn goes out in one write', async () => {
  const h = harness();
  for (let i = 0; i < 100; i++) h.transport.send(`{"id":${i}}`);
  await h.transport.drained();
  assert.equal(h.writes.length, 1);
  assert.equal(h.writes[0]!.split('\n').length, 101);
});

test('a slow reader: nothing more is written until the output drains', async () => {
  const h = harness({ highWaterMark: 1 });
  h.transport.send('x'.repeat(100));
  await new Promise((resolve) => setImmediate(resolve));
  h.transport.send('queued');
  assert.equal(h.writes.length, 1, 'nothing more is written while blocked');
  const drained = h.transport.drained();
  h.release(); // the client reads the first write: 'drain', and the queued line goes out
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.writes.length, 2);
  h.release();
  await drained;
  assert.deepEqual(h.writes.map((w) => w.trim()), ['x'.repeat(100), 'queued']);
});

test('an oversized line is reported once and the next line still works', async () => {
  const h = harness({ maxLineBytes: 10 });
  h.input.write('0123456789abcdef');
  h.input.write('more of the same line\n{"ok":1}\n');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.oversized(), 1);
  assert.deepEqual(h.lines, ['{"ok":1}']);
});

/** Lets queued setImmediate callbacks (the transport's flush) run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

test('CRLF line endings: every line still parses, and a bare CRLF is a blank line', async () => {
  const h = harness();
  h.input.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n\r\n{"a":');
  h.input.write('[1,2]}\r\n');
  await turn();
  assert.deepEqual(h.lines.map((line) => JSON.parse(line)), [{ jsonrpc: '2.0', id: 1, method: 'ping' }, { a: [1, 2] }]);
});

test('a multi-byte character split between chunks arrives whole', async () => {
  const h = harness();
  const bytes = Buffer.from('{"name":"é😀ü"}\n', 'utf8');
  const cut = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
  h.input.write(bytes.subarray(0, cut));
  await turn();
  assert.deepEqual(h.lines, []);
  h.input.write(bytes.subarray(cut));
  await turn();
  assert.deepEqual(h.lines, ['{"name":"é😀ü"}']);
});

test('an oversized line is reported once whether it comes in one chunk or runs into EOF', async () => {
  const oneChunk = harness({ maxLineBytes: 10 });
  oneChunk.input.write('0123456789abcdef\n{"ok":1}\n');
  await turn();
  assert.equal(oneChunk.oversized(), 1);
  assert.deepEqual(oneChunk.lines, ['{"ok":1}']);

  const atEof = harness({ maxLineBytes: 10 });
  atEof.input.write('{"ok":2}\n0123456789');
  atEof.input.end('abcdef');
  await new Promise((resolve) => atEof.input.once('end', resolve));
  await turn();
  assert.equal(atEof.oversized(), 1);
  assert.deepEqual(atEof.lines, ['{"ok":2}']);
  assert.equal(atEof.closed(), true);

  const exactly = harness({ maxLineBytes: 10 });
  exactly.input.write('0123456789\n');
  await turn();
  assert.deepEqual([exactly.oversized(), exactly.lines], [0, ['0123456789']], 'the limit itself is allowed');
});

test('sends in different turns are different writes; sends while blocked go out together after drain', async () => {
  const h = harness({ highWaterMark: 1 });
  h.transport.send('first');
  await turn();
  for (let i = 0; i < 50; i++) h.transport.send(`queued-${i}`);
  await turn();
  assert.equal(h.writes.length, 1, 'nothing more is written while the client is not reading');
  h.release();
  await turn();
  assert.equal(h.writes.length, 2);
  assert.equal(h.writes[1]!.split('\n').filter(Boolean).length, 50, 'one write for everything queued meanwhile');
  h.release();
  await h.transport.drained();
  h.transport.send('later');
  await turn();
  assert.equal(h.writes.length, 3);
});

test('while the output is blocked, lines are read but held: none is dispatched before the drain', async () => {
  const h = harness({ highWaterMark: 1 });
  h.transport.send('x');
  await turn();
  h.input.write('{"id":1}\n{"id":2}\n');
  await turn();
  assert.deepEqual(h.lines, [], 'held while the client is not reading its answers');
  assert.equal(h.input.isPaused(), false, 'a little read-ahead is allowed');
  h.release();
  await turn();
  assert.deepEqual(h.lines, ['{"id":1}', '{"id":2}']);
});

test('read-ahead beyond its bound pauses input until the drain', async () => {
  const h = harness({ highWaterMark: 1, readAheadBytes: 64 });
  h.transport.send('x');
  await turn();
  h.input.write(`${'{"id":1}\n'.repeat(10)}`);
  await turn();
  assert.equal(h.input.isPaused(), true, 'paused: the client is not reading, and enough is held');
  h.input.write('{"id":"later"}\n');
  await turn();
  assert.deepEqual(h.lines, []);
  h.release();
  await turn();
  assert.equal(h.input.isPaused(), false);
  assert.equal(h.lines.length, 11);
  assert.equal(h.lines.at(-1), '{"id":"later"}');
});

test('EOF while the output is blocked: the held lines are dispatched in order, then the transport closes', async () => {
  const h = harness({ highWaterMark: 1 });
  h.transport.send('x');
  await turn();
  h.input.end('{"id":1}\n{"id":2}\n{"id":3}');
  await new Promise((resolve) => h.input.once('end', resolve));
  await turn();
  assert.deepEqual(h.lines, ['{"id":1}', '{"id":2}', '{"id":3}']);
  assert.equal(h.closed(), true, 'EOF is seen although the client never read');
});

test('drained() resolves at once when nothing is queued', async () => {
  const h = harness();
  await h.transport.drained();
  assert.deepEqual(h.writes, []);
});

test('a client that goes away (EPIPE on the output) closes the transport; nothing waits for a drain', async () => {
  const h = harness({ highWaterMark: 1 });
  h.transport.send('stuck');
  await turn();
  const drained = h.transport.drained();
  h.output.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await drained; // would hang forever if the transport still waited for 'drain'
  assert.equal(h.closed(), true);
  h.transport.send('dropped');
  await h.transport.drained();
  assert.equal(h.writes.length, 1);
});

test('onClose runs once, for end and close together', async () => {
  let closes = 0;
  const input = new PassThrough();
  new StdioTransport(input, new PassThrough()).start({ handleLine: () => undefined, handleOversizedLine: () => undefined }, () => closes++);
  input.end();
  input.resume();
  await new Promise((resolve) => input.once('close', resolve));
  assert.equal(closes, 1);
});
