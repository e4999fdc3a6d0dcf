/**
 * Issue 26, item 7: an issuer, or a proxy in front of it, that echoes the request back in its
 * error answers must not get any secret into an answer of ours. Before the fix the refresh's
 * error code reached `authError.message` verbatim (getAuthStatus, the auth_status tool, the
 * status resource): the live refresh token; and the code exchange kept 64 characters of the PKCE
 * verifier. Every secret the issuer handed out or received (tokens, code, verifier, state) is
 * searched for, whole and in pieces, in every stdout line of the server and in the CLI's output.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { startFakeIssuer, type FakeCall, type Reply } from '../dev/fakes/fake-issuer.js';
import { testJwt } from '../dev/jwt.js';
import { loginServer } from './support/login-servers.js';
import { runCli } from './support/run-cli.js';
import { tempHome } from './support/temp-home.js';

const claims = { email: 'echo@example.com', planType: 'plus', accountId: 'acct-echo' };
/** A run this long of a secret found anywhere is a leak (the old code exchange kept 64 characters). */
const PIECE = 12;

/** The pieces of `secret` that occur in `text`, in any case (the old refresh message lower-cased the code it echoed). */
function leakedPieces(text: string, secret: string): string[] {
  const found: string[] = [];
  const haystack = text.toLowerCase();
  for (let i = 0; i + PIECE <= secret.length; i++) {
    const piece = secret.slice(i, i + PIECE);
    if (haystack.includes(piece.toLowerCase())) found.push(piece);
  }
  return found;
}

/** Echoes what it received back in every shape of error an issuer or proxy might use. */
function echo(call: FakeCall, n: number, secretOf: (body: Record<string, string>) => string): Reply {
  const secret = secretOf(call.body);
  const shapes: Reply[] = [
    { status: 400, json: { error: { code: secret, message: call.raw } } },
    { status: 400, json: { error: secret, error_description: call.raw } },
    { status: 502, json: { code: `upstream_${secret}` } },
    { status: 400, json: { error: call.raw } },
  ];
  return shapes[(n - 1) % shapes.length]!;
}

