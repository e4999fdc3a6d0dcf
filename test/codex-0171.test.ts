/**
 * Ours against the real Codex 0.171.0 `codex app-server` (the musl binary of
 * @openai/codex-linux-x64), which now sets the rules for auth.json:
 *
 *  1. A fixture table: the same auth.json (and environment) in two CODEX_HOMEs, one per server;
 *     account/read, getAuthStatus {includeToken} and our `status --json` must agree with 0.171,
 *     except where we differ on purpose (each such place is asserted and says why).
 *  2. Writes read across, both ways: an API-key sign-in by either is read by the other (and the
 *     bytes of auth.json are the same, logout removes it alike), ChatGPT tokens written by our
 *     store are read by 0.171, tokens 0.171 writes on its own refresh are picked up by our
 *     running server, and a refresh by either writes the same record.
 *  3. Locks: each waits for the other's `auth.lock` / `auth.json.lock` before it writes.
 *
 * 0.171 only runs offline with help: its account/read for a ChatGPT sign-in asks the ChatGPT
 * backend for the workspace ("routing discovery"), so config.toml points `chatgpt_base_url` at a
 * loopback stub (support/codex-0171-offline.ts); every proxy variable points at a loopback proxy
 * that refuses everything, so nothing leaves the machine. A missing binary fails every test here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { access, chmod, lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chatgptRecord } from '../src/auth/store/record.js';
import { writeAuthFile } from '../src/auth/store/auth-file.js';
import { withAuthLock } from '../src/auth/store/locks.js';
import type { AppServerClient, RpcReply } from './support/codex-app-server.js';
import {
  cleanupStack, offlineEnv, requireCodex0171, runOurCli, sharedConfigToml, startCodex0171, startRefusingProxy, startStubBackend, STUB_WORKSPACE_NAME,
  type RefusingProxy, type StubBackend,
} from './support/codex-0171-offline.js';
import { eventually } from './support/eventually.js';
import type { RpcClient, RpcMessage } from '../dev/rpc-client.js';
import { spawnServer } from './support/spawn-server.js';
import { LOCK_FILES, tempHome, type TempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void; diagnostic(message: string): void };

const LOCK_HOLDER = fileURLToPath(new URL('./support/codex-0171-lock-holder.js', import.meta.url));
const AUTH_CLAIM = 'https://api.openai.com/auth';

// ---------- fixtures (the cases of the recorded 0.171 oracle run, plus a few) ----------

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An HS256 JWT (neither server checks signatures). */
function jwt(claims: Record<string, unknown>): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', 'codex-0171-test').update(head).digest('base64url')}`;
}
const nowSecs = () => Math.floor(Date.now() / 1000);

interface TokenOptions {
  /** undefined: no chatgpt_plan_type claim. */
  plan?: string;
  /** null: no email claim. */
  email?: string | null;
  exp?: number;
  accountId?: string;
  claimAccountId?: string;
  userId?: string;
  /** Makes otherwise equal token sets differ. */
  nonce?: string;
}

function tokenSet(options: TokenOptions = {}) {
  const auth: Record<string, unknown> = {
    chatgpt_account_id: options.claimAccountId ?? options.accountId ?? 'acct-1',
    chatgpt_user_id: options.userId ?? 'user-1',
    user_id: options.userId ?? 'user-1',
  };
  if (options.plan !== undefined) auth['chatgpt_plan_type'] = options.plan;
  const base: Record<string, unknown> = { exp: options.exp ?? nowSecs() + 3600, [AUTH_CLAIM]: auth, ...(options.nonce && { nonce: options.nonce }) };
  if (options.email !== null) base['email'] = options.email ?? 'user@example.com';
  return {
    id_token: jwt({ ...base, token_use: 'id' }),
    access_token: jwt({ ...base, token_use: 'access' }),
    refresh_token: 'rt-1',
    account_id: options.accountId ?? 'acct-1',
  };
}

/** A ChatGPT record in the field order 0.171 writes; authMode undefined leaves `auth_mode` out. */
function tokensRecord(options: TokenOptions & { authMode?: string; key?: string | null; lastRefresh?: string } = {}) {
  const { authMode, key = null, lastRefresh, ...tokens } = options;
  return {
    ...(authMode !== undefined && { auth_mode: authMode }),
    OPENAI_API_KEY: key,
    tokens: tokenSet(tokens),
    last_refresh: lastRefresh ?? new Date().toISOString(),
  };
}
const keyOnly = (authMode?: string, key = 'sk-file-key') => (authMode === undefined ? { OPENAI_API_KEY: key } : { auth_mode: authMode, OPENAI_API_KEY: key });

/** What 0.171's account/read gave in the oracle run with the stub (a check that the set-up works). */
type Oracle = 'none' | 'apiKey' | 'chatgpt' | 'error';

interface Fixture {
  name: string;
  /** Written as 2-space JSON (as the oracle did). */
  auth?: unknown;
  /** Written as is. */
  raw?: string;
  setup?: (home: string) => Promise<void>;
  env?: Record<string, string>;
  oracle?: Oracle;
}

const isRoot = process.getuid?.() === 0;

