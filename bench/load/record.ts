/**
 * The recorder: a transparent stdio proxy between an MCP client and a server. It forwards every
 * byte unchanged and writes what the client sent, when, and what came back as a replayable stream
 * (see bench/README.md), with secrets redacted and random values turned into patterns.
 *
 *   node dist/bench/load/record.js session.jsonl -- node dist/src/cli/main.js mcp
 * Use that whole command where an IDE's MCP config names the server.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const SECRET_KEYS = new Set(['authToken', 'apiKey', 'access_token', 'refresh_token', 'id_token', 'OPENAI_API_KEY', 'code', 'state']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Secrets become "[redacted]" in what was sent and `{"$any":true}` in what came back (so the
 * stream still replays); ids and URLs that differ on every run become patterns.
 */
export function redact(value: unknown, key = '', inResponse = false): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEYS.has(key)) return inResponse ? { $any: true } : '[redacted]';
    if (UUID.test(value)) return { $match: '^[0-9a-f-]{36}$' };
    if (/^https?:\/\/.*\?/.test(value)) return { $match: `^${value.slice(0, value.indexOf('?')).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\d+/, ':\\d+')}\\?` };
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, '', inResponse));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k, inResponse)]));
  return value;
}

const [out, separator, command, ...args] = process.argv.slice(2);
if (!out || separator !== '--' || !command) {
  process.stderr.write('usage: record.js OUT.jsonl -- SERVER-COMMAND [ARGS...]\n');
  process.exit(2);
}
const file = createWriteStream(out);
const started = Date.now();
const steps = new Map<unknown, Record<string, unknown>>();
const order: Record<string, unknown>[] = [];
file.write(`${JSON.stringify({ stream: out, description: 'recorded session', args: [], notifications: [] })}\n`);

const server = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
createInterface({ input: process.stdin }).on('line', (line) => {
  server.stdin.write(`${line}\n`);
  try {
    const message = JSON.parse(line) as Record<string, unknown>;
    const step: Record<string, unknown> = { t: Date.now() - started, send: redact(message) };
    order.push(step);
    if (message['id'] !== undefined) steps.set(message['id'], step);
  } catch {
    order.push({ t: Date.now() - started, raw: line });
  }
}).on('close', () => server.stdin.end());
createInterface({ input: server.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  try {
    const { id, jsonrpc: _v, ...body } = JSON.parse(line) as Record<string, unknown>;
    const step = id !== undefined ? steps.get(id) : undefined;
    if (step) step['expect'] = redact(body, '', true);
  } catch {
    // Not JSON: nothing to record as an expectation.
  }
});
server.on('exit', (code) => {
  for (const step of order) if ('send' in step) file.write(`${JSON.stringify(step)}\n`);
  file.end(() => process.exit(code ?? 0));
});
