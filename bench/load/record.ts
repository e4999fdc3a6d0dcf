/**
 * The recorder: a transparent stdio proxy between an MCP client and a server. It forwards every
 * byte unchanged and writes what the client sent, when, and what came back as a replayable stream
 * (see bench/README.md), with secrets redacted and random values turned into patterns.
 *
 *   node dist/bench/load/record.js session.jsonl -- node dist/bundle/main.js mcp
 * Use that whole command where an IDE's MCP config names the server. The stream is written when
 * the server exits: when the client closes stdin, or when the proxy gets SIGINT/SIGTERM/SIGHUP
 * (passed on to the server).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';

/** Fields whose values are secrets wherever they appear. */
const SECRET_KEYS = new Set([
  'authToken', 'apiKey', 'api_key', 'access_token', 'accessToken', 'refresh_token', 'refreshToken', 'id_token', 'idToken',
  'OPENAI_API_KEY', 'code', 'state', 'code_verifier', 'codeVerifier', 'password', 'client_secret', 'userCode', 'user_code',
]);
/** Values that are secrets whatever their field: API keys, JWTs, bearer tokens. */
const SECRET_VALUE = /^(sk-|Bearer\s)|^eyJ[\w-]+\.[\w-]+\.[\w-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Secrets become "[redacted]" in what was sent and `{"$any":true}` in what came back (so the
 * stream still replays); ids and URLs that differ on every run become patterns.
 */
export function redact(value: unknown, key = '', inResponse = false): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEYS.has(key) || SECRET_VALUE.test(value)) return inResponse ? { $any: true } : '[redacted]';
    if (!inResponse) return value;
    if (UUID.test(value)) return { $match: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' };
    // A URL with a query (login URLs carry state and PKCE values) or a port (one chosen per run).
    const url = /^(https?:\/\/[^/?#]+)([^?#]*)(\?.*)?$/.exec(value);
    if (url && (url[3] || /:\d+$/.test(url[1]!))) return { $match: `^${escape(url[1]!).replace(/:\d+$/, ':\\d+')}${escape(url[2]!)}(\\?|$)` };
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
const started = Date.now();
const steps = new Map<unknown, Record<string, unknown>>();
const order: Record<string, unknown>[] = [];
const notifications = new Map<string, unknown>();
/** Values the server handed out (a loginId, say) → where they came from, as `${result:ID.field}`. */
const handedOut = new Map<string, string>();

/** A value the client sends back from an earlier answer becomes a reference to that answer. */
function linkEarlierResults(value: unknown): unknown {
  if (typeof value === 'string') return handedOut.get(value) ?? value;
  if (Array.isArray(value)) return value.map(linkEarlierResults);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, linkEarlierResults(v)]));
  return value;
}

/** Ids of requests answered since the client last sent something: the client may have acted on them. */
let answeredSinceLastSend: unknown[] = [];

const server = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
server.stdin.on('error', () => undefined);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => server.kill(signal));

createInterface({ input: process.stdin, crlfDelay: Infinity })
  .on('line', (line) => {
    server.stdin.write(`${line}\n`);
    try {
      const message = JSON.parse(line) as Record<string, unknown>;
      const step: Record<string, unknown> = { t: Date.now() - started, send: linkEarlierResults(redact(message)) };
      if (answeredSinceLastSend.length > 0) step['after'] = answeredSinceLastSend;
      answeredSinceLastSend = [];
      order.push(step);
      if (message['id'] !== undefined && message['method'] !== undefined) steps.set(message['id'], step);
    } catch {
      // Not JSON: forwarded, but a stream holds JSON-RPC messages only.
    }
  })
  .on('close', () => server.stdin.end());

createInterface({ input: server.stdout, crlfDelay: Infinity }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  try {
    const { id, jsonrpc: _v, ...body } = JSON.parse(line) as Record<string, unknown>;
    if (id === undefined && typeof body['method'] === 'string') {
      const pattern = redact({ jsonrpc: '2.0', ...body }, '', true);
      notifications.set(JSON.stringify(pattern), pattern);
      return;
    }
    const step = steps.get(id);
    if (!step) return;
    step['expect'] = redact(body, '', true);
    answeredSinceLastSend.push(id);
    const result = body['result'];
    if (result !== null && typeof result === 'object' && typeof id !== 'object') {
      for (const [field, value] of Object.entries(result)) {
        if (typeof value === 'string' && value.length >= 8 && !/[.{}]/.test(`${String(id)}${field}`)) handedOut.set(value, `\${result:${String(id)}.${field}}`);
      }
    }
  } catch {
    // Not JSON: nothing to record as an expectation.
  }
});

server.on('exit', (code, signal) => {
  const header = {
    stream: out,
    description: `recorded ${new Date(started).toISOString()} from: ${[command, ...args].join(' ')}`,
    // The server's `-c key=value` options, which codex and this server share; the rest of the command is not replayed.
    args: args.flatMap((arg, i) => (['-c', '--config'].includes(args[i - 1] ?? '') ? ['-c', arg] : [])),
    notifications: [...notifications.values()],
  };
  const lines = [header, ...order].map((entry) => JSON.stringify(entry));
  writeFileSync(out, `${lines.join('\n')}\n`, { mode: 0o600 });
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
