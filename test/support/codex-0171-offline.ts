/**
 * What it takes to run Codex 0.171 (`codex app-server`, or a `codex` CLI command) fully offline
 * next to our server, on one CODEX_HOME:
 *   - a refusing loopback proxy in HTTP(S)_PROXY / ALL_PROXY, with NO_PROXY covering loopback, so
 *     nothing can leave the machine and every attempt is recorded (`seen`);
 *   - a loopback stand-in for the ChatGPT backend (`chatgpt_base_url`):
 *       GET …/wham/accounts/check answers one workspace whose id is the `chatgpt-account-id`
 *       header (0.171 calls it after a sign-in and for account/read — "workspace routing
 *       discovery" — and fails without it);
 *       …/wham/config/bundle answers `{}` (enterprise, business and edu plans load workspace
 *       policies before `initialize` answers; without it 0.171 retries for ~7 s);
 *       POST /oauth/token answers what `onRefresh` returns, for CODEX_REFRESH_TOKEN_URL_OVERRIDE
 *       (404 without one; a rotating refresh endpoint is dev/fakes/rotating-endpoint.ts);
 *       everything else is 404;
 *   - config.toml with file storage and both base URLs on the stub;
 *   - `app-server` with the plugin/apps features off (they would only add chatgpt.com traffic);
 *   - running a 0.171 CLI command (`codex login …`), or ours, to its end.
 * A missing 0.171 binary throws: the tests that need it fail, they never skip.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { CODEX_0171_BINARY, cleanEnv, spawnAppServer, type AppServerClient } from './codex-app-server.js';
import { firstHeader, listenLoopback, readRequestBody } from '../../dev/fakes/loopback-http.js';
import { serverEntry } from './paths.js';

const CODEX_0171_APP_SERVER_ARGS = ['app-server', '--disable', 'plugins', '--disable', 'remote_plugin', '--disable', 'apps'];

/** Throws (with how to get it) when the 0.171 binary is not there or not executable. */
export function requireCodex0171(): string {
  try {
    accessSync(CODEX_0171_BINARY, constants.X_OK);
  } catch {
    throw new Error(`Codex 0.171 binary not found at ${CODEX_0171_BINARY}: run 'npm ci' (devDependency codex-0171 → @openai/codex-linux-x64)`);
  }
  return CODEX_0171_BINARY;
}

interface Closable {
  close(): Promise<void>;
}

export interface RefusingProxy extends Closable {
  readonly url: string;
  /** `CONNECT host:port` or `METHOD url` of every attempt, in order. */
  readonly seen: string[];
}

/** A loopback HTTP proxy that refuses (403) everything it is asked, plain or CONNECT, and records it. */
export async function startRefusingProxy(): Promise<RefusingProxy> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(403).end('offline');
  });
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  const { url, close } = await listenLoopback(server);
  return { url, seen, close };
}

/** Every proxy variable, both cases, at `proxyUrl`; loopback stays direct. */
export function offlineEnv(proxyUrl: string): Record<string, string> {
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, ALL_PROXY: proxyUrl,
    http_proxy: proxyUrl, https_proxy: proxyUrl, all_proxy: proxyUrl,
    NO_PROXY: noProxy, no_proxy: noProxy,
  };
}

/** The workspace name the stub answers; 0.171's account/read shows it as `workspaceName`. */
export const STUB_WORKSPACE_NAME = 'Stub Workspace';

export interface BackendCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type RefreshAnswer = { status: number; json: unknown };

export interface StubBackend extends Closable {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly calls: BackendCall[];
  /** Set to answer `POST /oauth/token` (given the body's fields and the 1-based count of such requests). */
  onRefresh: ((fields: Record<string, string>, n: number) => RefreshAnswer | Promise<RefreshAnswer>) | undefined;
}

