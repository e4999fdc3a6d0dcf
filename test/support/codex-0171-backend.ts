/**
 * Loopback stand-ins for what Codex 0.171's app-server calls, so the oracle runs offline and
 * answers like it does against the real services:
 *
 *  - a ChatGPT backend for `chatgpt_base_url`: `GET /backend-api/wham/accounts/check` answers one
 *    workspace whose id is the `chatgpt-account-id` header (0.171's account/read for ChatGPT
 *    sign-ins does this "workspace routing discovery" and fails without it), and
 *    `/wham/config/bundle` answers `{}` (enterprise, business and edu plans load workspace policies
 *    before `initialize` answers; without it 0.171 retries for ~7 s). Everything else is 404.
 *  - a token endpoint at `/oauth/token` for `CODEX_REFRESH_TOKEN_URL_OVERRIDE`, answering what
 *    `onRefresh` returns (404 without one).
 *  - a refusing proxy for HTTP(S)_PROXY: every connection is recorded and closed, so nothing the
 *    binary tries to reach beyond loopback leaves the machine.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

export const STUB_WORKSPACE_NAME = 'Stub Workspace';

export interface BackendCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StubBackend {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly calls: BackendCall[];
  /** Set to answer `POST /oauth/token` (the body is parsed from JSON or a form). */
  onRefresh: ((body: Record<string, string>, n: number) => { status: number; json: unknown } | Promise<{ status: number; json: unknown }>) | undefined;
  /** config.toml that sends 0.171's ChatGPT and model traffic here and keeps credentials in auth.json. */
  configToml(): string;
  close(): Promise<void>;
}

export async function startStubBackend(): Promise<StubBackend> {
  const calls: BackendCall[] = [];
  const sockets = new Set<Socket>();
  let refreshes = 0;
  const backend: StubBackend = {
    origin: '',
    calls,
    onRefresh: undefined,
    configToml: () =>
      [
        `chatgpt_base_url = "${backend.origin}/backend-api/"`,
        `openai_base_url = "${backend.origin}/backend-api/codex"`,
        'cli_auth_credentials_store = "file"',
        '',
      ].join('\n'),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  const server = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    calls.push({ method: req.method ?? '', path, headers: req.headers, body });
    const answer = (status: number, json: unknown) => {
      const text = JSON.stringify(json);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (path.endsWith('/wham/accounts/check')) {
      const id = String(req.headers['chatgpt-account-id'] ?? 'acct-1');
      return answer(200, {
        accounts: [{ id, name: STUB_WORKSPACE_NAME, workspace_backend_origin: 'https://chatgpt.com', account_routing_override: 'NO_CONSTRAINT' }],
        account_ordering: [id],
      });
    }
    if (path.endsWith('/wham/config/bundle')) return answer(200, {});
    if (path === '/oauth/token' && req.method === 'POST' && backend.onRefresh) {
      let parsed: Record<string, string> = {};
      try {
        parsed = JSON.parse(body) as Record<string, string>;
      } catch {
        parsed = Object.fromEntries(new URLSearchParams(body));
      }
      const reply = await backend.onRefresh(parsed, ++refreshes);
      return answer(reply.status, reply.json);
    }
    return answer(404, { detail: 'not stubbed' });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (backend as { origin: string }).origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return backend;
}

export interface RefusingProxy {
  readonly url: string;
  /** The first line each connection sent (e.g. `CONNECT api.openai.com:443 HTTP/1.1`). */
  readonly seen: string[];
  /** Environment for a child: every proxy variable points here, loopback is exempt. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startRefusingProxy(): Promise<RefusingProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (chunk) => {
      seen.push(chunk.toString('latin1').split('\r\n')[0] ?? '');
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    env: () => {
      const env: Record<string, string> = { NO_PROXY: 'localhost,127.0.0.1,::1', no_proxy: 'localhost,127.0.0.1,::1' };
      for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) {
        env[name] = url;
        env[name.toLowerCase()] = url;
      }
      return env;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
