/**
 * `npm run demo`: the whole ChatGPT sign-in, offline. Starts the embedded issuer on loopback,
 * spawns codex-auth-mcp pointed at it with a throwaway CODEX_HOME, and plays an MCP client:
 * initialize → loginChatGpt → (you, or the demo, sign in) → completion → getAuthStatus.
 *
 *   npm run demo              sign in yourself in a browser, or press Enter to let the demo do it
 *   npm run demo -- --auto    the demo signs in for you (also when stdin is not a terminal)
 *   npm run demo -- --device  the device-code flow (account/login/start {type:"chatgptDeviceCode"})
 *   npm run demo -- --accounts  two accounts: sign in to both, list them, switch without signing in again
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startEmbeddedIssuer } from './issuer/embedded-issuer.js';
import { signInAtIssuer } from './issuer/scripted-sign-in.js';
import { RpcClient } from './rpc-client.js';

const serverEntry = fileURLToPath(new URL('../bundle/main.js', import.meta.url));
const auto = process.argv.includes('--auto') || !process.stdin.isTTY;
const device = process.argv.includes('--device');
const accounts = process.argv.includes('--accounts');
const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (n: number, text: string) => say(`\n[${n}] ${text}`);

step(1, 'Starting the embedded issuer (a local oidc-provider standing in for auth.openai.com)…');
const issuer = await startEmbeddedIssuer({ deviceCodeInterval: 1 });
const home = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-demo-'));
say(`    issuer:     ${issuer.url}`);
say(`    CODEX_HOME: ${home} (thrown away at the end)`);

step(2, 'Spawning codex-auth-mcp as an MCP client would…');
const args = [serverEntry, 'mcp', '-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'];
say(`    $ node ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`);
const server = spawn(process.execPath, args, { env: { ...process.env, CODEX_HOME: home }, stdio: ['pipe', 'pipe', 'inherit'] });

const client = new RpcClient(server, { timeoutMs: 0 });
client.onNotification((message) => say(`    ← notification ${message.method} ${JSON.stringify(message.params)}`));
let nextId = 1;
async function call(method: string, params: unknown = {}): Promise<any> {
  const request = { jsonrpc: '2.0', id: nextId++, method, params };
  say(`    → ${JSON.stringify(request)}`);
  const message = await client.exchange(request);
  const line = JSON.stringify(message);
  say(`    ← ${line.slice(0, 300)}${line.length > 300 ? '…' : ''}`);
  if (message.error) throw new Error(message.error.message);
  return message.result;
}
const notification = (method: string) => client.waitForNotification(method).then((message) => message.params);

try {
  await call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'demo', version: '1' } });
  if (accounts) await accountsDemo();
  else await singleSignInDemo();
} finally {
  await client.close();
  await issuer.close();
  await rm(home, { recursive: true, force: true });
}

async function singleSignInDemo(): Promise<void> {
  const completed = notification('codex/event/login_chat_gpt_complete');
  if (device) {
    step(3, 'Asking for a device code (account/login/start {type: "chatgptDeviceCode"})…');
    const { verificationUrl, userCode } = await call('account/login/start', { type: 'chatgptDeviceCode' });
    say(`\n    On any device, open ${verificationUrl} and enter the code ${userCode}\n`);
    await youOrTheDemo(completed, 'entering the code for you on the device page', () => enterDeviceCode(userCode));
  } else {
    step(3, 'Asking to sign in with ChatGPT…');
    const { authUrl } = await call('loginChatGpt');
    say(`\n    Open this URL in a browser to sign in (any email, password "demo"):\n\n    ${authUrl}\n`);
    await youOrTheDemo(completed, 'signing in for you, as a person would: login form, then consent', () => completeInBrowserlessWay(authUrl));
  }
  step(4, 'Waiting for the completion notification…');
  const result = await completed;
  if (!result.success) throw new Error(`login failed: ${result.error}`);
  step(5, 'Reading the auth status the server now reports…');
  const status = await call('getAuthStatus', { includeToken: false });
  const stored = JSON.parse(await readFile(join(home, 'auth.json'), 'utf8'));
  say(`\n    Signed in: authMethod=${status.authMethod}; auth.json holds tokens for account ${stored.tokens.account_id}.`);
  say('    Done. Everything ran on this machine; nothing left it.');
}

/** Signs in twice (two people of the seeded issuer), lists both, switches back, and shows who auth.json now holds. */
async function accountsDemo(): Promise<void> {
  const activeInAuthJson = async () => {
    const stored = JSON.parse(await readFile(join(home, 'auth.json'), 'utf8'));
    return JSON.parse(Buffer.from(stored.tokens.id_token.split('.')[1], 'base64url').toString()).email as string;
  };
  let n = 3;
  for (const email of ['demo@example.com', 'work@example.com']) {
    step(n++, `Signing in as ${email} (password "demo")…`);
    const completed = notification('codex/event/login_chat_gpt_complete');
    const { authUrl, loginId } = await call('loginChatGpt');
    await youOrTheDemo(completed, `signing in as ${email} for you`, async () => {
      await fetch(await signInAtIssuer(authUrl, email), { redirect: 'manual' });
    });
    await client.waitFor((m) => m.method === 'codex/event/login_chat_gpt_complete' && m.params?.loginId === loginId);
    say(`    auth.json now holds ${await activeInAuthJson()}.`);
  }
  step(n++, 'Both accounts are signed in; listing them (never a token)…');
  const { sessions } = await call('accountSession/list', {});
  for (const session of sessions) say(`    ${session.isActive ? '*' : ' '} ${session.email} (plan ${session.planType}, session ${session.sessionId})`);
  const first = sessions.find((session: any) => !session.isActive);
  step(n++, `Switching back to ${first.email} without signing in again…`);
  await call('accountSession/switch', { sessionId: first.sessionId, accountId: first.selectedWorkspaceAccountId });
  say(`    auth.json now holds ${await activeInAuthJson()}: Codex and every server on this CODEX_HOME see it.`);
  say('    Done. Everything ran on this machine; nothing left it.');
}

/**
 * With --auto (or no terminal) the demo plays the person at once; otherwise it waits for the
 * person to sign in, or for Enter, after which it plays the person.
 */
async function youOrTheDemo(completed: Promise<unknown>, what: string, playThePerson: () => Promise<void>): Promise<void> {
  if (auto) {
    say(`    (${what}…)`);
    return playThePerson();
  }
  say('    Waiting for you. Press Enter to let the demo do it instead.');
  const rl = createInterface({ input: process.stdin });
  const enter = new Promise<void>((resolve) => rl.once('line', () => resolve()));
  const winner = await Promise.race([completed.then(() => 'you'), enter.then(() => 'demo')]);
  rl.close();
  if (winner === 'demo') await playThePerson();
}

async function enterDeviceCode(userCode: string): Promise<void> {
  await fetch(`${issuer.url}/codex/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: userCode, email: 'demo@example.com' }).toString(),
  });
}

async function completeInBrowserlessWay(authUrl: string): Promise<void> {
  const callback = await signInAtIssuer(authUrl);
  await fetch(callback, { redirect: 'manual' });
}
