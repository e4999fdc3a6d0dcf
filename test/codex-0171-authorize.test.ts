/**
 * The sign-in Codex 0.171.0 would make, side by side with the real binary:
 *
 *  1. The authorize URL: for each config (no restriction, forced_chatgpt_workspace_id as a string
 *     and as a list, requirements.toml's allowed_chatgpt_workspaces alone and intersected with
 *     config.toml, managed_config.toml), 0.171's app-server `account/login/start {type:"chatgpt"}`
 *     and ours give the same parameters, in the same order, with the same values and the same
 *     encoding — except `state` and `code_challenge` (random) and the callback port (ours listens
 *     on a free port here, so that the two never contend; both default to 1455).
 *     `originator`: 0.171's app-server sends its client's `clientInfo.name`, its `codex login`
 *     sends `codex_cli_rs`; ours sends `codex_cli_rs` (see workers/login/pkce.ts for why), so the
 *     app-server here is named codex_cli_rs, and `codex login`'s own URL is compared too.
 *  2. A sign-in that comes back with another workspace than the forced one: refused with 0.171's
 *     words, nothing stored — by the browser flow and by the device-code flow.
 *
 * 0.171's login listens on 127.0.0.1:1455 and nothing moves it: this file runs alone
 * (scripts/run-tests.mjs FIXED_PORT_FILES), inside a private network namespace on a shared machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { CODEX_0171_BINARY, cleanEnv } from './support/codex-app-server.js';
import {
  cleanupStack, offlineEnv, requireCodex0171, sharedConfigToml, startCodex0171, startRefusingProxy, startStubBackend,
} from './support/codex-0171-offline.js';
import { etcCodex, requireEtcCodexNamespace } from './support/etc-codex.js';
import { spawnServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void; diagnostic(message: string): void };

/** The parameters in order, the random ones and the port masked; plus the raw query with the same masks. */
function comparable(authUrl: string): { origin: string; params: [string, string][]; raw: string } {
  const url = new URL(authUrl);
  const mask = (name: string, value: string) =>
    name === 'state' || name === 'code_challenge' ? '<random>' : name === 'redirect_uri' ? value.replace(/:\d+\//, ':<port>/') : value;
  const params = [...url.searchParams].map(([name, value]): [string, string] => [name, mask(name, value)]);
  const raw = url.search
    .slice(1)
    .split('&')
    .map((pair) => {
      const [name, value = ''] = pair.split('=');
      return `${name}=${name === 'state' || name === 'code_challenge' ? '<random>' : name === 'redirect_uri' ? value.replace(/%3A\d+%2F/, '%3A<port>%2F') : value}`;
    })
    .join('&');
  return { origin: `${url.origin}${url.pathname}`, params, raw };
}

/** Our server's `account/login/start {type:"chatgpt"}` answer (the sign-in cancelled at once); the server is gone after. */
async function ourAuthorizeUrl(defer: (fn: () => unknown) => void, options: Parameters<typeof spawnServer>[0]): Promise<{ loginId: string; authUrl: string }> {
  const server = spawnServer(options);
  defer(async () => {
    server.kill();
    await server.exited;
  });
  await server.initialize();
  const ours = await server.call('account/login/start', { type: 'chatgpt' });
  await server.call('account/login/cancel', { loginId: ours.loginId });
  server.kill();
  await server.exited;
  return ours;
}

interface UrlCase {
  name: string;
  user?: string;
  etc?: Record<string, string>;
}

const URL_CASES: UrlCase[] = [
  { name: 'no restriction' },
  { name: 'forced_chatgpt_workspace_id = "ws-123"', user: 'forced_chatgpt_workspace_id = "ws-123"' },
  { name: 'forced_chatgpt_workspace_id = ["ws-a", "ws-b"]', user: 'forced_chatgpt_workspace_id = ["ws-a", "ws-b"]' },
  { name: 'requirements.toml allowed_chatgpt_workspaces = ["r1", "r2"]', etc: { 'requirements.toml': 'allowed_chatgpt_workspaces = ["r1", "r2"]\n' } },
  {
    name: 'requirements.toml ["r1", "r2"] with config.toml "r2"',
    user: 'forced_chatgpt_workspace_id = "r2"',
    etc: { 'requirements.toml': 'allowed_chatgpt_workspaces = ["r1", "r2"]\n' },
  },
  { name: 'managed_config.toml forced_chatgpt_workspace_id = "ws-m"', etc: { 'managed_config.toml': 'forced_chatgpt_workspace_id = "ws-m"\n' } },
];

test('the authorize URL: 0.171 and ours send the same parameters, values and encoding, for every workspace restriction', { timeout: 300_000 }, async (t) => {
  requireCodex0171();
  await requireEtcCodexNamespace();
  const defer = cleanupStack(t);
  const [backend, proxy] = await Promise.all([startStubBackend(), startRefusingProxy()]);
  defer(() => Promise.all([backend.close(), proxy.close()]));
  const issuer = 'http://127.0.0.1:9'; // never contacted: only the URL is compared
  const env = offlineEnv(proxy.url);
  for (const urlCase of URL_CASES) {
    const home = await tempHome();
    defer(() => home.remove());
    await home.writeConfig(`${sharedConfigToml(backend)}${urlCase.user ?? ''}\n`);
    const etc = await etcCodex(urlCase.etc ?? {});
    defer(() => etc.remove());
    const wrapper = urlCase.etc ? etc.wrapper : undefined;

    const app = await startCodex0171(
      { codexHome: home.path, env: { ...env, CODEX_APP_SERVER_LOGIN_ISSUER: issuer }, name: 'codex_cli_rs', ...(wrapper && { wrapper }) },
      (spawned) => defer(() => spawned.close()),
    );
    const theirs = await app.request('account/login/start', { type: 'chatgpt' });
    assert.equal(theirs.error, undefined, `${urlCase.name}: ${JSON.stringify(theirs.error)}`);
    await app.request('account/login/cancel', { loginId: theirs.result.loginId });
    await app.close();

    const ours = await ourAuthorizeUrl(defer, { codexHome: home.path, args: ['-c', `auth_issuer="${issuer}"`, '-c', 'login_callback_port=0'], env, ...(wrapper && { wrapper }) });

    const [a, b] = [comparable(theirs.result.authUrl), comparable(ours.authUrl)];
    t.diagnostic(`${urlCase.name}: ${b.raw}`);
    assert.deepEqual(b, a, `${urlCase.name}: the whole parameter set, in order`);
  }
});

test("the authorize URL of 0.171's own `codex login` (originator codex_cli_rs) is ours", { timeout: 60_000 }, async (t) => {
  requireCodex0171();
  const defer = cleanupStack(t);
  const home = await tempHome();
  defer(() => home.remove());
  await home.writeConfig('forced_chatgpt_workspace_id = "ws-123"\n');
  const login = spawn(CODEX_0171_BINARY, ['login'], { env: cleanEnv({ CODEX_HOME: home.path, BROWSER: 'true' }), stdio: ['ignore', 'pipe', 'pipe'] });
  defer(async () => {
    if (login.exitCode === null && login.signalCode === null) {
      login.kill('SIGKILL');
      await once(login, 'close');
    }
  });
  let printed = '';
  const theirsUrl = await new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      printed += chunk.toString();
      const found = /https:\/\/auth\.openai\.com\/oauth\/authorize\?\S+/.exec(printed);
      if (found) resolve(found[0]);
    };
    login.stdout.on('data', look);
    login.stderr.on('data', look);
    login.once('close', () => reject(new Error(`codex login ended without a URL: ${printed}`)));
  });
  const ours = await ourAuthorizeUrl(defer, { codexHome: home.path, args: ['-c', 'login_callback_port=0'] });
  assert.deepEqual(comparable(ours.authUrl), comparable(theirsUrl));
});

