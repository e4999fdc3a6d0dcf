// A fixed JSON-RPC session (both MCP eras, the 0.25 auth surface, the v2 account API, tools,
// resources, logging, malformed lines), run against a server entry on a fresh CODEX_HOME; prints
// every line the server wrote, with per-run values (UUIDs, times, pids, the home) normalised.
// Two builds answer byte-identically when their transcripts are equal:
//   node scripts/wire-session.mjs /path/to/other/dist/bundle/main.js > a.txt
//   node scripts/wire-session.mjs dist/bundle/main.js > b.txt && cmp a.txt b.txt
// (Used for issue 27: the restructuring left the wire unchanged.)

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const home = mkdtempSync(join(tmpdir(), 'i27-session-'));
const child = spawn(process.execPath, [process.argv[2]], { env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: home }, stdio: ['pipe', 'pipe', 'ignore'] });
const lines = []; let buf = ''; const waiters = [];
child.stdout.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\n')) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1); lines.push(l); for (const w of waiters.splice(0)) w(); } });
const M = { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } };
const reqs = [
  ['initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } }],
  ['ping'], ['tools/list'], ['resources/list'], ['resources/read', { uri: 'codex-auth://status' }], ['resources/read', { uri: 'x://y' }],
  ['resources/templates/list'], ['prompts/list'], ['getAuthStatus'], ['getAuthStatus', { includeToken: true }],
  ['resources/subscribe', { uri: 'codex-auth://status' }],
  ['loginApiKey', { apiKey: 'sk-one' }], ['getAuthStatus', { includeToken: true }], ['account/read'], ['accountSession/list'],
  ['tools/call', { name: 'auth_status', arguments: {} }], ['tools/call', { name: 'list_accounts', arguments: {} }], ['tools/call', { name: 'nope' }],
  ['tools/call', { name: 'auth_status', arguments: { x: 1 } }], ['tools/call', { name: 'login', arguments: { method: 'api_key' } }],
  ['tools/call', { name: 'login', arguments: { method: 'api_key', apiKey: 'sk-two' } }],
  ['account/login/start', { type: 'apiKey', apiKey: 'sk-three' }],
  ['resources/unsubscribe', { uri: 'codex-auth://status' }],
  ['logoutChatGpt', { revoke: false }], ['account/logout', { revoke: false }], ['account/login/cancel', { loginId: '00000000-0000-4000-8000-000000000000' }],
  ['account/login/cancel', { loginId: 'nope' }], ['cancelLoginChatGpt', { loginId: 'nope' }],
  ['server/discover'], ['subscriptions/listen', { notifications: {} }], ['no/such'], ['getAuthStatus', { includeToken: 'yes' }],
  ['server/discover', M], ['tools/list', M], ['resources/list', M], ['resources/templates/list', M], ['prompts/list', M],
  ['resources/read', { ...M, uri: 'codex-auth://status' }], ['resources/read', { ...M, uri: 'x://y' }], ['getAuthStatus', M],
  ['account/read', M], ['ping', M], ['initialize', { ...M, protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } }],
  ['resources/subscribe', { ...M, uri: 'codex-auth://status' }], ['tools/call', { ...M, name: 'auth_status', arguments: {} }],
  ['tools/call', { ...M, name: 'nope' }], ['loginApiKey', { ...M, apiKey: 'sk-four' }], ['getAuthStatus', M],
  ['getAuthStatus', { _meta: { 'io.modelcontextprotocol/protocolVersion': '1999-01-01', 'io.modelcontextprotocol/clientCapabilities': {} } }],
  ['getAuthStatus', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }],
  ['getAuthStatus', { _meta: { 'io.modelcontextprotocol/protocolVersion': 7 } }],
  ['tools/call', { name: 'constructor' }], ['tools/call', { name: 'toString' }],
  ['loginApiKey', { _meta: { ...M._meta, 'io.modelcontextprotocol/logLevel': 'debug' }, apiKey: 'sk-five' }],
  ['getAuthStatus', { _meta: { ...M._meta, 'io.modelcontextprotocol/logLevel': 'nope' } }],
  ['logging/setLevel', { level: 'debug' }], ['logging/setLevel', M], ['logoutChatGpt', { revoke: false }],
];
const raw = ['{', '[]', '[1]', '"x"', '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', '{"jsonrpc":"1.0","id":"v","method":"ping"}', '{"jsonrpc":"2.0","method":"notifications/initialized"}'];
let id = 0;
for (const [method, params] of reqs) {
  const n = ++id; const before = lines.length;
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: n, method, ...(params && { params }) }) + '\n');
  while (!lines.slice(before).some((l) => JSON.parse(l).id === n)) await new Promise((r) => waiters.push(r));
}
for (const r of raw) { const before = lines.length; child.stdin.write(r + '\n'); if (r.includes('notifications/')) continue; while (lines.length === before) await new Promise((res) => waiters.push(res)); }
child.stdin.end();
await new Promise((r) => child.on('exit', r));
rmSync(home, { recursive: true, force: true });
const norm = (l) => l.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>').replace(/i27-session-\w+/g, '<home>').replace(/"lastUsedAt":\d+/g, '"lastUsedAt":<t>').replace(/"time":\d+/g, '"time":<t>').replace(/"pid":\d+/g, '"pid":<p>');
console.log(lines.map(norm).join('\n'));
