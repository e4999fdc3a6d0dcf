/**
 * A scripted, fault-injecting issuer for what a real one cannot be made to do: hang, drop the
 * connection, answer slowly, answer 5xx/429 with Retry-After, or play a rotating refresh-token
 * server that answers 401 refresh_token_reused to any reuse. Plain node:http on 127.0.0.1, port 0.
 *
 * Each endpoint has a function called once per request with a 1-based count, so a test can
 * sequence answers (`onRefresh: (n) => n === 1 ? 'drop' : …`). `/oauth/token` is split by
 * grant_type: refresh_token → onRefresh (or the built-in `rotating` server), authorization_code →
 * onCodeExchange, token-exchange → onTokenExchange. Whatever has no handler goes to onOther, and
 * then to 404 `{"error":"not_found"}`. close() destroys every socket, hanging ones included.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { identityJwt, type OpenAiIdentity } from '../jwt.js';

/**
 * A JSON answer (`json`, or a raw `body` string), optionally after `delayMs`; or 'hang' (accept
 * the request, never answer); or 'drop' (destroy the socket without answering).
 */
export type Reply =
  | { status: number; json?: unknown; body?: string; headers?: Record<string, string | undefined>; delayMs?: number }
  | 'hang'
  | 'drop';

export interface FakeCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string;
  /** The body, parsed from JSON or a form (empty when neither parses). */
  body: Record<string, string>;
  /** The body as received. */
  raw: string;
}

type Handler = (n: number, body: Record<string, string>) => Reply | Promise<Reply>;

export interface FakeIssuerScript {
  /** `/oauth/token` with grant_type refresh_token. */
  onRefresh?: Handler;
  /** `/oauth/token` with grant_type authorization_code. */
  onCodeExchange?: Handler;
  /** `/oauth/token` with grant_type urn:ietf:params:oauth:grant-type:token-exchange (the API key). */
  onTokenExchange?: Handler;
  /** `/oauth/revoke`. */
  onRevoke?: Handler;
  /** `POST /api/accounts/deviceauth/usercode`. */
  onDeviceUserCode?: Handler;
  /** `POST /api/accounts/deviceauth/token`. */
  onDeviceToken?: Handler;
  /** Refreshes when there is no onRefresh: a rotating refresh-token server. */
  rotating?: RotatingTokens;
  /** Anything without a handler of its own. */
  onOther?(call: FakeCall): Reply | Promise<Reply>;
}

export interface FakeIssuer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Every request, in arrival order (recorded before it is answered). */
  readonly calls: FakeCall[];
  readonly rotating: RotatingTokens | undefined;
  refreshCalls(): FakeCall[];
  /** Calls to `path`, optionally only those with this grant_type. */
  callsTo(path: string, grantType?: string): FakeCall[];
  /** Resolves with the `count`-th call matching `predicate` (at once if it already arrived). */
  waitForCall(predicate: (call: FakeCall) => boolean, count?: number): Promise<FakeCall>;
  /** Stops listening, cancels delayed answers and destroys every socket. Idempotent. */
  close(): Promise<void>;
}

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