test('a sign-in that comes back with another workspace is refused as 0.171 refuses it, and nothing is stored (browser and device code)', { timeout: 180_000 }, async (t) => {
  requireCodex0171();
  const defer = cleanupStack(t);
  const [backend, proxy] = await Promise.all([startStubBackend(), startRefusingProxy()]);
  defer(() => Promise.all([backend.close(), proxy.close()]));
  const issuer = await startEmbeddedIssuer({ deviceCodeInterval: 1 });
  defer(() => issuer.close());
  const env = offlineEnv(proxy.url);
  // demo@example.com belongs to one workspace; the issuer signs them in to it whatever allowed_workspace_id asks.
  const config = 'forced_chatgpt_workspace_id = "ws-nope"\n';
  const authFileExists = (home: string) => access(join(home, 'auth.json')).then(() => true, () => false);

  for (const flow of ['chatgpt', 'chatgptDeviceCode'] as const) {
    const theirsHome = await tempHome();
    const oursHome = await tempHome();
    defer(() => Promise.all([theirsHome.remove(), oursHome.remove()]));
    await theirsHome.writeConfig(`${sharedConfigToml(backend)}${config}`);
    await oursHome.writeConfig(config);

    const app = await startCodex0171({ codexHome: theirsHome.path, env: { ...env, CODEX_APP_SERVER_LOGIN_ISSUER: issuer.url }, name: 'codex_cli_rs' }, (spawned) => defer(() => spawned.close()));
    const server = spawnServer({ codexHome: oursHome.path, args: ['-c', `auth_issuer="${issuer.url}"`, '-c', 'login_callback_port=0'], env });
    defer(async () => {
      server.kill();
      await server.exited;
    });
    await server.initialize();

    const theirsStart = await app.request('account/login/start', { type: flow });
    assert.equal(theirsStart.error, undefined, JSON.stringify(theirsStart.error));
    const oursStart = await server.call('account/login/start', { type: flow });
    const oursDone = server.waitForNotification('account/login/completed', (p) => p?.loginId === oursStart.loginId, 30_000);
    if (flow === 'chatgpt') {
      for (const authUrl of [theirsStart.result.authUrl, oursStart.authUrl]) {
        const page = await fetch(await signInAtIssuer(authUrl));
        await page.arrayBuffer();
        assert.ok(page.status >= 200, 'the callback answered');
      }
    } else {
      await issuer.approveDeviceCode(theirsStart.result.userCode);
      await issuer.approveDeviceCode(oursStart.userCode);
    }
    const theirs = (await app.nextNotification('account/login/completed', 30_000)).params;
    const ours = (await oursDone).params;
    assert.deepEqual({ success: ours.success, error: ours.error }, { success: theirs.success, error: theirs.error }, `${flow}: the same refusal`);
    assert.equal(theirs.success, false);
    assert.match(theirs.error, /Login is restricted to workspace id\(s\) ws-nope\./);
    assert.equal(await authFileExists(theirsHome.path), false, `${flow}: 0.171 stored nothing`);
    assert.equal(await authFileExists(oursHome.path), false, `${flow}: ours stored nothing`);
    const status = await server.call('getAuthStatus', { includeToken: true });
    assert.equal(status.authMethod, undefined, `${flow}: ours is still signed out`);
    await app.close();
    server.kill();
    await server.exited;
  }
});
