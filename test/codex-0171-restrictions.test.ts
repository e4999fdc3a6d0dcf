/**
 * Who is signed in, decided as Codex 0.171.0 decides it, side by side with the real binary:
 *
 *  1. A table: config (no restriction; forced_login_method and forced_chatgpt_workspace_id,
 *     matching and not; each restriction in each config layer 0.171 reads — config.toml, `-c`,
 *     /etc/codex/config.toml, /etc/codex/managed_config.toml, /etc/codex/requirements.toml) ×
 *     stored credential (API key, ChatGPT tokens, both) → 0.171's `codex login status` exit code,
 *     `account/read` and `getAuthStatus {includeToken}` against ours (`status --json` exit code,
 *     account/read, getAuthStatus). Ours must agree in every cell, and say why a stored credential
 *     is not in force (an authError naming the setting); the stored file is never deleted (0.171
 *     deletes nothing either).
 *  2. The authorize URL (in codex-0171-authorize.test.ts: it needs the fixed port 1455).
 *
 * The /etc/codex layers are made per process in a private mount namespace (support/etc-codex.ts),
 * for 0.171 and for ours alike. Offline as in codex-0171.test.ts: 0.171's account/read for a
 * ChatGPT sign-in asks the ChatGPT backend for the workspace ("workspace routing discovery",
 * −32603 without it), so config.toml points chatgpt_base_url at the loopback stub of
 * support/codex-0171-offline.ts, and a refusing proxy catches anything else.
 *
 * A missing 0.171 binary or a machine that cannot make the namespace fails these tests (no skip).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cleanupStack, offlineEnv, requireCodex0171, runCodex0171, runOurCli, sharedConfigToml, startCodex0171, startRefusingProxy, startStubBackend,
  type RefusingProxy, type StubBackend,
} from './support/codex-0171-offline.js';
import { etcCodex, requireEtcCodexNamespace } from './support/etc-codex.js';
import { spawnServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void; diagnostic(message: string): void };

const AUTH_CLAIM = 'https://api.openai.com/auth';
const WORKSPACE = 'acct_1';
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function jwt(claims: Record<string, unknown>): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', 'restrictions-test').update(head).digest('base64url')}`;
}
function tokens() {
  const claims = {
    exp: Math.floor(Date.now() / 1000) + 3600,
    email: 'user@example.com',
    [AUTH_CLAIM]: { chatgpt_account_id: WORKSPACE, chatgpt_user_id: 'user-1', user_id: 'user-1', chatgpt_plan_type: 'plus' },
  };
  return { id_token: jwt(claims), access_token: jwt({ ...claims, token_use: 'access' }), refresh_token: 'rt-1', account_id: WORKSPACE };
}

/** The stored credentials of the table: as 0.171 writes them (a key and tokens with no auth_mode: the key is in force). */
const CREDENTIALS = {
  key: () => ({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-stored-key' }),
  tokens: () => ({ auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: tokens(), last_refresh: new Date().toISOString() }),
  both: () => ({ OPENAI_API_KEY: 'sk-stored-key', tokens: tokens(), last_refresh: new Date().toISOString() }),
} as const;
type CredentialName = keyof typeof CREDENTIALS;

interface ConfigCase {
  name: string;
  /** Lines added to $CODEX_HOME/config.toml. */
  user?: string;
  /** `-c` arguments, given to both. */
  args?: string[];
  /** Files of /etc/codex. */
  etc?: Record<string, string>;
}

const CONFIGS: ConfigCase[] = [
  { name: 'no restriction' },
  { name: 'config.toml forced_login_method = "chatgpt"', user: 'forced_login_method = "chatgpt"' },
  { name: 'config.toml forced_login_method = "api"', user: 'forced_login_method = "api"' },
  { name: 'config.toml forced_chatgpt_workspace_id matching', user: `forced_chatgpt_workspace_id = "${WORKSPACE}"` },
  { name: 'config.toml forced_chatgpt_workspace_id not matching', user: 'forced_chatgpt_workspace_id = "ws-other"' },
  { name: 'config.toml forced_chatgpt_workspace_id list holding it', user: `forced_chatgpt_workspace_id = ["ws-other", "${WORKSPACE}"]` },
  { name: '-c forced_login_method="api"', args: ['-c', 'forced_login_method="api"'] },
  { name: '-c forced_chatgpt_workspace_id="ws-other"', args: ['-c', 'forced_chatgpt_workspace_id="ws-other"'] },
  { name: '/etc/codex/config.toml forced_login_method = "api"', etc: { 'config.toml': 'forced_login_method = "api"\n' } },
  {
    name: '/etc/codex/config.toml "api" under config.toml "chatgpt"',
    user: 'forced_login_method = "chatgpt"',
    etc: { 'config.toml': 'forced_login_method = "api"\n' },
  },
  {
    name: 'managed_config.toml "api" over config.toml "chatgpt"',
    user: 'forced_login_method = "chatgpt"',
    etc: { 'managed_config.toml': 'forced_login_method = "api"\n' },
  },
  {
    name: 'managed_config.toml "chatgpt" over -c "api"',
    args: ['-c', 'forced_login_method="api"'],
    etc: { 'managed_config.toml': 'forced_login_method = "chatgpt"\n' },
  },
  { name: 'managed_config.toml forced_chatgpt_workspace_id not matching', etc: { 'managed_config.toml': 'forced_chatgpt_workspace_id = "ws-other"\n' } },
  { name: 'requirements.toml allowed_login_methods = ["api"]', etc: { 'requirements.toml': 'allowed_login_methods = ["api"]\n' } },
  { name: 'requirements.toml allowed_login_methods = ["chatgpt", "api"]', etc: { 'requirements.toml': 'allowed_login_methods = ["chatgpt", "api"]\n' } },
  { name: 'requirements.toml allowed_chatgpt_workspaces not matching', etc: { 'requirements.toml': 'allowed_chatgpt_workspaces = ["ws-other"]\n' } },
  { name: 'requirements.toml allowed_chatgpt_workspaces matching', etc: { 'requirements.toml': `allowed_chatgpt_workspaces = ["${WORKSPACE}"]\n` } },
  {
    name: 'requirements.toml and config.toml workspaces with nothing in common',
    user: 'forced_chatgpt_workspace_id = "ws-other"',
    etc: { 'requirements.toml': `allowed_chatgpt_workspaces = ["${WORKSPACE}"]\n` },
  },
];

/** One side's verdict on one cell. */
interface Verdict {
  statusExit: number | null;
  /** account/read's account type, `null` for no account, or `ERR <code>`. */
  accountRead: string;
  /** getAuthStatus {includeToken}: the method (null: none) and which stored secret it handed out. */
  authMethod: string | null;
  authToken: 'key' | 'access token' | 'none' | 'other';
}

const tokenKind = (token: unknown, stored: any): Verdict['authToken'] =>
  token == null ? 'none' : token === stored.OPENAI_API_KEY ? 'key' : token === stored.tokens?.access_token ? 'access token' : 'other';
const readKind = (reply: { result?: any; error?: { code: number } }) =>
  reply.error ? `ERR ${reply.error.code}` : (reply.result?.account?.type ?? null);

interface Cell {
  config: string;
  credential: CredentialName;
  theirs: Verdict;
  ours: Verdict;
  ourAuthError: { code: string; message: string } | undefined;
  fileKept: boolean;
}

async function runCell(t: TestContext, shared: { backend: StubBackend; proxy: RefusingProxy }, config: ConfigCase, credential: CredentialName): Promise<Cell> {
  const defer = cleanupStack(t);
  const home = await tempHome();
  defer(() => home.remove());
  await home.writeConfig(`${sharedConfigToml(shared.backend)}${config.user ?? ''}\n`);
  const stored = CREDENTIALS[credential]();
  await home.writeAuth(stored);
  const etc = await etcCodex(config.etc ?? {});
  defer(() => etc.remove());
  const wrapper = config.etc ? etc.wrapper : undefined;
  const env = offlineEnv(shared.proxy.url);
  const args = config.args ?? [];
  const ourArgs = [...args, '-c', `auth_issuer="${shared.proxy.url}"`];

  const theirsSide = async (): Promise<Verdict> => {
    const status = await runCodex0171([...args, 'login', 'status'], { codexHome: home.path, env, ...(wrapper && { wrapper }) });
    const app = await startCodex0171({ codexHome: home.path, env, name: 'codex_cli_rs', globalArgs: args, ...(wrapper && { wrapper }) }, (spawned) => defer(() => spawned.close()));
    const read = await app.request('account/read', {});
    const auth = await app.request('getAuthStatus', { includeToken: true });
    return { statusExit: status.code, accountRead: readKind(read), authMethod: auth.result?.authMethod ?? null, authToken: tokenKind(auth.result?.authToken, stored) };
  };
  const oursSide = async (): Promise<Verdict & { authError: Cell['ourAuthError'] }> => {
    const status = await runOurCli(['status', '--json', ...ourArgs], { codexHome: home.path, env, ...(wrapper && { wrapper }) });
    const server = spawnServer({ codexHome: home.path, args: ourArgs, env: { ...env, OPENAI_API_KEY: undefined, CODEX_API_KEY: undefined }, ...(wrapper && { wrapper }) });
    defer(async () => {
      server.kill();
      await server.exited;
    });
    await server.initialize();
    const read = await server.request('account/read', {});
    const auth = await server.call('getAuthStatus', { includeToken: true });
    return {
      statusExit: status.code,
      accountRead: readKind(read),
      authMethod: auth.authMethod ?? null,
      authToken: tokenKind(auth.authToken, stored),
      authError: auth.authError,
    };
  };
  const [theirs, { authError, ...ours }] = await Promise.all([theirsSide(), oursSide()]);
  const fileKept = JSON.stringify(JSON.parse(await readFile(join(home.path, 'auth.json'), 'utf8'))) === JSON.stringify(stored);
  return { config: config.name, credential, theirs, ours, ourAuthError: authError, fileKept };
}

/** Runs `jobs` at most `limit` at a time (the machine has 2 cores; each cell starts four processes). */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

const show = (v: Verdict) => `exit ${v.statusExit}, read ${v.accountRead}, ${v.authMethod ?? 'no method'}/${v.authToken}`;

test('the restriction table: 0.171 and ours agree on who is signed in, in every config layer, for every stored credential', { timeout: 600_000 }, async (t) => {
  requireCodex0171();
  await requireEtcCodexNamespace();
  const defer = cleanupStack(t);
  const [backend, proxy] = await Promise.all([startStubBackend(), startRefusingProxy()]);
  defer(() => Promise.all([backend.close(), proxy.close()]));

  const jobs = CONFIGS.flatMap((config) => (Object.keys(CREDENTIALS) as CredentialName[]).map((credential) => () => runCell(t, { backend, proxy }, config, credential)));
  const cells = await pool(jobs, 3);

  const rows = cells.map((cell) => `${cell.config} × ${cell.credential}: 0.171 ${show(cell.theirs)} | ours ${show(cell.ours)}${cell.ourAuthError ? ` [${cell.ourAuthError.code}]` : ''}`);
  t.diagnostic(`\n${rows.join('\n')}`);
  const disagreements = cells.filter((cell) => JSON.stringify(cell.theirs) !== JSON.stringify(cell.ours));
  assert.deepEqual(disagreements.map((cell) => `${cell.config} × ${cell.credential}: 0.171 ${show(cell.theirs)} | ours ${show(cell.ours)}`), []);

  for (const cell of cells) {
    const where = `${cell.config} × ${cell.credential}`;
    assert.ok(cell.fileKept, `${where}: auth.json is left as it was (0.171 deletes nothing)`);
    // The table must not be vacuous: a signed-out verdict with a credential stored is a refusal, and ours says why.
    if (cell.theirs.statusExit === 1) {
      assert.ok(cell.ourAuthError && ['login_method_forbidden', 'workspace_forbidden'].includes(cell.ourAuthError.code), `${where}: ours says why (${JSON.stringify(cell.ourAuthError)})`);
      const setting = cell.ourAuthError.code === 'login_method_forbidden' ? /forced_login_method|allowed_login_methods/ : /forced_chatgpt_workspace_id|allowed_chatgpt_workspaces/;
      assert.match(cell.ourAuthError.message, setting, `${where}: the message names the setting`);
    } else {
      assert.equal(cell.ourAuthError, undefined, `${where}: no error when signed in`);
    }
  }
  // Both verdicts occur, in every layer: the table can fail.
  const refused = new Set(cells.filter((cell) => cell.theirs.statusExit === 1).map((cell) => cell.config));
  for (const name of ['config.toml forced_login_method = "api"', '-c forced_login_method="api"', '/etc/codex/config.toml forced_login_method = "api"', 'managed_config.toml forced_chatgpt_workspace_id not matching', 'requirements.toml allowed_chatgpt_workspaces not matching']) {
    assert.ok(refused.has(name), `${name} refuses some stored credential`);
  }
});

test('a config both refuse alike: requirements that leave no login method, and a comma-separated workspace string', { timeout: 120_000 }, async (t) => {
  requireCodex0171();
  await requireEtcCodexNamespace();
  const defer = cleanupStack(t);
  const [backend, proxy] = await Promise.all([startStubBackend(), startRefusingProxy()]);
  defer(() => Promise.all([backend.close(), proxy.close()]));
  const env = offlineEnv(proxy.url);
  const configs: { name: string; user: string; etc: Record<string, string>; message: RegExp }[] = [
    { name: 'requirements ["api"] against config.toml "chatgpt"', user: 'forced_login_method = "chatgpt"', etc: { 'requirements.toml': 'allowed_login_methods = ["api"]\n' }, message: /authentication requirements do not permit any usable login method/ },
    { name: 'a comma-separated workspace string', user: 'forced_chatgpt_workspace_id = "a,b"', etc: {}, message: /comma-separated strings are not supported/ },
    { name: 'requirements.toml with an unknown method', user: '', etc: { 'requirements.toml': 'allowed_login_methods = ["sso"]\n' }, message: /requirements.toml/ },
  ];
  for (const config of configs) {
    const home = await tempHome();
    defer(() => home.remove());
    await home.writeConfig(`${sharedConfigToml(backend)}${config.user}\n`);
    const etc = await etcCodex(config.etc);
    defer(() => etc.remove());
    const theirs = await runCodex0171(['login', 'status'], { codexHome: home.path, env, wrapper: etc.wrapper });
    const ours = await runOurCli(['status'], { codexHome: home.path, env, wrapper: etc.wrapper });
    assert.equal(theirs.code, 1, `${config.name}: 0.171 refuses the config (${theirs.stderr.trim()})`);
    assert.match(theirs.stderr + theirs.stdout, config.message, `${config.name}: 0.171's message`);
    // A config error is exit 2 for every command of ours (0.171's commands exit 1): our CLI's usage contract.
    assert.equal(ours.code, 2, `${config.name}: ours refuses the config (${ours.stderr.trim()})`);
    assert.match(ours.stderr, config.message, `${config.name}: ours says the same`);
  }
});
