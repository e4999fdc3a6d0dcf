/**
 * A client nobody here wrote: the official MCP TypeScript SDK over stdio, calling our custom
 * methods and receiving our notifications.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { z } from 'zod';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { serverEntry } from './support/paths.js';
import { tempHome } from './support/temp-home.js';

test('the MCP SDK client logs in with loginChatGpt and hears both notifications', async (t) => {
  const issuer = await startEmbeddedIssuer();
  const home = await tempHome();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry, 'mcp', '-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'],
    env: { CODEX_HOME: home.path, PATH: process.env['PATH'] ?? '' },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'sdk-e2e', version: '1.0.0' });
  t.after(async () => {
    await client.close();
    await issuer.close();
    await home.remove();
  });
  const notifications: { method: string; params: unknown }[] = [];
  const completed = new Promise<void>((resolve) => {
    client.fallbackNotificationHandler = async (notification) => {
      notifications.push({ method: notification.method, params: notification.params });
      if (notification.method === 'codex/event/auth_status_change') resolve();
    };
  });
  await client.connect(transport);
  assert.equal(client.getServerVersion()?.name, 'codex-auth-mcp');

  const status = await client.request({ method: 'getAuthStatus', params: {} }, z.looseObject({ preferredAuthMethod: z.string() }));
  assert.equal(status.preferredAuthMethod, 'chatgpt');
  const login = await client.request({ method: 'loginChatGpt', params: {} }, z.object({ loginId: z.string(), authUrl: z.string() }));
  const callback = await signInAtIssuer(login.authUrl);
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 302);
  await completed;
  assert.deepEqual(notifications, [
    { method: 'codex/event/login_chat_gpt_complete', params: { loginId: login.loginId, success: true } },
    { method: 'codex/event/auth_status_change', params: { authMethod: 'chatgpt' } },
  ]);
  const tools = await client.listTools();
  assert.ok(Array.isArray(tools.tools));
});
