/**
 * Writes the shipped streams (bench/streams/*.jsonl). They are what the recorder would write for
 * these sessions, made by hand so that they are small, commented by their header, and stable:
 *   npm run build && node dist/bench/streams/make-streams.js
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testJwt } from '../../dev/jwt.js';

const dir = fileURLToPath(new URL('../../../bench/streams/', import.meta.url));
const UUID = { $match: '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' };
const INITIALIZE = {
  send: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'vscode-like', version: '1' } } },
  expect: {
    result: {
      protocolVersion: '2025-06-18',
      capabilities: { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false }, logging: {} },
      serverInfo: { name: 'codex-auth-mcp', title: 'Codex Auth', version: { $match: '^\\d+\\.\\d+\\.\\d+' } },
    },
  },
};
const SIGNED_OUT = { result: { preferredAuthMethod: 'chatgpt' } };
const status = (authMethod: string, authToken?: string) => ({ result: { authMethod, preferredAuthMethod: 'chatgpt', ...(authToken && { authToken }) } });
const authChange = (authMethod?: string) => ({ jsonrpc: '2.0', method: 'codex/event/auth_status_change', params: authMethod ? { authMethod } : {} });

function write(name: string, header: Record<string, unknown>, steps: Record<string, unknown>[]): void {
  const lines = [{ stream: name, ...header }, ...steps].map((line) => JSON.stringify(line));
  writeFileSync(`${dir}${name}.jsonl`, `${lines.join('\n')}\n`);
}

// An IDE extension starting: initialize, list the tools, then poll getAuthStatus every 100 ms for 3 s.
{
  const steps: Record<string, unknown>[] = [
    { t: 0, ...INITIALIZE },
    { t: 5, send: { jsonrpc: '2.0', method: 'notifications/initialized' } },
    { t: 10, send: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, expect: { result: { tools: { $any: true } } } },
  ];
  for (let i = 1; i <= 30; i++) {
    steps.push({
      t: i * 100,
      send: { jsonrpc: '2.0', id: 2 + i, method: 'getAuthStatus', params: { includeToken: true, refreshToken: false } },
      expect: status('apikey', 'sk-recorded-[redacted]'),
    });
  }
  write('ide-startup', {
    description: 'An IDE extension starting: initialize, list tools, then poll getAuthStatus every 100 ms.',
    auth: { OPENAI_API_KEY: 'sk-recorded-[redacted]' },
    notifications: [],
  }, steps);
}

// Login churn against the embedded issuer: start, supersede and cancel logins, then one that a
// person completes in the browser, and a logout.
{
  const authUrl = {
    $match:
      '^http://127\\.0\\.0\\.1:\\d+/oauth/authorize\\?response_type=code&client_id=app_EMoamEEZ73f0CkXaXp7hrann&redirect_uri=http%3A%2F%2F127\\.0\\.0\\.1%3A\\d+%2Fauth%2Fcallback&code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256&state=[A-Za-z0-9_-]{43}&scope=openid\\+profile\\+email\\+offline_access\\+api\\.connectors\\.read\\+api\\.connectors\\.invoke&id_token_add_organizations=true&codex_cli_simplified_flow=true&originator=codex_cli_rs$',
  };
  const login = { result: { loginId: UUID, authUrl } };
  const steps: Record<string, unknown>[] = [{ t: 0, ...INITIALIZE }];
  let id = 2;
  let t = 10;
  for (let cycle = 0; cycle < 5; cycle++) {
    const first = id++;
    const second = id++;
    steps.push(
      { t, send: { jsonrpc: '2.0', id: first, method: 'loginChatGpt', params: {} }, expect: login },
      { t: t + 20, send: { jsonrpc: '2.0', id: second, method: 'loginChatGpt', params: {} }, expect: login },
      // The second login superseded the first, so the first is gone.
      { t: t + 40, send: { jsonrpc: '2.0', id: id++, method: 'cancelLoginChatGpt', params: { loginId: `\${result:${first}.loginId}` } }, expect: { error: { code: -32600, message: { $match: '^login id not found: ' } } } },
      { t: t + 60, send: { jsonrpc: '2.0', id: id++, method: 'cancelLoginChatGpt', params: { loginId: `\${result:${second}.loginId}` } }, expect: { result: {} } },
      { t: t + 80, send: { jsonrpc: '2.0', id: id++, method: 'getAuthStatus', params: {} }, expect: SIGNED_OUT },
    );
    t += 100;
  }
  const last = id++;
  steps.push(
    { t, send: { jsonrpc: '2.0', id: last, method: 'loginChatGpt', params: {} }, expect: login },
    { t: t + 20, action: { signIn: `\${result:${last}.authUrl}` } },
    { t: t + 40, send: { jsonrpc: '2.0', id: id++, method: 'getAuthStatus', params: {} }, expect: status('chatgpt'), eventually: 5_000 },
    { t: t + 60, send: { jsonrpc: '2.0', id: id++, method: 'logoutChatGpt', params: {} }, expect: { result: { revoked: { $any: true } } } },
    { t: t + 80, send: { jsonrpc: '2.0', id: id++, method: 'getAuthStatus', params: {} }, expect: SIGNED_OUT, eventually: 5_000 },
  );
  write('login-churn', {
    description: 'Start, supersede and cancel ChatGPT logins in quick succession against the embedded issuer; then sign in for real and log out.',
    issuer: true,
    args: ['-c', 'auth_issuer=${ISSUER}', '-c', 'login_callback_port=0'],
    notifications: [
      {
        jsonrpc: '2.0',
        method: 'codex/event/login_chat_gpt_complete',
        params: { loginId: UUID, success: false, error: 'Login server error: Login was not completed', errorCode: { $match: '^(cancelled|superseded)$' } },
      },
      { jsonrpc: '2.0', method: 'codex/event/login_chat_gpt_complete', params: { loginId: UUID, success: true } },
      authChange('chatgpt'),
      authChange(),
    ],
  }, steps);
}

// A storm of outside changes: another process rewrites auth.json (API key, ChatGPT tokens) and
// removes it while the client polls, pings and logs out. In between the answers may be any
// method; at each checkpoint (a change, then quiet) the answer must settle to the file's state.
{
  const claims = { email: 'storm@example.com', planType: 'plus', accountId: 'acct-storm', exp: 4_102_444_800 };
  const chatgpt = {
    OPENAI_API_KEY: null,
    tokens: { id_token: await testJwt(claims), access_token: await testJwt(claims), refresh_token: 'rt-storm', account_id: 'acct-storm' },
    last_refresh: '2026-01-01T00:00:00Z',
  };
  const anyStatus = { result: { preferredAuthMethod: 'chatgpt', authMethod: { $any: true }, authToken: { $any: true } } };
  const steps: Record<string, unknown>[] = [{ t: 0, ...INITIALIZE }];
  let id = 2;
  let t = 10;
  const poll = () => ({ jsonrpc: '2.0', id: id++, method: 'getAuthStatus', params: { includeToken: true } });
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 6; i++) {
      const key = `sk-storm-${round}-${i}`;
      steps.push(
        { t, action: { writeAuth: { OPENAI_API_KEY: key } } },
        { t: t + 5, send: poll(), expect: anyStatus },
        { t: t + 10, action: { writeAuth: chatgpt } },
        { t: t + 15, send: { jsonrpc: '2.0', id: id++, method: 'ping' }, expect: { result: {} } },
        { t: t + 20, action: { removeAuth: true } },
        { t: t + 25, send: poll(), expect: anyStatus },
      );
      t += 30;
    }
    // Checkpoints: each state must be picked up (the server promises within 200 ms).
    const key = `sk-storm-settled-${round}`;
    steps.push(
      { t, action: { writeAuth: { OPENAI_API_KEY: key } } },
      { t: t + 10, send: poll(), expect: status('apikey', key), eventually: 2_000 },
      { t: t + 20, action: { writeAuth: chatgpt } },
      { t: t + 30, send: poll(), expect: status('chatgpt', chatgpt.tokens.access_token), eventually: 2_000 },
      { t: t + 40, send: { jsonrpc: '2.0', id: id++, method: 'logoutChatGpt', params: {} }, expect: { result: { revoked: false } } },
      { t: t + 50, send: poll(), expect: SIGNED_OUT, eventually: 2_000 },
    );
    t += 60;
  }
  write('external-change-storm', {
    description: 'auth.json rewritten (API key, ChatGPT tokens) and removed by another process while the client polls, pings and logs out.',
    args: ['-c', 'logout_revokes_tokens=false'],
    notifications: [authChange('apikey'), authChange('chatgpt'), authChange()],
  }, steps);
}
