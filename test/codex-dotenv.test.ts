/**
 * `$CODEX_HOME/.env` is read as Codex 0.171 reads it, so that what an MCP client does not pass on
 * (HTTPS_PROXY, NO_PROXY) can be put there, as for Codex itself:
 *  - side by side with the real 0.171 binary (`codex sandbox -- env` prints the environment its
 *    .env made): the same names are set, to the same values, over the environment's own, and
 *    CODEX_-prefixed names (any case) are refused;
 *  - a proxy set only there reaches our sign-in (the device-code request goes through it), and a
 *    CODEX_ variable there (CODEX_AUTH_MCP_LOG=debug) changes nothing.
 * One difference on purpose: 0.171 (dotenvy) expands `${NAME}` in values; dotenv's parser does
 * not, and such a value is taken as written (not compared here; the README says so).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { loadCodexDotenv } from '../src/config/codex-dotenv.js';
import { requireCodex0171, startRefusingProxy } from './support/codex-0171-offline.js';
import { runCli } from './support/run-cli.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const DOTENV = [
  'HTTPS_PROXY=http://proxy.example:3128',
  'NO_PROXY=localhost,127.0.0.1',
  'PLAIN_VALUE=from-dotenv',
  'export EXPORTED_VALUE=yes',
  'QUOTED_VALUE="a b # c"',
  "SINGLE_QUOTED='x$y'",
  'PRESET_VALUE=from-dotenv',
  'EMPTY_VALUE=',
  '# a comment',
  'CODEX_REFUSED=should-not-be-set',
  'codex_lower_refused=lower',
  'Codex_Mixed_Refused=mixed',
  '',
].join('\n');

/** The variables 0.171 gives a command it runs, after reading CODEX_HOME/.env. */
async function envOf0171(codexHome: string, env: Record<string, string>): Promise<Map<string, string>> {
  const child = spawn(requireCodex0171(), ['sandbox', '--', 'env', '-0'], { env: { PATH: process.env['PATH']!, HOME: process.env['HOME']!, RUST_LOG: 'error', CODEX_HOME: codexHome, ...env } });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.resume();
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, '0.171 sandbox -- env ran');
  return new Map(out.split('\0').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

test('the same variables as Codex 0.171 are taken from $CODEX_HOME/.env, over the environment; CODEX_* in any case refused', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await writeFile(`${home.path}/.env`, DOTENV);
  const preset = { PRESET_VALUE: 'from-environment' };

  const theirs = await envOf0171(home.path, preset);
  const ours: NodeJS.ProcessEnv = { ...preset };
  const outcome = loadCodexDotenv(home.path, ours);

  const names = ['HTTPS_PROXY', 'NO_PROXY', 'PLAIN_VALUE', 'EXPORTED_VALUE', 'QUOTED_VALUE', 'SINGLE_QUOTED', 'PRESET_VALUE', 'EMPTY_VALUE', 'CODEX_REFUSED', 'codex_lower_refused', 'Codex_Mixed_Refused'];
  for (const name of names) assert.equal(ours[name], theirs.get(name), `${name}: 0.171 has ${JSON.stringify(theirs.get(name))}`);
  assert.equal(theirs.get('PRESET_VALUE'), 'from-dotenv', '0.171: the .env wins over the environment');
  assert.equal(theirs.has('CODEX_REFUSED'), false);
  assert.deepEqual(outcome.refused, ['CODEX_REFUSED', 'codex_lower_refused', 'Codex_Mixed_Refused']);
  // No .env: nothing happens.
  const empty = await tempHome();
  t.after(() => empty.remove());
  assert.deepEqual(loadCodexDotenv(empty.path, {}), { applied: [], refused: [] });
});

async function deviceCodeThrough(t: TestContext, dotenv: string | undefined) {
  const proxy = await startRefusingProxy();
  t.after(() => proxy.close());
  const home = await tempHome();
  t.after(() => home.remove());
  if (dotenv !== undefined) await writeFile(`${home.path}/.env`, dotenv.replaceAll('PROXY_URL', proxy.url));
  // As an MCP client starts it: no proxy variable in the environment (spawn-server passes only a few).
  const client = startServer(t, { codexHome: home.path, args: ['-c', 'auth_issuer="https://auth.example.invalid"'], env: { CODEX_AUTH_MCP_LOG: undefined } });
  await client.initialize();
  const reply = await client.request('account/login/start', { type: 'chatgptDeviceCode' });
  return { reply, seen: proxy.seen, stderr: client.stderr };
}

test('a proxy set only in $CODEX_HOME/.env reaches the sign-in; a CODEX_ variable there is ignored', async (t) => {
  const through = await deviceCodeThrough(t, 'HTTPS_PROXY=PROXY_URL\nNO_PROXY=localhost,127.0.0.1\nCODEX_AUTH_MCP_LOG=debug\n');
  assert.ok(through.reply.error, 'the refusing proxy fails the request');
  assert.deepEqual(through.seen, ['CONNECT auth.example.invalid:443'], 'the issuer was asked through the proxy from .env');
  assert.doesNotMatch(through.stderr, /"level":20/, 'CODEX_AUTH_MCP_LOG=debug from .env is refused: no debug lines');

  const without = await deviceCodeThrough(t, undefined);
  assert.ok(without.reply.error);
  assert.deepEqual(without.seen, [], 'no .env, no proxy');
});

test('where we differ on purpose: NODE_* is refused, and a .env is read only as a regular file of this user in a private CODEX_HOME', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const dotenv = `${home.path}/.env`;
  // NODE_ variables would come too late (NODE_OPTIONS) or weaken this process (TLS checks off).
  await writeFile(dotenv, 'NODE_TLS_REJECT_UNAUTHORIZED=0\nnode_options=--inspect\nHTTPS_PROXY=http://proxy.example:3128\n', { mode: 0o600 });
  const ours: NodeJS.ProcessEnv = {};
  assert.deepEqual(loadCodexDotenv(home.path, ours), { applied: ['HTTPS_PROXY'], refused: ['NODE_TLS_REJECT_UNAUTHORIZED', 'node_options'] });
  assert.equal(ours['NODE_TLS_REJECT_UNAUTHORIZED'], undefined);

  // Whoever can write the file or its folder could send the sign-in through a proxy of theirs.
  await chmod(dotenv, 0o666);
  const loose = await runCli(home.path, ['status']);
  assert.match(loose.stderr, new RegExp(`${dotenv.replace(/[.]/g, '\\.')} is not read: other users can write to ${dotenv.replace(/[.]/g, '\\.')} \\(mode 0666\\)`));
  await chmod(dotenv, 0o600);
  await chmod(home.path, 0o777);
  assert.deepEqual(loadCodexDotenv(home.path, {}), { applied: [], refused: [] }, 'not read in a 0777 home');
  await chmod(home.path, 0o700);

  // A FIFO there cannot hold the start (a blocking read would wait for a writer forever).
  await rm(dotenv);
  execFileSync('mkfifo', ['-m', '600', dotenv]);
  const fifo = await runCli(home.path, ['status']);
  assert.equal(fifo.code, 1, `signed out, answered: ${fifo.stderr}`);
  assert.match(fifo.stderr, /\.env is not read: it is not a regular file/);
});
