/**
 * End to end in a real browser: an MCP client asks to log in, Chromium follows the URL to the
 * embedded oidc-provider issuer, a person's sign-in and consent are played in the page, and the
 * server stores the tokens and tells the client.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { launchChromium } from './support/browser.js';
import { embeddedLoginSetup, expectLoginSucceeded } from './support/login-servers.js';

test('sign in with ChatGPT in Chromium against the embedded issuer', async (t) => {
  const { browser, close } = await launchChromium();
  t.after(close);
  const { home, client } = await embeddedLoginSetup(t);
  const response = await client.request('loginChatGpt', {});
  const { authUrl } = response.result;

  const page = await browser.newPage();
  const seenUrls: string[] = [];
  page.on('request', (request) => seenUrls.push(request.url()));
  await page.goto(authUrl, { waitUntil: 'domcontentloaded' });
  await page.fill('input[name=login]', 'pro@example.com');
  await page.fill('input[name=password]', 'demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('button[type=submit]:has-text("Continue")');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/success$/);
  assert.match(await page.textContent('#status') ?? '', /signed in/i);

  await expectLoginSucceeded(client, response);

  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.tokens.account_id, 'acct-demo-0002');
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  assert.equal((await client.call('getAuthStatus')).authMethod, 'chatgpt');

  const secrets = [stored.tokens.access_token, stored.tokens.refresh_token, stored.tokens.id_token, stored.OPENAI_API_KEY];
  for (const url of seenUrls) {
    for (const secret of secrets) assert.equal(url.includes(secret), false, `a token appeared in a URL the browser saw: ${url.slice(0, 80)}`);
    assert.equal(/[?&](id_token|access_token|refresh_token)=/.test(url), false, url.slice(0, 120));
  }
  // The code and state the browser carried back (login-faults.test.ts checks the verifier).
  const callbackUrl = new URL(seenUrls.find((url) => url.includes('/auth/callback?'))!);
  const oauthValues = [callbackUrl.searchParams.get('code')!, callbackUrl.searchParams.get('state')!];
  assert.ok(oauthValues.every((value) => value.length >= 16), 'the callback URL carried a code and the state');
  for (const secret of [...secrets, ...oauthValues]) assert.equal(client.stderr.includes(secret), false, 'a secret was logged');
  assert.match(client.stderr, /authorization code exchanged/, 'debug logging was on');
});
