/**
 * Codex 0.171 and our server on one CODEX_HOME, fully offline: 0.171 signs in at our embedded
 * issuer (its browser flow, driven with plain HTTP) and later refreshes; our running server must
 * notice both from auth.json alone.
 *
 * 0.171's login callback binds 127.0.0.1:1455 (1457 when 1455 is taken), and no setting moves
 * it, so this file must not run at the same time as anything else that listens there.
 */
import assert from 'node:assert/strict';
import { readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import type { AppServerClient } from './support/codex-app-server.js';
import {
  cleanupStack, offlineEnv, requireCodex0171, runOurCli, sharedConfigToml, startCodex0171, startRefusingProxy, startStubBackend,
} from './support/codex-0171-offline.js';
import { startRotatingEndpoint } from '../dev/fakes/rotating-endpoint.js';
import { eventually } from './support/eventually.js';
import { spawnServer } from './support/spawn-server.js';

const APP_NAME = 'codex0171-login-test';

test('0.171 signs in and refreshes; our running server on the same CODEX_HOME follows', { timeout: 120_000 }, async (t) => {
  requireCodex0171(); // a missing binary fails here, it never skips
  const defer = cleanupStack(t);
  const proxy = await startRefusingProxy();
  defer(() => proxy.close());
  const backend = await startStubBackend();
  defer(() => backend.close());
  const issuer = await startEmbeddedIssuer();
  defer(() => issuer.close());
  // Both sides refresh here: ours through auth_issuer, 0.171 through the override. So "ours did not
  // refresh" is something this endpoint can see, not something we assume.
  const endpoint = await startRotatingEndpoint();
  defer(() => endpoint.close());
  const home = await mkdtemp(join(tmpdir(), 'codex-0171-login-'));
  defer(() => rm(home, { recursive: true, force: true }));
  await writeFile(join(home, 'config.toml'), sharedConfigToml(backend));
  const authFile = join(home, 'auth.json');
  const env = offlineEnv(proxy.url);

  const ours = spawnServer({ codexHome: home, args: ['-c', `auth_issuer=${endpoint.url}`], env });
  defer(async () => {
    ours.kill();
    await ours.exited;
  });
  await ours.initialize();
  const before = await ours.call('getAuthStatus', { includeToken: true });
  assert.equal(before.authMethod, undefined, 'signed out before the sign-in');

  let app!: AppServerClient;
  await startCodex0171(
    { codexHome: home, name: APP_NAME, env: { ...env, CODEX_APP_SERVER_LOGIN_ISSUER: issuer.url, CODEX_REFRESH_TOKEN_URL_OVERRIDE: endpoint.tokenUrl } },
    (spawned) => {
      app = spawned;
      defer(() => spawned.close());
    },
  );

  await t.test('(a) 0.171 browser sign-in at the embedded issuer: our server announces it and serves its token', async () => {
    const started = await app.request('account/login/start', { type: 'chatgpt' });
    assert.equal(started.error, undefined, JSON.stringify(started.error));
    const { loginId, authUrl } = started.result;
    assert.ok(authUrl.startsWith(`${issuer.url}/oauth/authorize?`), authUrl);
    const redirect = new URL(new URL(authUrl).searchParams.get('redirect_uri')!);
    assert.match(redirect.host, /^127\.0\.0\.1:145[57]$/);

    const ourChange = ours.waitForNotification('codex/event/auth_status_change', (p) => p?.authMethod === 'chatgpt', 20_000);
    const callback = await signInAtIssuer(authUrl);
    assert.equal(new URL(callback).host, redirect.host, 'the issuer sends the browser to 0.171’s callback');
    // 0.171 writes auth.json on the callback but announces the sign-in only once /success is loaded.
    const landing = await fetch(callback);
    await landing.arrayBuffer();
    assert.equal(landing.status, 200);
    assert.equal(new URL(landing.url).pathname, '/success');
    const completed = await app.nextNotification('account/login/completed', 20_000);
    assert.deepEqual({ loginId: completed.params.loginId, success: completed.params.success, error: completed.params.error }, { loginId, success: true, error: null });

    const change = await ourChange;
    assert.deepEqual(change.params, { authMethod: 'chatgpt' });
    const stored = JSON.parse(await readFile(authFile, 'utf8'));
    assert.equal(stored.auth_mode, 'chatgpt');
    assert.deepEqual(stored.tokens.oauth_provenance, { issuer: issuer.url, client_id: 'app_EMoamEEZ73f0CkXaXp7hrann' });
    const status = await ours.call('getAuthStatus', { includeToken: true });
    assert.equal(status.authMethod, 'chatgpt');
    assert.equal(status.authError, undefined, JSON.stringify(status.authError));
    assert.equal(status.authToken, stored.tokens.access_token, 'ours serves the access token 0.171 stored');
    const account = await ours.call('account/read', {});
    assert.equal(account.account?.type, 'chatgpt');
    assert.equal(account.account?.email, 'demo@example.com');
    assert.equal(account.account?.planType, 'plus');
    // …and so does `codex-auth-mcp status --json`, which reads the same store.
    const cli = await runOurCli(['status', '--json'], { codexHome: home, env });
    assert.equal(cli.code, 0, `status exits 0 when signed in: ${cli.stdout}`);
    const shown = JSON.parse(cli.stdout);
    assert.deepEqual({ authMethod: shown.authMethod, email: shown.account?.email, planType: shown.account?.planType, authError: shown.authError }, { authMethod: 'chatgpt', email: 'demo@example.com', planType: 'plus', authError: null });
    assert.equal(issuer.stats.codeExchanges, 1, '0.171 exchanged the code');
    assert.equal(issuer.stats.refreshes + issuer.stats.refreshFailures, 0, 'nobody refreshed at the issuer');
    assert.equal(endpoint.records.length, 0, 'nobody refreshed at the endpoint');
  });

  await t.test('(b) a refresh by 0.171 reaches our server through auth.json; ours never calls the endpoint', async () => {
    const stored = JSON.parse(await readFile(authFile, 'utf8'));
    const oldToken: string = stored.tokens.access_token;
    // The sign-in's refresh token came from the embedded issuer: make it the one the endpoint rotates.
    endpoint.adopt(stored.tokens.refresh_token);

    const read = await app.request('account/read', { refreshToken: true });
    assert.equal(read.error, undefined, JSON.stringify(read.error));
    assert.equal(read.result.account?.email, 'demo@example.com', 'the forced refresh succeeded');
    assert.equal(endpoint.records.length, 1);
    const [request] = endpoint.records;
    assert.deepEqual(
      { kind: request!.kind, originator: request!.originator, reason: request!.refreshReason, outcome: request!.outcome, presented: request!.presented },
      { kind: 'codex0171', originator: APP_NAME, reason: 'forced', outcome: 'rotated', presented: stored.tokens.refresh_token },
    );
    const newToken = endpoint.latest!.access_token;
    assert.notEqual(newToken, oldToken);
    const refreshed = JSON.parse(await readFile(authFile, 'utf8'));
    assert.equal(refreshed.tokens.access_token, newToken, '0.171 stored the new token');
    assert.equal(refreshed.tokens.refresh_token, endpoint.current);

    // No event says "the token changed" (the method did not), so poll the answer.
    await eventually(async () => {
      const status = await ours.call('getAuthStatus', { includeToken: true });
      assert.equal(status.authToken, newToken);
    });
    const status = await ours.call('getAuthStatus', { includeToken: true });
    assert.equal(status.authMethod, 'chatgpt');
    assert.equal(status.authError, undefined, JSON.stringify(status.authError));
    assert.equal(endpoint.requestsBy('ours'), 0, 'our server adopted the new tokens without refreshing');
    assert.equal(endpoint.records.length, 1);
    assert.equal(endpoint.reuseErrors, 0);
    assert.equal(issuer.stats.refreshes + issuer.stats.refreshFailures, 0);
    const theirs = await app.request('getAuthStatus', { includeToken: true });
    assert.equal(theirs.result?.authToken, newToken);
  });

  assert.deepEqual(proxy.seen, [], 'nothing tried to leave the machine');
});