const FIXTURES: Fixture[] = [
  { name: 'no file', oracle: 'none' },
  { name: 'key only, no auth_mode', auth: keyOnly(), oracle: 'apiKey' },
  { name: 'key only, auth_mode apikey', auth: keyOnly('apikey'), oracle: 'apiKey' },
  { name: 'key only, long key', auth: keyOnly(undefined, 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ'), oracle: 'apiKey' },
  { name: 'key only, auth_mode chatgpt', auth: keyOnly('chatgpt'), oracle: 'error' },
  ...['plus', 'pro', 'team', 'free', 'enterprise', 'business', 'edu', 'unknown', 'weird-plan', undefined].map(
    (plan): Fixture => ({ name: `tokens only, no auth_mode, plan ${plan ?? '(claim missing)'}`, auth: tokensRecord(plan === undefined ? {} : { plan }), oracle: 'chatgpt' }),
  ),
  { name: 'tokens only, auth_mode chatgpt, plan plus', auth: tokensRecord({ authMode: 'chatgpt', plan: 'plus' }), oracle: 'chatgpt' },
  { name: 'tokens only, auth_mode apikey, plan plus', auth: tokensRecord({ authMode: 'apikey', plan: 'plus' }), oracle: 'none' },
  ...['plus', 'pro', 'enterprise'].map((plan): Fixture => ({ name: `key+tokens, no auth_mode, plan ${plan}`, auth: tokensRecord({ plan, key: 'sk-file-key' }), oracle: 'apiKey' })),
  { name: 'key+tokens, auth_mode apikey, plan plus', auth: tokensRecord({ authMode: 'apikey', plan: 'plus', key: 'sk-file-key' }), oracle: 'apiKey' },
  { name: 'key+tokens, auth_mode chatgpt, plan plus', auth: tokensRecord({ authMode: 'chatgpt', plan: 'plus', key: 'sk-file-key' }), oracle: 'chatgpt' },
  { name: 'key+tokens, auth_mode chatgptAuthTokens, plan pro', auth: tokensRecord({ authMode: 'chatgptAuthTokens', plan: 'pro', key: 'sk-file-key' }), oracle: 'chatgpt' },
  { name: 'env OPENAI_API_KEY, no file', env: { OPENAI_API_KEY: 'sk-env-key' }, oracle: 'none' },
  { name: 'env OPENAI_API_KEY, tokens-only file (plus)', env: { OPENAI_API_KEY: 'sk-env-key' }, auth: tokensRecord({ plan: 'plus' }), oracle: 'chatgpt' },
  { name: 'env OPENAI_API_KEY, key-only file', env: { OPENAI_API_KEY: 'sk-env-key' }, auth: keyOnly(), oracle: 'apiKey' },
  { name: 'env CODEX_API_KEY, no file', env: { CODEX_API_KEY: 'sk-codex-env-key' }, oracle: 'none' },
  { name: 'env CODEX_API_KEY, tokens-only file (plus)', env: { CODEX_API_KEY: 'sk-codex-env-key' }, auth: tokensRecord({ plan: 'plus' }), oracle: 'chatgpt' },
  {
    name: 'auth.json mode 000 (key only)',
    auth: keyOnly(),
    setup: (home) => chmod(join(home, 'auth.json'), 0o000),
    ...(isRoot && { oracle: 'apiKey' as const }), // root reads it anyway
  },
  { name: 'auth.json is a directory', setup: (home) => mkdir(join(home, 'auth.json')), oracle: 'none' },
  { name: 'auth.json invalid JSON', raw: '{"OPENAI_API_KEY": "sk-file-key",', oracle: 'none' },
  { name: 'auth.json empty file', raw: '', oracle: 'none' },
  { name: 'auth.json is {}', raw: '{}', oracle: 'error' },
  { name: 'auth.json is null', raw: 'null', oracle: 'none' },
  { name: 'tokens only, no email claim (plus)', auth: tokensRecord({ plan: 'plus', email: null }), oracle: 'chatgpt' },
  { name: 'auth_mode "bogus", key only', auth: keyOnly('bogus'), oracle: 'none' },
  { name: 'auth_mode "bogus", tokens only (plus)', auth: tokensRecord({ authMode: 'bogus', plan: 'plus' }), oracle: 'none' },
  { name: 'auth_mode chatgptAuthTokens, tokens only (plus)', auth: tokensRecord({ authMode: 'chatgptAuthTokens', plan: 'plus' }), oracle: 'chatgpt' },
  { name: 'OPENAI_API_KEY "" only', auth: { OPENAI_API_KEY: '' }, oracle: 'apiKey' },
  { name: 'OPENAI_API_KEY "" + tokens (plus)', auth: tokensRecord({ plan: 'plus', key: '' }), oracle: 'apiKey' },
  { name: 'OPENAI_API_KEY "" + auth_mode apikey', auth: { auth_mode: 'apikey', OPENAI_API_KEY: '' }, oracle: 'apiKey' },
  { name: 'OPENAI_API_KEY "" + tokens, auth_mode chatgpt', auth: tokensRecord({ authMode: 'chatgpt', plan: 'plus', key: '' }), oracle: 'chatgpt' },
  { name: 'tokens only, access token expired 1h ago (plus)', auth: tokensRecord({ plan: 'plus', exp: nowSecs() - 3600 }), oracle: 'chatgpt' },
  { name: 'tokens only, last_refresh 30 days ago (plus)', auth: tokensRecord({ plan: 'plus', lastRefresh: new Date(Date.now() - 30 * 864e5).toISOString() }), oracle: 'chatgpt' },
  { name: 'tokens.account_id acct-1 vs claim acct-claim (plus)', auth: tokensRecord({ plan: 'plus', claimAccountId: 'acct-claim' }), oracle: 'chatgpt' },
];

// ---------- the two servers and our CLI ----------

/** Hands `fn` to the clean-up stack of test `t` (support/codex-0171-offline.ts: last-in first-out, each step runs). */
const defer = (t: TestContext, fn: () => unknown) => cleanupStack(t)(fn);

/**
 * The loopback stub and refusing proxy every test here shares, started once per test; a missing
 * 0.171 binary fails the test here (never a skip: without the oracle these tests prove nothing).
 */
async function network(t: TestContext): Promise<{ backend: StubBackend; proxy: RefusingProxy }> {
  requireCodex0171();
  const [backend, proxy] = await Promise.all([startStubBackend(), startRefusingProxy()]);
  defer(t, async () => {
    // Where 0.171 tried to go beyond loopback (refused by the proxy): worth knowing, not a failure.
    if (proxy.seen.length) t.diagnostic(`refused by the proxy: ${[...new Set(proxy.seen)].join(', ')}`);
    await Promise.all([backend.close(), proxy.close()]);
  });
  return { backend, proxy };
}

/** A CODEX_HOME with the stub's config.toml. */
async function newHome(t: TestContext, backend: StubBackend): Promise<TempHome> {
  const home = await tempHome();
  defer(t, () => home.remove());
  await home.writeConfig(sharedConfigToml(backend));
  return home;
}

async function applyFixture(home: TempHome, fixture: Fixture): Promise<void> {
  if (fixture.auth !== undefined) await home.writeAuth(fixture.auth);
  if (fixture.raw !== undefined) await home.writeAuth(fixture.raw);
  await fixture.setup?.(home.path);
}

async function start0171(t: TestContext, home: TempHome, proxy: RefusingProxy, env: Record<string, string> = {}): Promise<AppServerClient> {
  return startCodex0171({ codexHome: home.path, env: { ...offlineEnv(proxy.url), ...env }, name: 'codex-auth-mcp-tests' }, (client) => defer(t, () => client.close()));
}

/**
 * Ours; its issuer is the refusing proxy unless given, so a refresh (there should be none) fails
 * on loopback, as 0.171's does (its HTTPS_PROXY is that proxy).
 */
function ourArgs(proxy: RefusingProxy, issuer = proxy.url): string[] {
  return ['-c', `auth_issuer="${issuer}"`];
}

async function startOurs(t: TestContext, home: TempHome, proxy: RefusingProxy, env: Record<string, string> = {}, issuer?: string): Promise<RpcClient> {
  const client = spawnServer({ codexHome: home.path, args: ourArgs(proxy, issuer), env: { OPENAI_API_KEY: undefined, CODEX_API_KEY: undefined, ...env } });
  defer(t, async () => {
    client.kill();
    await client.exited;
  });
  await client.initialize();
  return client;
}

/** `codex-auth-mcp status --json` on a home, with the same clean environment as the server. */
const ourStatus = (home: TempHome, proxy: RefusingProxy, env: Record<string, string> = {}) => runOurCli(['status', '--json', ...ourArgs(proxy)], { codexHome: home.path, env });

// ---------- comparing ----------

/** The fields of 0.171's account/read result; anything else in ours must be one of our extras. */
const ACCOUNT_READ_FIELDS = ['account', 'userId', 'requiresOpenaiAuth', 'workspaceRouting'];
const OUR_EXTRAS = ['authError', 'storage', 'storageWarning', 'codexHome'];

const oracleKind = (reply: RpcReply): Oracle => (reply.error ? 'error' : reply.result?.account == null ? 'none' : reply.result.account.type);
/** 0.171's method in our vocabulary: its `chatgptAuthTokens` is our `chatgpt` (see below). */
const asOurMethod = (method: unknown) => (method === 'chatgptAuthTokens' ? 'chatgpt' : (method ?? null));
const short = (value: unknown) => (typeof value === 'string' && value.length > 24 ? `${value.slice(0, 12)}…` : JSON.stringify(value ?? null));

interface Row {
  name: string;
  theirs: string;
  ours: string;
  verdict: string;
}

function describeRead(reply: { result?: any; error?: { code: number; message: string } }): string {
  if (reply.error) return `ERR ${reply.error.code} "${reply.error.message}"`;
  const account = reply.result?.account;
  if (!account) return 'account null';
  if (account.type !== 'chatgpt') return account.type;
  return `chatgpt ${account.email ?? 'email=null'} ${account.planType} ws=${account.workspaceName ?? 'null'} user=${reply.result.userId} routing=${reply.result.workspaceRouting ? 'yes' : 'null'}`;
}

async function compareFixture(t: TestContext, fixture: Fixture, rows: Row[]): Promise<void> {
  const { backend, proxy } = await network(t);
  const [ourHome, theirHome] = await Promise.all([newHome(t, backend), newHome(t, backend)]);
  await Promise.all([applyFixture(ourHome, fixture), applyFixture(theirHome, fixture)]);
  const env = fixture.env ?? {};

  const [theirs, ours] = await Promise.all([
    (async () => {
      const codex = await start0171(t, theirHome, proxy, env);
      const read = await codex.request('account/read', {});
      const status = await codex.request('getAuthStatus', { includeToken: true, refreshToken: false });
      return { read, status, stderr: codex.stderr };
    })(),
    (async () => {
      const server = await startOurs(t, ourHome, proxy, env);
      const read = await server.request('account/read', {});
      const status = await server.request('getAuthStatus', { includeToken: true, refreshToken: false });
      const cli = await ourStatus(ourHome, proxy, env);
      return { read, status, cli };
    })(),
  ]);
  const notes: string[] = [];
  const what = (field: string) => `${fixture.name}: ${field}`;

  // The set-up works as in the oracle run (a broken stub would show up here first).
  if (fixture.oracle) assert.equal(oracleKind(theirs.read), fixture.oracle, what(`0.171 account/read ${JSON.stringify(theirs.read)}; stderr ${theirs.stderr.slice(-1500)}`));

  // ---- account/read
  if (theirs.read.error) {
    // 0.171 refuses a ChatGPT auth_mode without tokens; ours must refuse the same way.
    assert.ok(ours.read.error, what(`0.171 answers an error, ours ${JSON.stringify(ours.read.result)}`));
    assert.deepEqual({ code: ours.read.error.code, message: ours.read.error.message }, { code: theirs.read.error.code, message: theirs.read.error.message }, what('account/read error'));
  } else {
    assert.ok(ours.read.result, what(`account/read: ours answers ${JSON.stringify(ours.read.error)}`));
    const their = theirs.read.result;
    const our = ours.read.result;
    assert.deepEqual(Object.keys(their).sort(), [...ACCOUNT_READ_FIELDS].sort(), what('0.171 account/read fields'));
    for (const key of Object.keys(our)) assert.ok(ACCOUNT_READ_FIELDS.includes(key) || OUR_EXTRAS.includes(key), what(`unexpected field ${key} in ours`));
    assert.equal(our.userId, their.userId, what('userId'));
    assert.equal(our.requiresOpenaiAuth, their.requiresOpenaiAuth, what('requiresOpenaiAuth'));
    // Deliberate: 0.171 gets the workspace (routing and name) from the ChatGPT backend at
    // chatgpt_base_url; this server never calls that backend, so both are always null here.
    assert.equal(our.workspaceRouting, null, what('our workspaceRouting'));
    if (their.account?.type === 'chatgpt') {
      assert.equal(their.account.workspaceName, STUB_WORKSPACE_NAME, what('0.171 workspaceName from the stub'));
      assert.ok(their.workspaceRouting, what('0.171 workspaceRouting from the stub'));
      assert.equal(our.account?.workspaceName, null, what('our workspaceName'));
      const { workspaceName: _theirs, ...theirAccount } = their.account;
      const { workspaceName: _ours, ...ourAccount } = our.account ?? {};
      assert.deepEqual(ourAccount, theirAccount, what('ChatGPT account (minus workspaceName)'));
      notes.push('workspace null (deliberate)');
    } else {
      assert.equal(their.workspaceRouting, null, what('0.171 workspaceRouting'));
      assert.deepEqual(our.account, their.account, what('account'));
    }
  }

  // ---- getAuthStatus: method and token (null and absent are the same)
  assert.ok(theirs.status.result, what(`0.171 getAuthStatus ${JSON.stringify(theirs.status.error)}`));
  assert.ok(ours.status.result, what(`our getAuthStatus ${JSON.stringify(ours.status.error)}`));
  const theirMethod = theirs.status.result.authMethod ?? null;
  const ourMethod = ours.status.result.authMethod ?? null;
  if (theirMethod === 'chatgptAuthTokens') {
    // Deliberate: 0.171 reports the auth_mode it read; ours keeps 0.25's two methods, and
    // tokens are tokens to a client of the 0.25 surface: "chatgpt".
    assert.equal(ourMethod, 'chatgpt', what('method for auth_mode chatgptAuthTokens'));
    notes.push('chatgptAuthTokens → chatgpt (deliberate)');
  } else {
    assert.equal(ourMethod, theirMethod, what('getAuthStatus authMethod'));
  }
  assert.equal(ours.status.result.authToken ?? null, theirs.status.result.authToken ?? null, what('getAuthStatus authToken'));
  // Our extra: authError exactly where something is stored that 0.171 (and we) cannot use.
  const stored = fixture.auth !== undefined || fixture.raw !== undefined || fixture.setup !== undefined;
  assert.equal(ours.status.result.authError !== undefined, stored && theirMethod === null, what(`authError ${JSON.stringify(ours.status.result.authError)}`));
  if (ours.status.result.authError) notes.push(`authError ${ours.status.result.authError.code} (extra)`);

  // ---- our CLI: exit 0 signed in (0.171 has a method), 2 unusable credentials, 1 signed out
  let report: any;
  assert.doesNotThrow(() => (report = JSON.parse(ours.cli.stdout)), what(`status --json printed ${ours.cli.stdout} / ${ours.cli.stderr}`));
  const expectedExit = theirMethod !== null ? 0 : ours.status.result.authError ? 2 : 1;
  assert.equal(ours.cli.code, expectedExit, what(`status exit code (stderr ${ours.cli.stderr})`));
  assert.equal(report.authMethod, asOurMethod(theirMethod), what('status --json authMethod'));
  assert.deepEqual(report.authError, ours.status.result.authError ?? null, what('status --json authError'));
  if (ours.read.result) assert.deepEqual(report.account, ours.read.result.account, what('status --json account'));

  rows.push({
    name: fixture.name,
    theirs: `${describeRead(theirs.read)} | ${theirMethod ?? 'null'} / ${short(theirs.status.result.authToken)}`,
    ours: `${describeRead(ours.read)} | ${ourMethod ?? 'null'} / ${short(ours.status.result.authToken)} | exit ${ours.cli.code}`,
    verdict: notes.length ? `equal but: ${notes.join('; ')}` : 'equal',
  });
}

test('fixture table: account/read, getAuthStatus and `status --json` agree with Codex 0.171 (deliberate differences asserted)', { concurrency: 3, timeout: 600_000 }, async (t) => {
  requireCodex0171(); // fails here, before the cases, when the binary is missing
  assert.ok(FIXTURES.length >= 20);
  const rows: Row[] = [];
  await Promise.all(FIXTURES.map((fixture) => t.test(fixture.name, { timeout: 180_000 }, (st) => compareFixture(st, fixture, rows))));
  for (const row of rows) t.diagnostic(`${row.name} :: 0.171 ${row.theirs} :: ours ${row.ours} :: ${row.verdict}`);
  assert.equal(rows.length, FIXTURES.length, 'every case compared');
});

// ---------- 2. writes read across ----------

const API_KEY = 'sk-proj-crosswrite-0123456789abcdefABCDEF';

/** auth.json's bytes and mode, and that the lock files are empty regular files and no temp file is left. */
async function authFileFacts(home: TempHome) {
  const bytes = await readFile(home.authFile);
  const mode = (await stat(home.authFile)).mode & 0o777;
  const names = await readdir(home.path);
  for (const name of LOCK_FILES.filter((n) => names.includes(n))) {
    const info = await lstat(join(home.path, name));
    assert.ok(info.isFile() && info.size === 0, `${name} is an empty regular file`);
  }
  return { bytes, text: bytes.toString('utf8'), mode, locks: LOCK_FILES.filter((n) => names.includes(n)).sort(), temps: names.filter((n) => n.startsWith('.auth-')) };
}

test('an API-key sign-in by 0.171 is noticed by our running server, which then serves the key', async (t) => {
  const { backend, proxy } = await network(t);
  const home = await newHome(t, backend);
  const ours = await startOurs(t, home, proxy);
  assert.equal((await ours.call('getAuthStatus', { includeToken: true })).authMethod, undefined, 'signed out at first');
  const codex = await start0171(t, home, proxy);
  const noticed = ours.waitForNotification('codex/event/auth_status_change', (params) => params?.authMethod === 'apikey', 30_000);
  const reply = await codex.request('account/login/start', { type: 'apiKey', apiKey: API_KEY });
  assert.deepEqual(reply, { result: { type: 'apiKey' } });
  assert.deepEqual((await noticed).params, { authMethod: 'apikey' });
  assert.deepEqual(await ours.call('getAuthStatus', { includeToken: true }), { authMethod: 'apikey', authToken: API_KEY, preferredAuthMethod: 'chatgpt' });
  assert.deepEqual(await ours.call('account/read', {}), { account: { type: 'apiKey' }, userId: null, requiresOpenaiAuth: true, workspaceRouting: null });
  const facts = await authFileFacts(home);
  assert.equal(facts.mode, 0o600);
  assert.deepEqual(facts.temps, []);
  t.diagnostic(`0.171 wrote ${JSON.stringify(facts.text)}`);
});

test('an API key our loginApiKey stored is read by a 0.171 app-server started afterwards', async (t) => {
  const { backend, proxy } = await network(t);
  const home = await newHome(t, backend);
  const ours = await startOurs(t, home, proxy);
  assert.deepEqual(await ours.call('loginApiKey', { apiKey: API_KEY }), {});
  const codex = await start0171(t, home, proxy);
  assert.deepEqual(await codex.request('account/read', {}), { result: { account: { type: 'apiKey' }, userId: null, requiresOpenaiAuth: true, workspaceRouting: null } });
  const status = await codex.request('getAuthStatus', { includeToken: true, refreshToken: false });
  assert.equal(status.result?.authMethod, 'apikey');
  assert.equal(status.result?.authToken, API_KEY);
});

test('auth.json bytes: our loginApiKey writes exactly what 0.171 account/login/start writes for the same key; logout removes it alike', async (t) => {
  const { backend, proxy } = await network(t);
  const seeds: [string, unknown][] = [
    ['an empty CODEX_HOME', undefined],
    ['over ChatGPT tokens in a 0644 auth.json', tokensRecord({ plan: 'plus' })],
  ];
  for (const [name, seed] of seeds) {
    await t.test(name, async (st) => {
      const [ourHome, theirHome] = await Promise.all([newHome(st, backend), newHome(st, backend)]);
      if (seed) await Promise.all([ourHome.writeAuth(seed, 0o644), theirHome.writeAuth(seed, 0o644)]);
      const ours = await startOurs(st, ourHome, proxy);
      const codex = await start0171(st, theirHome, proxy);
      const [ourReply, theirReply] = await Promise.all([ours.request('loginApiKey', { apiKey: API_KEY }), codex.request('account/login/start', { type: 'apiKey', apiKey: API_KEY })]);
      assert.deepEqual(ourReply.result, {});
      assert.deepEqual(theirReply.result, { type: 'apiKey' });
      const [our, their] = await Promise.all([authFileFacts(ourHome), authFileFacts(theirHome)]);
      st.diagnostic(`ours  ${JSON.stringify(our.text)}`);
      st.diagnostic(`0.171 ${JSON.stringify(their.text)}`);
      assert.equal(their.mode, 0o600);
      assert.equal(our.mode, their.mode, 'file mode');
      assert.deepEqual(our.locks, their.locks, 'both leave auth.lock and auth.json.lock');
      assert.deepEqual([our.temps, their.temps], [[], []], 'no .auth-XXXXXX temp file left');
      // Byte for byte (a failure shows the difference).
      assert.equal(our.text, their.text, 'auth.json text');
      assert.ok(our.bytes.equals(their.bytes));

      // Logout: both remove auth.json and keep the (empty, regular) lock files.
      const [ourOut, theirOut] = await Promise.all([ours.request('account/logout'), codex.request('account/logout')]);
      assert.ok(ourOut.result, JSON.stringify(ourOut));
      assert.deepEqual(theirOut, { result: {} });
      for (const home of [ourHome, theirHome]) {
        assert.equal(await exists(home.authFile), false, `${home.path}: auth.json removed`);
        const names = await readdir(home.path);
        for (const lock of LOCK_FILES) {
          assert.ok(names.includes(lock), `${lock} kept`);
          const info = await lstat(join(home.path, lock));
          assert.ok(info.isFile() && info.size === 0, `${lock} is an empty regular file`);
        }
      }
    });
  }
});

test('ChatGPT tokens written by our store (chatgptRecord + writeAuthFile under withAuthLock) are read by 0.171, and by ours', async (t) => {
  const { backend, proxy } = await network(t);
  for (const key of [null, 'sk-exchanged-key']) {
    const home = await newHome(t, backend);
    const tokens = tokenSet({ plan: 'pro', email: 'writer@example.com', accountId: 'acct-writer', userId: 'user-writer' });
    await withAuthLock(home.path, () => writeAuthFile(home.path, chatgptRecord(tokens, key)));
    const text = await readFile(home.authFile, 'utf8');
    assert.ok(text.startsWith('{\n  "auth_mode": "chatgpt",\n  "OPENAI_API_KEY": '), `auth_mode first, 2-space JSON: ${text.slice(0, 60)}`);
    assert.ok(!text.endsWith('\n'), 'no newline at the end');
    const codex = await start0171(t, home, proxy);
    const read = await codex.request('account/read', {});
    assert.deepEqual(read.result?.account, { type: 'chatgpt', email: 'writer@example.com', planType: 'pro', workspaceName: STUB_WORKSPACE_NAME }, JSON.stringify(read));
    assert.equal(read.result?.userId, 'user-writer');
    assert.equal(read.result?.workspaceRouting?.chatgptAccountId, 'acct-writer');
    const status = await codex.request('getAuthStatus', { includeToken: true, refreshToken: false });
    // auth_mode chatgpt decides even with a stored key.
    assert.deepEqual({ method: status.result?.authMethod, token: status.result?.authToken }, { method: 'chatgpt', token: tokens.access_token }, `key ${key}`);
    const ours = await startOurs(t, home, proxy);
    const ourRead = await ours.call('account/read', {});
    // Deliberate: no workspace (we do not call the ChatGPT backend).
    assert.deepEqual(ourRead, { account: { type: 'chatgpt', email: 'writer@example.com', planType: 'pro', workspaceName: null }, userId: 'user-writer', requiresOpenaiAuth: true, workspaceRouting: null });
    await codex.close();
    // 0.171 read it and left it as it was.
    assert.equal(await readFile(home.authFile, 'utf8'), text, '0.171 did not rewrite the file');
  }
});

test('tokens 0.171 writes on its own refresh are picked up by our running server', async (t) => {
  const { backend, proxy } = await network(t);
  const home = await newHome(t, backend);
  const seeded = tokensRecord({ plan: 'plus', email: 'refresh@example.com', accountId: 'acct-r' });
  await home.writeAuth(seeded);
  const fresh = tokenSet({ plan: 'team', email: 'refresh@example.com', accountId: 'acct-r', nonce: 'after-refresh' });
  const refreshBodies: Record<string, string>[] = [];
  backend.onRefresh = (body) => {
    refreshBodies.push(body);
    return { status: 200, json: { id_token: fresh.id_token, access_token: fresh.access_token, refresh_token: 'rt-2' } };
  };
  const ours = await startOurs(t, home, proxy);
  assert.equal((await ours.call('getAuthStatus', { includeToken: true })).authToken, seeded.tokens.access_token);
  const codex = await start0171(t, home, proxy, { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${backend.origin}/oauth/token` });
  // account/read {refreshToken: true} always refreshes in 0.171 ("forced"); the answer comes after the write.
  const read = await codex.request('account/read', { refreshToken: true });
  assert.equal(read.result?.account?.planType, 'team', JSON.stringify(read));
  assert.equal(refreshBodies.length, 1, 'one refresh');
  assert.equal(refreshBodies[0]!['grant_type'], 'refresh_token');
  assert.equal(refreshBodies[0]!['refresh_token'], 'rt-1');
  const written = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(written.tokens.access_token, fresh.access_token);
  assert.equal(written.tokens.refresh_token, 'rt-2');
  t.diagnostic(`0.171 wrote keys ${JSON.stringify(Object.keys(written))}, tokens ${JSON.stringify(Object.keys(written.tokens))}`);
  // No notification for a token change within one method: poll what our server serves.
  const status = await eventually(async () => {
    const answer = await ours.call('getAuthStatus', { includeToken: true });
    assert.equal(answer.authToken, fresh.access_token);
    return answer;
  }, 15_000);
  assert.equal(status.authMethod, 'chatgpt');
  assert.deepEqual((await ours.call('account/read', {})).account, { type: 'chatgpt', email: 'refresh@example.com', planType: 'team', workspaceName: null });
  const facts = await authFileFacts(home);
  assert.equal(facts.mode, 0o600);
  assert.deepEqual(facts.temps, []);
  assert.equal(backend.calls.filter((c) => c.path === '/oauth/token').length, 1, 'ours did not refresh');
});

test('a token refresh: ours writes the record 0.171 writes for the same answer (last_refresh aside)', async (t) => {
  const { backend, proxy } = await network(t);
  const fresh = tokenSet({ plan: 'plus', email: 'rotate@example.com', accountId: 'acct-rot', nonce: 'rotated' });
  backend.onRefresh = () => ({ status: 200, json: { id_token: fresh.id_token, access_token: fresh.access_token, refresh_token: 'rt-2' } });
  for (const authMode of [undefined, 'chatgpt']) {
    await t.test(`seed with auth_mode ${authMode ?? '(absent)'}`, async (st) => {
      const seed = tokensRecord({ plan: 'plus', email: 'rotate@example.com', accountId: 'acct-rot', ...(authMode && { authMode }) });
      const [ourHome, theirHome] = await Promise.all([newHome(st, backend), newHome(st, backend)]);
      await Promise.all([ourHome.writeAuth(seed), theirHome.writeAuth(seed)]);
      const ours = await startOurs(st, ourHome, proxy, {}, backend.origin);
      const codex = await start0171(st, theirHome, proxy, { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${backend.origin}/oauth/token` });
      const [ourStatus, theirRead] = await Promise.all([
        ours.call('getAuthStatus', { includeToken: true, refreshToken: true }),
        codex.request('account/read', { refreshToken: true }),
      ]);
      assert.equal(ourStatus.authToken, fresh.access_token, 'ours refreshed');
      assert.equal(theirRead.result?.account?.type, 'chatgpt', JSON.stringify(theirRead));
      const [ourText, theirText] = await Promise.all([readFile(ourHome.authFile, 'utf8'), readFile(theirHome.authFile, 'utf8')]);
      const [our, their] = [JSON.parse(ourText), JSON.parse(theirText)];
      assert.deepEqual(their.tokens, { ...seed.tokens, id_token: fresh.id_token, access_token: fresh.access_token, refresh_token: 'rt-2' }, '0.171 refreshed');
      assert.deepEqual(our.tokens, their.tokens, 'the same tokens');
      // Both RFC 3339 UTC; 0.171 (chrono) writes nanoseconds, ours (Date) milliseconds: both read either.
      assert.match(their.last_refresh, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.match(our.last_refresh, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const normal = (text: string) => text.replace(/"eyJ[^"]*"/g, '"<jwt>"').replace(/"last_refresh": "[^"]*"/, '"last_refresh": "…"');
      st.diagnostic(`ours  ${JSON.stringify(normal(ourText))}`);
      st.diagnostic(`0.171 ${JSON.stringify(normal(theirText))}`);
      assert.equal(normal(ourText), normal(theirText), 'the refreshed auth.json, byte for byte but for last_refresh');
    });
  }
});

// ---------- 3. locks ----------

interface LockHolder {
  readonly pid: number;
  release(): Promise<void>;
}

/** Starts support/codex-0171-lock-holder.js and resolves once it holds the locks. */
async function holdLocks(t: TestContext, home: TempHome, what: 'both' | 'commit'): Promise<LockHolder> {
  const child = spawn(process.execPath, [LOCK_HOLDER, home.path, what], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  defer(t, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const onLine = (line: string) => {
        lines.off('close', onClose);
        resolve(line);
      };
      const onClose = () => {
        lines.off('line', onLine);
        reject(new Error(`lock holder ended: ${stderr}`));
      };
      lines.once('line', onLine);
      lines.once('close', onClose);
    });
  assert.equal(await next(), 'locked');
  return {
    pid: child.pid!,
    async release() {
      const released = next();
      child.stdin.end('release\n');
      assert.equal(await released, 'released');
      await exited;
    },
  };
}

interface FlockEntry {
  pid: number;
  inode: number;
  waiting: boolean;
}

/** BSD flock locks from /proc/locks, held and waited for (`->`). */
async function flocks(): Promise<FlockEntry[]> {
  const entries: FlockEntry[] = [];
  for (const line of (await readFile('/proc/locks', 'utf8')).split('\n')) {
    const match = /^\d+:\s+(->\s+)?FLOCK\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (match) entries.push({ waiting: match[1] !== undefined, pid: Number(match[2]), inode: Number(match[3]) });
  }
  return entries;
}

/** Whether process `pid` has `path` open (what our server does while it polls for a lock). */
async function hasOpen(pid: number, path: string): Promise<boolean> {
  const dir = `/proc/${pid}/fd`;
  for (const fd of await readdir(dir).catch(() => [] as string[])) {
    if ((await readlink(join(dir, fd)).catch(() => '')) === path) return true;
  }
  return false;
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** A request whose settling is observable without awaiting it. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const wrapped = promise.finally(() => (done = true));
  wrapped.catch(() => undefined);
  return { promise: wrapped, settled: () => done };
}

test('locks: 0.171 does not write its API-key sign-in while our withAuthLock is held by another process', async (t) => {
  const { backend, proxy } = await network(t);
  const home = await newHome(t, backend);
  const codex = await start0171(t, home, proxy);
  const holder = await holdLocks(t, home, 'both');
  const lockInode = (await stat(join(home.path, 'auth.lock'))).ino;
  const login = tracked(codex.request('account/login/start', { type: 'apiKey', apiKey: API_KEY }));
  // The kernel shows 0.171 queued behind the holder on auth.lock.
  await eventually(async () => {
    assert.ok((await flocks()).some((l) => l.waiting && l.pid === codex.child.pid && l.inode === lockInode), '0.171 waits on auth.lock');
  }, 15_000);
  assert.ok((await flocks()).some((l) => !l.waiting && l.pid === holder.pid && l.inode === lockInode), 'the holder has auth.lock');
  assert.equal(login.settled(), false, 'no answer while the lock is held');
  assert.equal(await exists(home.authFile), false, 'nothing written while the lock is held');
  await holder.release();
  assert.deepEqual(await login.promise, { result: { type: 'apiKey' } });
  assert.equal(JSON.parse(await readFile(home.authFile, 'utf8')).OPENAI_API_KEY, API_KEY);
});

test('locks: our loginApiKey does not write while the locks are held by another process', async (t) => {
  const { backend, proxy } = await network(t);
  const home = await newHome(t, backend);
  const ours = await startOurs(t, home, proxy);
  const holder = await holdLocks(t, home, 'both');
  const lockPath = join(home.path, 'auth.lock');
  assert.equal(await hasOpen(ours.child.pid!, lockPath), false, 'auth.lock not open before the sign-in');
  const login = tracked(ours.request('loginApiKey', { apiKey: API_KEY }, 'login', 30_000));
  // Ours polls with LOCK_NB (no kernel waiter to see); it has auth.lock open while it tries.
  await eventually(async () => assert.ok(await hasOpen(ours.child.pid!, lockPath), 'ours is trying auth.lock'), 15_000);
  assert.equal(login.settled(), false, 'no answer while the lock is held');
  assert.equal(await exists(home.authFile), false, 'nothing written while the lock is held');
  await holder.release();
  const reply: RpcMessage = await login.promise;
  assert.deepEqual(reply.result, {});
  assert.equal(JSON.parse(await readFile(home.authFile, 'utf8')).OPENAI_API_KEY, API_KEY);
});

test('locks: while 0.171 holds auth.lock (waiting inside it for auth.json.lock), our loginApiKey waits, and writes after it', async (t) => {
  const { backend, proxy } = await network(t);
  const home = await newHome(t, backend);
  const [ours, codex] = await Promise.all([startOurs(t, home, proxy), start0171(t, home, proxy)]);
  // Holding only the commit lock makes 0.171 take auth.lock and then poll auth.json.lock (~5 s at most).
  const holder = await holdLocks(t, home, 'commit');
  const lockPath = join(home.path, 'auth.lock');
  await writeFile(lockPath, '', { flag: 'a' }); // make sure it exists, to know its inode (never truncates)
  const lockInode = (await stat(lockPath)).ino;
  const theirLogin = tracked(codex.request('account/login/start', { type: 'apiKey', apiKey: 'sk-written-by-0171' }));
  await eventually(async () => {
    assert.ok((await flocks()).some((l) => !l.waiting && l.pid === codex.child.pid && l.inode === lockInode), '0.171 holds auth.lock');
  }, 4_000, 10);
  const ourLogin = tracked(ours.request('loginApiKey', { apiKey: 'sk-written-by-ours' }, 'login', 30_000));
  await eventually(async () => assert.ok(await hasOpen(ours.child.pid!, lockPath), 'ours is trying auth.lock'), 4_000, 10);
  assert.ok((await flocks()).some((l) => !l.waiting && l.pid === codex.child.pid && l.inode === lockInode), '0.171 still holds auth.lock');
  assert.equal(ourLogin.settled(), false, 'ours waits for 0.171');
  assert.equal(theirLogin.settled(), false, '0.171 waits for the commit lock');
  assert.equal(await exists(home.authFile), false);
  await holder.release();
  assert.deepEqual(await theirLogin.promise, { result: { type: 'apiKey' } });
  assert.deepEqual((await ourLogin.promise).result, {});
  // Ours went second, so its key is the one on disk.
  assert.equal(JSON.parse(await readFile(home.authFile, 'utf8')).OPENAI_API_KEY, 'sk-written-by-ours');
});