test('an echoing issuer gets no secret into any answer: status, tool, resource, login completions, CLI', async (t) => {
  const received = new Set<string>();
  const remember = (call: FakeCall) => {
    for (const key of ['refresh_token', 'code', 'code_verifier', 'subject_token', 'token']) if (call.body[key]) received.add(call.body[key]!);
  };
  const issuer = await startFakeIssuer({
    onOther: (call) => {
      remember(call);
      if (call.path === '/oauth/revoke') return echo(call, 1, (b) => b['token'] ?? '');
      return { status: 404, json: { error: call.raw } };
    },
    onRefresh: (n, body) => {
      received.add(body['refresh_token']!);
      return echo({ body, raw: JSON.stringify(body) } as FakeCall, n, (b) => b['refresh_token']!);
    },
    onCodeExchange: (n, body) => {
      received.add(body['code']!);
      received.add(body['code_verifier']!);
      return echo({ body, raw: new URLSearchParams(body).toString() } as FakeCall, n, (b) => b['code_verifier']!);
    },
    onRevoke: (_n, body) => {
      received.add(body['token']!);
      return echo({ body, raw: new URLSearchParams(body).toString() } as FakeCall, 1, (b) => b['token']!);
    },
  });
  t.after(() => issuer.close());

  // Signed in with an expired access token, so every status with refreshToken: true asks the issuer.
  const home = await tempHome();
  t.after(() => home.remove());
  const refreshToken = `rt-live-${randomBytes(24).toString('base64url')}`;
  const expired = await testJwt({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 });
  const record = { OPENAI_API_KEY: null, tokens: { id_token: await testJwt(claims), access_token: expired, refresh_token: refreshToken, account_id: claims.accountId }, last_refresh: new Date().toISOString() };
  await home.writeAuth(record);
  const { client } = await loginServer(t, issuer.url, { home });

  const refreshed = [];
  for (let i = 0; i < 4; i++) {
    refreshed.push(await client.call('getAuthStatus', { includeToken: false, refreshToken: true }));
    await client.call('tools/call', { name: 'auth_status', arguments: {} });
    await client.call('resources/read', { uri: 'codex-auth://status' });
  }
  assert.ok(refreshed.some((s) => s.authError?.message), `a refresh failure is reported: ${JSON.stringify(refreshed)}`);
  assert.ok(issuer.refreshCalls().length >= 4, 'the issuer was asked (and echoed) several times');
  // Checked here already (and again at the end with everything): the live refresh token.
  assert.deepEqual(leakedPieces(client.stdoutLines.join('\n'), refreshToken), [], 'no piece of the refresh token in a status, tool or resource answer');

  // Browser sign-ins whose code exchange is echoed, and one whose redirect echoes the state.
  const states: string[] = [];
  const authUrls: string[] = [];
  for (let i = 0; i < 4; i++) {
    const { loginId, authUrl } = await client.call('loginChatGpt');
    authUrls.push(authUrl);
    const url = new URL(authUrl);
    const state = url.searchParams.get('state')!;
    states.push(state, url.searchParams.get('code_challenge')!);
    const port = Number(new URL(url.searchParams.get('redirect_uri')!).port);
    const code = `code-${randomBytes(24).toString('base64url')}`;
    received.add(code);
    await fetch(`http://localhost:${port}/auth/callback?code=${code}&state=${state}`).then((r) => r.text());
    const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete', (p) => p.loginId === loginId);
    assert.equal(complete.params.success, false);
  }
  {
    const { loginId, authUrl } = await client.call('loginChatGpt');
    authUrls.push(authUrl);
    const url = new URL(authUrl);
    const state = url.searchParams.get('state')!;
    const challenge = url.searchParams.get('code_challenge')!;
    states.push(state, challenge);
    const port = Number(new URL(url.searchParams.get('redirect_uri')!).port);
    const description = `denied for ${state} ${challenge} split ${state.slice(0, 20)} ${state.slice(20)} ${challenge.replace(/(.{10})/g, '$1 ')}`;
    const page = await fetch(`http://localhost:${port}/auth/callback?state=${state}&error=${encodeURIComponent(state)}&error_description=${encodeURIComponent(description)}`).then((r) => r.text());
    const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete', (p) => p.loginId === loginId);
    assert.match(complete.params.error, /^Sign-in failed: denied for …/);
    for (const secret of [state, challenge]) assert.deepEqual(leakedPieces(page, secret), [], 'the error page shows no piece of the state or challenge');
  }
  // The tokens it "handed out" are the ones in auth.json.
  const handedOut = [record.tokens.id_token, record.tokens.access_token, refreshToken];

  // The CLI: status, and a logout whose revocation is echoed.
  const cliStatus = await runCli(home.path, ['status', '--json', '-c', `auth_issuer=${issuer.url}`]);
  const cliLogout = await runCli(home.path, ['logout', '-c', `auth_issuer=${issuer.url}`]);
  assert.ok(issuer.callsTo('/oauth/revoke').length > 0, 'the revocation was asked for (and echoed)');
  await client.request('ping', undefined, 'end');

  // The authorize URL itself carries the state and the challenge by design: only that is set aside.
  let stdout = client.stdoutLines.join('\n');
  for (const authUrl of authUrls) stdout = stdout.split(JSON.stringify(authUrl).slice(1, -1)).join('<authUrl>');
  const answers = { stdout, cli: cliStatus.stdout + cliStatus.stderr + cliLogout.stdout + cliLogout.stderr };
  const secrets = [...handedOut, ...received, ...states];
  assert.ok(secrets.length >= 3 + 4 * 2 + 5 * 2, `all secrets collected (${secrets.length}): tokens, codes and verifiers, states and challenges`);
  for (const [where, text] of Object.entries(answers)) {
    for (const secret of secrets) {
      assert.deepEqual(leakedPieces(text, secret), [], `${where} holds a piece of ${secret.slice(0, 6)}…`);
    }
  }
});
