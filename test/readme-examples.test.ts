/**
 * The README's CLI examples and the examples of every command's --help, run as written (through
 * `sh`, with `codex-auth-mcp` on PATH): none may be a usage error. Each runs in a CODEX_HOME of
 * its own (the paths the examples name are mapped onto temporary ones) whose config.toml points
 * sign-ins at a closed local port and a free callback port, so nothing leaves the machine and the
 * fixed ports 1455/1457 stay free. A `login` that reaches "Waiting for you to sign in" has worked.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot, serverEntry } from './support/paths.js';

const run = promisify(execFile);
const USAGE_ERROR = /^error: |unknown command|unknown option|too many arguments|argument missing|config error|CODEX_HOME \(/m;
const SAFE_CONFIG = 'login_callback_port = 0\nauth_issuer = "http://127.0.0.1:9"\n';
/** Folders the examples name as CODEX_HOME. */
const EXAMPLE_HOMES = ['/srv/codex', '/tmp/h'];

/** The lines of the README's ```sh blocks. */
async function readmeExamples(): Promise<string[]> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1]!.split('\n').filter((line) => line.trim()));
}

/** The example lines of `--help` and of each command's `--help` (a description after two spaces is dropped). */
async function helpExamples(): Promise<string[]> {
  const lines: string[] = [];
  for (const args of [['--help'], ...['serve', 'status', 'login', 'logout', 'accounts'].map((command) => [command, '--help'])]) {
    const { stdout } = await run(process.execPath, [serverEntry, ...args]);
    const examples = stdout.split('\nExamples:\n')[1];
    assert.ok(examples, `${args.join(' ')} has examples`);
    for (const line of examples.split('\n')) if (line.startsWith('  ')) lines.push(line.trim().replace(/\s{2,}.*$/, ''));
  }
  return lines;
}

async function runExample(t: { after(fn: () => unknown): void }, line: string, bin: string) {
  const root = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-example-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const home = join(root, 'home');
  let command = line;
  for (const [i, path] of EXAMPLE_HOMES.entries()) command = command.replaceAll(path, join(root, `named-${i}`));
  for (const folder of [home, ...EXAMPLE_HOMES.map((_, i) => join(root, `named-${i}`))]) {
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'config.toml'), SAFE_CONFIG);
  }
  const child = spawn('sh', ['-c', command], {
    env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, CODEX_HOME: home, OPENAI_API_KEY: 'sk-readme-example', CODEX_AUTH_MCP_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let waiting = false;
  const stopGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    // A browser sign-in waits for the person: having got that far, the example worked.
    if (!waiting && stdout.includes('Waiting for you to sign in')) (waiting = true), stopGroup();
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(stopGroup, 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr, waiting };
}

test('every CLI example of the README and of --help runs, and none is a usage error', { timeout: 240_000 }, async (t) => {
  const bin = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-bin-'));
  t.after(() => rm(bin, { recursive: true, force: true }));
  await writeFile(join(bin, 'codex-auth-mcp'), `#!/bin/sh\nexec "${process.execPath}" "${serverEntry}" "$@"\n`);
  await chmod(join(bin, 'codex-auth-mcp'), 0o755);

  const fromReadme = await readmeExamples();
  const fromHelp = await helpExamples();
  assert.ok(fromReadme.length >= 5, `README examples: ${fromReadme.length}`);
  assert.ok(fromHelp.length >= 15, `--help examples: ${fromHelp.length}`);
  const examples = [...new Set([...fromReadme, ...fromHelp])];
  const results = new Map<string, Awaited<ReturnType<typeof runExample>>>();
  // A few at a time: each is a process or two.
  for (let i = 0; i < examples.length; i += 4) {
    await Promise.all(examples.slice(i, i + 4).map(async (line) => results.set(line, await runExample(t, line, bin))));
  }
  for (const [line, result] of results) {
    const what = `${line}\nexit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
    assert.doesNotMatch(result.stderr, USAGE_ERROR, what);
    if (!result.waiting) assert.notEqual(result.code, null, `still running after 30 s: ${what}`);
  }
  // The README's own examples also succeed as a person would expect.
  for (const line of fromReadme) {
    const { code, waiting } = results.get(line)!;
    assert.ok(waiting || code === 0 || code === 1, `${line}: exit ${code}`);
  }
  assert.equal(results.get("printenv OPENAI_API_KEY | codex-auth-mcp login --with-api-key")?.stdout, 'Signed in with the API key.\n');
  assert.match(results.get(`echo '{"jsonrpc":"2.0","id":1,"method":"getAuthStatus"}' | codex-auth-mcp mcp`)!.stdout, /^\{"jsonrpc":"2\.0","id":1,"result":\{"preferredAuthMethod":"chatgpt"\}\}\n$/);
  assert.ok([...results.values()].some((r) => r.waiting), 'a login example got as far as waiting for the person');
});
