/**
 * A credential that forced_login_method or forced_chatgpt_workspace_id forbids is never handed
 * out, refreshed or switched to, through every interface of ours: getAuthStatus (also with
 * refreshToken), account/read (also with refreshToken), the auth_status tool, the status resource,
 * the CLI's `status`, and account switching. Each says why (an authError naming the setting) and
 * leaves the stored credential as it was (0.171 deletes nothing either).
 * The verdicts themselves are compared with 0.171's in codex-0171-restrictions.test.ts.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { runOurCli } from './support/codex-0171-offline.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function jwt(claims: Record<string, unknown>): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', 'restrictions').update(head).digest('base64url')}`;
}

/** Tokens of workspace acct_1 whose access token has expired: a refresh is due at once. */
function expiredTokensRecord() {
  const claims = {
    exp: Math.floor(Date.now() / 1000) - 60,
    email: 'user@example.com',
    'https://api.openai.com/auth': { chatgpt_account_id: 'acct_1', chatgpt_user_id: 'user-1', chatgpt_plan_type: 'plus' },
  };
  return { auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { id_token: jwt(claims), access_token: jwt(claims), refresh_token: 'rt-forbidden', account_id: 'acct_1' }, last_refresh: new Date(Date.now() - 864e5).toISOString() };
}

for (const { setting, config, code, mentions } of [
  { setting: 'forced_chatgpt_workspace_id', config: 'forced_chatgpt_workspace_id = "ws-other"\n', code: 'workspace_forbidden', mentions: /forced_chatgpt_workspace_id/ },
  { setting: 'forced_login_method', config: 'forced_login_method = "api"\n', code: 'login_method_forbidden', mentions: /forced_login_method/ },
]) {
  test(`${setting}: forbidden ChatGPT tokens are not handed out nor refreshed by any interface, and say why`, async (t) => {
    const issuer = await startEmbeddedIssuer();
    t.after(() => issuer.close());
    const home = await tempHome();
    t.after(() => home.remove());
    await home.writeConfig(config);
    const stored = expiredTokensRecord();
    await home.writeAuth(stored);
    const args = ['-c', `auth_issuer="${issuer.url}"`];
    const client: RpcClient = startServer(t, { codexHome: home.path, args });
    await client.initialize();
    const secrets = [stored.tokens.access_token, stored.tokens.refresh_token, stored.tokens.id_token];
    const noSecret = (what: string, value: unknown) => {
      for (const secret of secrets) assert.ok(!JSON.stringify(value).includes(secret), `${what} holds no token`);
    };

    const status = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
    assert.equal(status.authMethod, undefined);
    assert.equal(status.authToken, undefined);
    assert.equal(status.authError?.code, code);
    assert.match(status.authError.message, mentions);
    noSecret('getAuthStatus', status);

    const account = await client.call('account/read', { refreshToken: true });
    assert.equal(account.account, null);
    assert.equal(account.authError?.code, code);

    const tool = await client.call('tools/call', { name: 'auth_status', arguments: {} });
    assert.match(tool.content[0].text, /^Signed out\. Problem: Not signed in: /);
    assert.match(tool.content[0].text, mentions);
    noSecret('auth_status', tool);

    const resource = await client.call('resources/read', { uri: 'codex-auth://status' });
    const document = JSON.parse(resource.contents[0].text);
    assert.deepEqual({ authMethod: document.authMethod, account: document.account, code: document.authError?.code }, { authMethod: null, account: null, code });
    noSecret('the status resource', resource);

    const cli = await runOurCli(['status', '--json', ...args], { codexHome: home.path });
    assert.equal(cli.code, 1, `signed out, as 0.171's login status: ${cli.stdout}${cli.stderr}`);
    assert.equal(JSON.parse(cli.stdout).authError.code, code);
    noSecret('status --json', cli.stdout);

    assert.equal(issuer.stats.tokenRequests, 0, 'nothing was refreshed');
    assert.deepEqual(JSON.parse(await readFile(home.authFile, 'utf8')), stored, 'the stored tokens are left as they were');
  });
}

test('an API key under forced_login_method = "chatgpt" is not handed out, and the key-and-tokens record is not either', async (t) => {
  for (const record of [{ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-forbidden' }, { ...expiredTokensRecord(), auth_mode: undefined, OPENAI_API_KEY: 'sk-forbidden' }]) {
    const home = await tempHome();
    t.after(() => home.remove());
    await home.writeConfig('forced_login_method = "chatgpt"\n');
    await home.writeAuth(record);
    const client = startServer(t, { codexHome: home.path, args: ['-c', 'auth_issuer="http://127.0.0.1:9"'] });
    await client.initialize();
    const status = await client.call('getAuthStatus', { includeToken: true });
    assert.deepEqual({ method: status.authMethod, token: status.authToken, code: status.authError?.code }, { method: undefined, token: undefined, code: 'login_method_forbidden' });
    const tool = await client.call('tools/call', { name: 'auth_status', arguments: {} });
    assert.ok(!JSON.stringify(tool).includes('sk-forbidden'));
  }
});

test('account switching never makes a forbidden session active, and says which setting forbids it', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const args = ['-c', `auth_issuer="${issuer.url}"`, '-c', 'login_callback_port=0'];
  const first = startServer(t, { codexHome: home.path, args });
  await first.initialize();
  for (const email of ['demo@example.com', 'pro@example.com']) {
    const { loginId, authUrl } = await first.call('loginChatGpt', {});
    const done = first.waitFor((m) => m.method === 'codex/event/login_chat_gpt_complete' && m.params?.loginId === loginId, `sign-in of ${email}`);
    await fetch(await signInAtIssuer(authUrl, email), { redirect: 'manual' });
    assert.equal((await done).params.success, true);
  }
  first.kill();
  await first.exited;
  const before = await readFile(home.authFile, 'utf8');

  // Only pro's workspace is allowed now; demo's session is forbidden.
  const client = startServer(t, { codexHome: home.path, args: [...args, '-c', 'forced_chatgpt_workspace_id="acct-demo-0002"'] });
  await client.initialize();
  const { sessions } = await client.call('accountSession/list', {});
  const demo = sessions.find((s: { email: string }) => s.email === 'demo@example.com');
  const refused = await client.request('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  assert.equal(refused.error?.code, -32600);
  assert.match(refused.error!.message, /cannot switch to demo@example\.com: .*forced_chatgpt_workspace_id allows workspace\(s\) acct-demo-0002 only/);
  assert.equal(await readFile(home.authFile, 'utf8'), before, 'the active account is unchanged');
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authMethod, 'chatgpt', 'pro, allowed, stays signed in');
});
