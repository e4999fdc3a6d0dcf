/**
 * The install paths the README gives, end to end: `npm pack` in a clean copy of the sources (the
 * files git knows, as a fresh clone has them, with nothing built) builds the package itself
 * (prepack) and makes a tarball that, installed with --omit=dev per project and globally, runs
 * `--help`, `status --json` and `mcp` as an MCP client spawns it.
 *
 * The copy borrows this checkout's node_modules for esbuild (a real clone runs `npm ci`); the
 * installs resolve the package's dependencies through npm as a user's would (from its cache when
 * it has them).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { RpcClient } from '../dev/rpc-client.js';
import { projectRoot } from './support/paths.js';
import { startSecretService } from './support/secret-service.js';

const run = promisify(execFile);
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** The files of a fresh clone: what git tracks (or would, for new files), as they are now. */
async function cleanCopy(into: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: projectRoot, maxBuffer: 64 << 20 });
  for (const file of new Set(stdout.split('\0').filter(Boolean))) {
    if (!existsSync(join(projectRoot, file))) continue; // deleted in the work tree, not yet committed
    await mkdir(dirname(join(into, file)), { recursive: true });
    await copyFile(join(projectRoot, file), join(into, file));
  }
  await symlink(join(projectRoot, 'node_modules'), join(into, 'node_modules'), 'dir');
}

