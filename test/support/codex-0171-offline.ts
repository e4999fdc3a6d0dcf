/**
 * What it takes to run Codex 0.171's `codex app-server` fully offline next to our server, on one
 * CODEX_HOME (see the 0.171 findings the tests were built from):
 *   - a refusing loopback proxy in HTTP(S)_PROXY / ALL_PROXY, with NO_PROXY covering loopback, so
 *     nothing can leave the machine and every attempt is recorded (`seen` must stay empty);
 *   - a loopback stand-in for the ChatGPT backend (`chatgpt_base_url`): 0.171 calls
 *     GET /backend-api/wham/accounts/check after a sign-in and for account/read, and without an
 *     answer it ends the sign-in with "workspace routing discovery failed";
 *   - config.toml with file storage and both base URLs on the stub;
 *   - `app-server` with the plugin/apps features off (they would only add chatgpt.com traffic).
 * A missing 0.171 binary throws: the tests that need it fail, they never skip.
 */
import { accessSync, constants } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AppServerClient, CODEX_0171_BINARY, spawnAppServer } from './codex-app-server.js';

export const CODEX_0171_APP_SERVER_ARGS = ['app-server', '--disable', 'plugins', '--disable', 'remote_plugin', '--disable', 'apps'];

/** Throws (with how to get it) when the 0.171 binary is not there or not executable. */
export function requireCodex0171(binary = CODEX_0171_BINARY): string {
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`Codex 0.171 binary not found at ${binary}: run 'npm ci' (devDependency codex-0171 → @openai/codex-linux-x64)`);
  }
  return binary;
}

interface Closable {
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1:0 whose close() also destroys every open socket. */
async function listenLoopback(server: ReturnType<typeof createServer>): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
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
  const { port, close } = await listenLoopback(server);
  return { url: `http://127.0.0.1:${port}`, seen, close };
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

export interface StubBackend extends Closable {
  /** `http://127.0.0.1:PORT/backend-api` (no trailing slash). */
  readonly baseUrl: string;
  /** `METHOD path` of every request, in order. */
  readonly requests: string[];
}

/**
 * The ChatGPT backend as far as 0.171's auth needs it: `GET …/wham/accounts/check` answers the
 * smallest shape 0.171 accepts — a list with the account the request names in
 * `chatgpt-account-id`, an https origin (only reported back, never contacted), no routing
 * constraint. Anything else is 404.
 */
export async function startStubBackend(options: { workspaceName?: string; planType?: string } = {}): Promise<StubBackend> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(`${req.method} ${path}`);
    const [status, body] = path.endsWith('/wham/accounts/check')
      ? [200, {
          accounts: [{
            id: String(req.headers['chatgpt-account-id'] ?? 'acct-unknown'),
            name: options.workspaceName ?? 'Demo workspace',
            plan_type: options.planType ?? 'plus',
            structure: 'personal',
            workspace_backend_origin: 'https://chatgpt.com',
            account_routing_override: 'NO_CONSTRAINT',
          }],
        }]
      : [404, { detail: 'not stubbed' }];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const { port, close } = await listenLoopback(server);
  return { baseUrl: `http://127.0.0.1:${port}/backend-api`, requests, close };
}

/** config.toml for a home both servers share: file storage, the ChatGPT backend on the stub. */
export function sharedConfigToml(backend: StubBackend): string {
  return [
    'cli_auth_credentials_store = "file"',
    `chatgpt_base_url = "${backend.baseUrl}/"`,
    `openai_base_url = "${backend.baseUrl}/codex"`,
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
}

/**
 * Spawns 0.171's app-server and completes initialize/initialized under `name`. The caller closes
 * it (t.after(() => app.close())) — also when this throws, so it is returned through `onSpawn` first.
 */
export async function startCodex0171(options: Codex0171Options, onSpawn: (app: AppServerClient) => void): Promise<AppServerClient> {
  requireCodex0171();
  const app = spawnAppServer({
    codexHome: options.codexHome,
    args: CODEX_0171_APP_SERVER_ARGS,
    env: { ...options.env, RUST_LOG: process.env['CODEX_0171_RUST_LOG'] ?? 'warn' },
  });
  onSpawn(app);
  const reply = await app.request('initialize', {
    clientInfo: { name: options.name, title: null, version: '0.0.0' },
    capabilities: { experimentalApi: true },
  });
  if (reply.error) throw new Error(`0.171 initialize failed: ${reply.error.message}\n${app.stderr.slice(-2000)}`);
  app.notify('initialized');
  return app;
}

/**
 * One t.after that undoes everything in reverse order of set-up (processes before the servers
 * they talk to, the home folder last), and keeps going when one step fails.
 */
export function cleanupStack(t: { after(fn: () => unknown): void }): (fn: () => unknown) => void {
  const steps: (() => unknown)[] = [];
  t.after(async () => {
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
  return (fn) => void steps.push(fn);
}
