// The official MCP conformance suite (@modelcontextprotocol/conformance) against the built server.
// The suite speaks Streamable HTTP only; this server speaks stdio. supergateway (stateful mode)
// bridges them: one server process per MCP session, spawned with an empty CODEX_HOME of its own.
//
// Every scenario of the suite's active set runs; scripts/conformance-baseline.yml lists the ones
// expected to fail and why (each needs a fixture tool, resource or prompt of the suite's reference
// server, or a feature this server has no use for). A failure not listed fails the run, and so does
// a listed scenario that passes (the suite calls the entry stale).
//
// Extra arguments go to the suite (e.g. `--scenario logging-set-level`).
//
// Needs Node 22 or later (the suite uses fs.globSync): .ci/run runs it under its Node 24. Needs
// the build (`npm run build`). Everything stays on loopback, on a port the system picks.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`conformance: the MCP conformance suite needs Node 22 or later (this is ${process.version}); .ci/run runs it under Node 24`);
  process.exit(1);
}
const server = join(root, 'dist/bundle/main.js');
if (!existsSync(server)) {
  console.error('conformance: the server is not built; run `npm run build` first');
  process.exit(1);
}
const require = createRequire(import.meta.url);
const packageBin = (name, bin) => join(dirname(require.resolve(`${name}/package.json`)), require(`${name}/package.json`).bin[bin]);
const suite = packageBin('@modelcontextprotocol/conformance', 'conformance');
const bridge = packageBin('supergateway', 'supergateway');

/** A port free on loopback now (the bridge binds it a moment later; nothing else here races for it). */
const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

const work = mkdtempSync(join(tmpdir(), 'codex-auth-mcp-conformance-'));
// Made here: a CODEX_HOME that is set must exist (as in Codex 0.171), or the server refuses to start.
const codexHome = join(work, 'codex-home');
mkdirSync(codexHome, { mode: 0o700 });
let bridgeProcess;
const cleanUp = () => {
  // The bridge and the servers it spawned are one process group.
  if (bridgeProcess?.exitCode === null) {
    try {
      process.kill(-bridgeProcess.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

const port = await freePort();
const quote = (arg) => `'${arg.replaceAll("'", "'\\''")}'`;
let bridgeLog = '';
bridgeProcess = spawn(
  process.execPath,
  [bridge, '--stdio', [process.execPath, server, 'mcp'].map(quote).join(' '), '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'info'],
  { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CODEX_HOME: codexHome, CODEX_AUTH_MCP_LOG: 'warn' } },
);
await new Promise((resolve, reject) => {
  const onData = (chunk) => {
    bridgeLog += chunk;
    if (bridgeLog.includes(`Listening on port ${port}`)) resolve();
  };
  bridgeProcess.stdout.on('data', onData);
  bridgeProcess.stderr.on('data', onData);
  bridgeProcess.once('exit', (code) => reject(new Error(`conformance: the bridge exited (${code}) before listening:\n${bridgeLog}`)));
});

const run = spawn(
  process.execPath,
  [suite, 'server', '--url', `http://localhost:${port}/mcp`, '--expected-failures', join(root, 'scripts/conformance-baseline.yml'), '-o', join(work, 'results'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
const code = await new Promise((resolve) => run.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
if (code !== 0) console.error(`conformance: failed (exit ${code}); the bridge's log:\n${bridgeLog.slice(-20_000)}`);
process.exit(code);