export async function startFakeIssuer(script: FakeIssuerScript = {}): Promise<FakeIssuer> {
  const calls: FakeCall[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const counts = new Map<string, number>();
  const waiters = new Set<() => void>();
  let closing: Promise<void> | undefined;

  const route = (call: FakeCall): Reply | Promise<Reply> => {
    const grantType = call.body['grant_type'];
    const handler = handlerFor(script, call.path, grantType);
    if (handler) {
      const key = `${call.path} ${grantType ?? ''}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return handler(n, call.body);
    }
    if (script.onOther) return script.onOther(call);
    return { status: 404, json: { error: 'not_found' } };
  };

  const server = createServer(async (req, res) => {
    const call = await readCall(req);
    if (!call) return; // the client went away mid-body
    calls.push(call);
    for (const wake of [...waiters]) wake();
    let reply: Reply;
    try {
      reply = await route(call);
    } catch (error) {
      reply = { status: 500, json: { error: 'fake_issuer_script_failed', message: (error as Error).message } };
    }
    if (closing) return;
    if (reply !== 'hang' && reply !== 'drop' && reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, reply.delayMs);
        timers.add(timer);
      });
    }
    if (!closing) respond(req, res, reply);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    rotating: script.rotating,
    refreshCalls: () => calls.filter((c) => c.path === '/oauth/token' && c.body['grant_type'] === 'refresh_token'),
    callsTo: (path, grantType) => calls.filter((c) => c.path === path && (grantType === undefined || c.body['grant_type'] === grantType)),
    waitForCall(predicate, count = 1) {
      return new Promise((resolve) => {
        const check = () => {
          const matching = calls.filter(predicate);
          if (matching.length < count) return false;
          waiters.delete(check);
          resolve(matching[count - 1]!);
          return true;
        };
        if (!check()) waiters.add(check);
      });
    },
    close: () =>
      (closing ??= new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

function handlerFor(script: FakeIssuerScript, path: string, grantType: string | undefined): Handler | undefined {
  switch (path) {
    case '/oauth/token':
      if (grantType === 'refresh_token') return script.onRefresh ?? (script.rotating && ((_n, body) => script.rotating!.reply(body)));
      if (grantType === 'authorization_code') return script.onCodeExchange;
      if (grantType === TOKEN_EXCHANGE_GRANT) return script.onTokenExchange;
      return undefined;
    case '/oauth/revoke':
      return script.onRevoke;
    case '/api/accounts/deviceauth/usercode':
      return script.onDeviceUserCode;
    case '/api/accounts/deviceauth/token':
      return script.onDeviceToken;
    default:
      return undefined;
  }
}

function respond(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (reply === 'hang') return; // accept and never answer; close() destroys the socket
  if (reply === 'drop') {
    req.socket.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(reply.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  res.writeHead(reply.status, headers);
  res.end(reply.body ?? (reply.json === undefined ? '' : JSON.stringify(reply.json)));
}

async function readCall(req: IncomingMessage): Promise<FakeCall | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return undefined;
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  const contentType = req.headers['content-type'] ?? '';
  let body: Record<string, string> = {};
  try {
    const parsed: unknown = contentType.includes('json') ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, string>;
  } catch {
    body = {};
  }
  return { method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, headers: req.headers, contentType, body, raw };
}

/**
 * A refresh-token server with rotation and reuse detection: the current refresh token gets a new
 * id_token, access token (JWTs for `identity`, `exp` accessTtlSecs from now) and refresh token
 * `rt-rotated-N`, and becomes spent; any other one gets 401 `{"error":{"code":"refresh_token_reused"}}`
 * (`reuseErrors` counts those presenting a spent token).
 */
export class RotatingTokens {
  current: string;
  reuseErrors = 0;
  rotations = 0;
  private readonly spent = new Set<string>();

  constructor(
    initialRefreshToken: string,
    private readonly identity: OpenAiIdentity = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' },
    private readonly accessTtlSecs = 3600,
  ) {
    this.current = initialRefreshToken;
  }

  async reply(body: Record<string, string>): Promise<Reply> {
    const presented = body['refresh_token'] ?? '';
    if (presented !== this.current) {
      if (this.spent.has(presented)) this.reuseErrors++;
      return {
        status: 401,
        json: { error: { code: 'refresh_token_reused', message: 'Your refresh token has already been used to generate a new access token.' } },
      };
    }
    this.spent.add(presented);
    this.rotations++;
    this.current = `rt-rotated-${this.rotations}`;
    const options = { expiresInSecs: this.accessTtlSecs };
    return {
      status: 200,
      json: {
        id_token: await identityJwt(this.identity, options),
        access_token: await identityJwt(this.identity, options),
        refresh_token: this.current,
      },
    };
  }
}
