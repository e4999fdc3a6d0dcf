/**
 * A scripted, fault-injecting issuer for what a real one cannot be made to do: hang, drop the
 * connection, answer 5xx/429 with Retry-After, or play a rotating refresh-token server that
 * answers 401 refresh_token_reused to any reuse. Loopback only; close() destroys every socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { testJwt, type TestTokenClaims } from './tokens.js';

export type Reply = { status: number; json?: unknown; headers?: Record<string, string> } | 'hang' | 'drop';

export interface FakeCall {
  method: string;
  path: string;
  body: Record<string, string>;
  contentType: string;
}

export interface FakeIssuerScript {
  /** `/oauth/token` with grant_type refresh_token; `n` counts from 1. */
  onRefresh?(n: number, body: Record<string, string>): Reply | Promise<Reply>;
  onRevoke?(n: number, body: Record<string, string>): Reply | Promise<Reply>;
  onOther?(call: FakeCall): Reply | Promise<Reply>;
}

export interface FakeIssuer {
  readonly url: string;
  readonly calls: FakeCall[];
  refreshCalls(): FakeCall[];
  close(): Promise<void>;
}

export async function startFakeIssuer(script: FakeIssuerScript): Promise<FakeIssuer> {
  const calls: FakeCall[] = [];
  const sockets = new Set<Socket>();
  let refreshes = 0;
  let revokes = 0;
  const server = createServer(async (req, res) => {
    const call = await readCall(req);
    calls.push(call);
    let reply: Reply = { status: 404, json: { error: 'not_found' } };
    if (call.path === '/oauth/token' && call.body['grant_type'] === 'refresh_token' && script.onRefresh) {
      reply = await script.onRefresh(++refreshes, call.body);
    } else if (call.path === '/oauth/revoke' && script.onRevoke) {
      reply = await script.onRevoke(++revokes, call.body);
    } else if (script.onOther) {
      reply = await script.onOther(call);
    }
    respond(req, res, reply);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    refreshCalls: () => calls.filter((c) => c.path === '/oauth/token' && c.body['grant_type'] === 'refresh_token'),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function respond(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (reply === 'hang') return; // accept and never answer
  if (reply === 'drop') {
    req.socket.destroy();
    return;
  }
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  res.end(reply.json === undefined ? '' : JSON.stringify(reply.json));
}

async function readCall(req: IncomingMessage): Promise<FakeCall> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const contentType = req.headers['content-type'] ?? '';
  let body: Record<string, string> = {};
  try {
    body = contentType.includes('json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
  } catch {
    body = {};
  }
  return { method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, body, contentType };
}

/**
 * A refresh-token server with rotation and reuse detection: the current refresh token gets new
 * tokens (and becomes spent); any spent one gets 401 refresh_token_reused.
 */
export class RotatingTokens {
  current: string;
  reuseErrors = 0;
  rotations = 0;
  private readonly spent = new Set<string>();

  constructor(
    initialRefreshToken: string,
    private readonly claims: TestTokenClaims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' },
    private readonly accessTtlSecs = 3600,
  ) {
    this.current = initialRefreshToken;
  }

  async reply(body: Record<string, string>): Promise<Reply> {
    const presented = body['refresh_token'] ?? '';
    if (presented !== this.current) {
      if (this.spent.has(presented)) this.reuseErrors++;
      return { status: 401, json: { error: { code: 'refresh_token_reused', message: 'already used' } } };
    }
    this.spent.add(presented);
    this.rotations++;
    this.current = `rt-rotated-${this.rotations}`;
    const claims = { ...this.claims, exp: Math.floor(Date.now() / 1000) + this.accessTtlSecs };
    return { status: 200, json: { id_token: await testJwt(claims), access_token: await testJwt(claims), refresh_token: this.current } };
  }
}
