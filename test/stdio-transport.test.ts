/** The stdio framing with in-memory streams: batching, back-pressure, oversized lines, split chunks. */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { StdioTransport } from '../src/transport/stdio.js';

function harness(options: { highWaterMark?: number; maxLineBytes?: number } = {}) {
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
  const transport = new StdioTransport(
    input,
    output,
    { onLine: (line) => lines.push(line), onOversizedLine: () => oversized++, onClose: () => (closed = true) },
    options.maxLineBytes,
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

test('a slow reader pauses input until the output drains', async () => {
  const h = harness({ highWaterMark: 1 });
  h.transport.send('x'.repeat(100));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.input.isPaused(), true, 'input paused while the client is not reading');
  h.transport.send('queued');
  assert.equal(h.writes.length, 1, 'nothing more is written while blocked');
  const drained = h.transport.drained();
  h.release(); // the client reads the first write: 'drain', and the queued line goes out
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.writes.length, 2);
  h.release();
  await drained;
  assert.equal(h.input.isPaused(), false);
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