export async function startStubBackend(): Promise<StubBackend> {
  const calls: BackendCall[] = [];
  let refreshes = 0;
  const backend: StubBackend = { origin: '', calls, onRefresh: undefined, close: async () => undefined };
  const server = createServer(async (req, res) => {
    const body = await readRequestBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    calls.push({ method: req.method ?? '', path, headers: req.headers, body: body.text });
    const answer = ({ status, json }: RefreshAnswer) => {
      const text = JSON.stringify(json);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    if (path.endsWith('/wham/accounts/check')) {
      const id = firstHeader(req, 'chatgpt-account-id') ?? 'acct-1';
      return answer({
        status: 200,
        json: {
          accounts: [{ id, name: STUB_WORKSPACE_NAME, workspace_backend_origin: 'https://chatgpt.com', account_routing_override: 'NO_CONSTRAINT' }],
          account_ordering: [id],
        },
      });
    }
    if (path.endsWith('/wham/config/bundle')) return answer({ status: 200, json: {} });
    if (path === '/oauth/token' && req.method === 'POST' && backend.onRefresh) return answer(await backend.onRefresh(body.fields, ++refreshes));
    return answer({ status: 404, json: { detail: 'not stubbed' } });
  });
  const { url, close } = await listenLoopback(server);
  return Object.assign(backend, { origin: url, close });
}

/** config.toml that sends 0.171's ChatGPT and model traffic to the stub and keeps credentials in auth.json. */
export function sharedConfigToml(backend: StubBackend): string {
  return [
    'cli_auth_credentials_store = "file"',
    `chatgpt_base_url = "${backend.origin}/backend-api/"`,
    `openai_base_url = "${backend.origin}/backend-api/codex"`,
    '',
  ].join('\n');
}

export interface Codex0171Options {
  codexHome: string;
  /** The offline environment (offlineEnv) and any CODEX_* variables. */
  env: Record<string, string>;
  /**
   * clientInfo.name: 0.171 sends it as the `originator` header of request-driven refreshes, so a
   * token endpoint can tell two app-servers apart.
   */
  name: string;
  /** A command 0.171 is run under (e.g. support/etc-codex.ts's private /etc/codex). */
  wrapper?: readonly string[];
  /** Arguments before `app-server` (e.g. `-c key=value`). */
  globalArgs?: readonly string[];
}

/**
 * Spawns 0.171's app-server and completes initialize/initialized under `name`. The caller closes
 * it (e.g. defer(() => app.close())) — also when this throws, so it is handed to `onSpawn` first.
 */
export async function startCodex0171(options: Codex0171Options, onSpawn: (app: AppServerClient) => void): Promise<AppServerClient> {
  requireCodex0171();
  const app = spawnAppServer({
    codexHome: options.codexHome,
    args: [...(options.globalArgs ?? []), ...CODEX_0171_APP_SERVER_ARGS],
    ...(options.wrapper && { wrapper: options.wrapper }),
    env: { ...options.env, RUST_LOG: process.env['CODEX_0171_RUST_LOG'] ?? 'warn' },
  });
  onSpawn(app);
  await app.ready(options.name);
  return app;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` to its end with `input` on stdin (closed either way); killed after `timeoutMs`. */
async function runToEnd(command: string, args: string[], options: { env: Record<string, string>; input?: string; timeoutMs?: number; wrapper?: readonly string[] | undefined }): Promise<CliRun> {
  const wrapper = options.wrapper ?? [];
  const child = wrapper.length
    ? spawn(wrapper[0]!, [...wrapper.slice(1), command, ...args], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(command, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    });
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** A 0.171 CLI command (`codex login …`) in `codexHome`, in the app-server's cleaned environment plus `env`. */
export function runCodex0171(args: string[], options: { codexHome: string; env: Record<string, string>; input?: string; wrapper?: readonly string[] }): Promise<CliRun> {
  requireCodex0171();
  return runToEnd(CODEX_0171_BINARY, args, { ...options, env: cleanEnv({ ...options.env, CODEX_HOME: options.codexHome }) });
}

/** Our CLI (`status --json` …) in `codexHome`, with the server's clean environment (spawnServer's) plus `env`. */
export function runOurCli(args: string[], options: { codexHome: string; env?: Record<string, string>; input?: string; wrapper?: readonly string[] }): Promise<CliRun> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key]!;
  Object.assign(env, { CODEX_HOME: options.codexHome, ...options.env });
  return runToEnd(process.execPath, [serverEntry, ...args], { env, wrapper: options.wrapper, ...(options.input !== undefined && { input: options.input }) });
}

type Deferrer = (fn: () => unknown) => void;
const stacks = new WeakMap<object, Deferrer>();

/**
 * The clean-up stack of test `t` (one per test, however often asked): what is handed to it runs
 * last-in first-out once the test ends (processes before the servers they talk to, the home
 * folder last), every step even when an earlier one failed; the failures are thrown together.
 * A step handed over after the test ended (a timed-out body still running) runs at once.
 */
export function cleanupStack(t: { after(fn: () => unknown): void }): Deferrer {
  const known = stacks.get(t);
  if (known) return known;
  const steps: (() => unknown)[] = [];
  let done = false;
  t.after(async () => {
    done = true;
    const errors: unknown[] = [];
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length) throw new AggregateError(errors, 'clean-up failed');
  });
  const defer: Deferrer = (fn) => {
    if (done) void Promise.resolve().then(fn).catch(() => undefined);
    else steps.push(fn);
  };
  stacks.set(t, defer);
  return defer;
}