/** Runs a command to its end; the exit code is part of the answer. */
function exec(command: string, args: string[], env: Record<string, string> = {}, input?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('npm pack from a clean clone builds the package; installed with --omit=dev (per project and globally) it runs --help, status --json, mcp (a browser sign-in started, an API key stored) and the keyring', { timeout: 300_000 }, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-pack-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const clone = join(work, 'clone');
  await cleanCopy(clone);
  assert.equal(existsSync(join(clone, 'dist')), false, 'nothing is built in the copy');

  const packed = await run('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: clone, maxBuffer: 64 << 20 });
  const [pack] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as [{ filename: string; files: { path: string }[] }];
  const files = pack.files.map((f) => f.path);
  assert.ok(files.includes('dist/bundle/main.js'), 'prepack built the server');
  assert.ok(files.includes('LICENSE'), 'the license ships');
  assert.deepEqual(files.filter((f) => !/^(dist\/bundle\/|package\.json$|README\.md$|LICENSE$)/.test(f)), [], 'nothing of dev/, test/ or bench/');
  const tarball = join(work, pack.filename);

  const project = join(work, 'project');
  const global = join(work, 'global');
  await mkdir(project);
  await run('npm', ['init', '-y', '--loglevel=error'], { cwd: project });
  await Promise.all([
    run('npm', ['install', '--omit=dev', ...NPM_QUIET, tarball], { cwd: project, maxBuffer: 64 << 20 }),
    run('npm', ['install', '--global', '--prefix', global, '--omit=dev', ...NPM_QUIET, tarball], { cwd: work, maxBuffer: 64 << 20 }),
  ]);
  for (const dev of ['typescript', 'oidc-provider', 'playwright-core', '@openai/codex']) {
    assert.equal(existsSync(join(project, 'node_modules', dev)), false, `${dev} (a dev dependency) is not installed`);
  }
  // What the bundle holds is not installed again (zod alone was 8 MB), and the whole install stays
  // within a bound: on Linux x64 it is ~16 MB, nearly all of it what the bundle cannot hold — the
  // keyring binding (3.4 MB), koffi with its prebuilt (4.3 MB), undici (2.2 MB, kept outside on
  // purpose), pino and its helpers (2.6 MB), and the bundle with its source maps (3.5 MB).
  const installed = join(global, 'lib', 'node_modules', 'codex-auth-mcp');
  for (const bundled of ['zod', 'piscina', 'commander', 'jose', 'comlink', 'smol-toml', 'fastest-levenshtein']) {
    assert.equal(existsSync(join(installed, 'node_modules', bundled)), false, `${bundled} is inside the bundle, not installed beside it`);
  }
  const kilobytes = Number((await run('du', ['-sk', installed])).stdout.split('\t')[0]);
  assert.ok(kilobytes > 1_000 && kilobytes <= 18_000, `installed globally the package takes ${kilobytes} KB (bound: 18,000)`);
  const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
  assert.ok(manifest.dependencies['codex-auth-mcp'], 'installed as a dependency of the project');

  // A CODEX_HOME that is set must exist (as in Codex 0.171).
  const home = join(work, 'codex-home');
  await mkdir(home, { mode: 0o700 });
  for (const bin of [join(project, 'node_modules', '.bin', 'codex-auth-mcp'), join(global, 'bin', 'codex-auth-mcp')]) {
    const help = await exec(bin, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: codex-auth-mcp/);
    assert.match(help.stdout, /Examples:/);

    const status = await exec(bin, ['status', '--json'], { CODEX_HOME: home });
    assert.equal(status.code, 1, `signed out: ${status.stderr}`);
    assert.equal(JSON.parse(status.stdout).authMethod, null);

    // Each thread of the installed bundle, with what it loads from node_modules: the login worker
    // (a sign-in started and cancelled), the token service and koffi's lock (an API key stored).
    const server = new RpcClient(spawn(bin, ['mcp', '-c', 'login_callback_port=0'], { env: { ...process.env, CODEX_HOME: home } }));
    try {
      const initialized = await server.initialize();
      assert.equal(initialized.serverInfo.name, 'codex-auth-mcp');
      assert.deepEqual(await server.call('getAuthStatus', {}), { preferredAuthMethod: 'chatgpt' });
      assert.deepEqual((await server.call('tools/list', {})).tools.map((tool: { name: string }) => tool.name), ['auth_status', 'login', 'logout', 'list_accounts', 'switch_account']);
      const { loginId, authUrl } = await server.call('loginChatGpt', {});
      assert.match(authUrl, /^https:\/\/auth\.openai\.com\/oauth\/authorize\?/);
      await server.call('cancelLoginChatGpt', { loginId });
      await server.call('loginApiKey', { apiKey: 'sk-installed' });
      assert.equal((await server.call('getAuthStatus', {})).authMethod, 'apikey');
      await server.call('logoutChatGpt', {});
      assert.equal((await server.close()).code, 0);
    } finally {
      server.kill();
    }
  }
  // The keyring (@napi-rs/keyring, loaded by the keyring thread) against a real Secret Service.
  const secrets = await startSecretService();
  t.after(() => secrets.close());
  const keyringHome = join(work, 'keyring-home');
  await mkdir(keyringHome, { mode: 0o700 });
  const keyring = ['-c', 'cli_auth_credentials_store=keyring'];
  const stored = await exec(join(global, 'bin', 'codex-auth-mcp'), ['login', '--with-api-key', ...keyring], { CODEX_HOME: keyringHome, ...secrets.env }, 'sk-installed-keyring\n');
  assert.equal(stored.code, 0, stored.stderr);
  const keyringStatus = await exec(join(global, 'bin', 'codex-auth-mcp'), ['status', '--json', ...keyring], { CODEX_HOME: keyringHome, ...secrets.env });
  assert.equal(keyringStatus.code, 0, keyringStatus.stderr);
  assert.deepEqual([JSON.parse(keyringStatus.stdout).authMethod, JSON.parse(keyringStatus.stdout).storage.kind], ['apikey', 'keyring']);
  assert.equal(existsSync(join(keyringHome, 'auth.json')), false, 'stored in the keyring, not in auth.json');

  // `npx codex-auth-mcp` inside that project runs the installed command (no registry involved).
  const { version } = JSON.parse(await readFile(join(clone, 'package.json'), 'utf8'));
  const npx = await run('npx', ['--no-install', 'codex-auth-mcp', '--version'], { cwd: project });
  assert.equal(npx.stdout.trim(), version);
});
