/** Servers set up for sign-in tests, each stopped (with its issuer and home) when the test ends. */
import assert from 'node:assert/strict';
import { startEmbeddedIssuer, type EmbeddedIssuer } from '../../dev/issuer/embedded-issuer.js';
import type { RpcClient, RpcMessage } from '../../dev/rpc-client.js';
import { startServer } from './spawn-server.js';
import { tempHome, type TempHome } from './temp-home.js';

type TestContext = { after(fn: () => unknown): void };

/** A server pointed at `issuerUrl`, on a free callback port, logging at debug level (so tests can check the logs hold no secret). */
export async function loginServer(t: TestContext, issuerUrl: string, options: { home?: TempHome; args?: string[] } = {}) {
  const home = options.home ?? (await tempHome());
  t.after(() => home.remove());
  const client = startServer(t, {
    codexHome: home.path,
    args: ['-c', `auth_issuer=${issuerUrl}`, '-c', 'login_callback_port=0', ...(options.args ?? [])],
    env: { CODEX_AUTH_MCP_LOG: 'debug' },
  });
  await client.initialize();
  return { client, home };
}

/** The embedded oidc-provider issuer and a server pointed at it. */
export async function embeddedLoginSetup(t: TestContext, args: string[] = []): Promise<{ issuer: EmbeddedIssuer; home: TempHome; client: RpcClient }> {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  return { issuer, ...(await loginServer(t, issuer.url, { args })) };
}

export const callbackPortOf = (authUrl: string) => Number(/127\.0\.0\.1%3A(\d+)/.exec(authUrl)![1]);

/** A successful login's two notifications, asserted to follow the response that started it, in order. */
export async function expectLoginSucceeded(client: RpcClient, response: RpcMessage, authMethod = 'chatgpt') {
  const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(complete.params, { loginId: response.result.loginId, success: true });
  const change = await client.waitForNotification('codex/event/auth_status_change');
  assert.deepEqual(change.params, { authMethod });
  const order = [response, complete, change].map((m) => client.messages.indexOf(m));
  assert.deepEqual([...order].sort((a, b) => a - b), order, 'response, completion, status change, in that order');
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 1);
}
