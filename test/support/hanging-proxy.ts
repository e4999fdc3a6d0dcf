/**
 * A loopback "proxy" that accepts connections, reads the request head (e.g. `CONNECT
 * auth.openai.com:443 HTTP/1.1`) and never answers: pointed to by HTTPS_PROXY, it makes any
 * client's issuer traffic hang exactly where a dead corporate proxy or a stalled issuer would.
 *
 * How to make the ORIGINAL `codex mcp` (0.25) hang on a token refresh the way ours is made to in
 * the tests (used by bench/suites/hol.ts; import from dist/test/support/hanging-proxy.js):
 *   1. `const proxy = await startHangingProxy()`.
 *   2. In a temp CODEX_HOME write auth.json for a ChatGPT sign-in whose `last_refresh` is 60 days
 *      old (`staleChatgptAuthRecord()` below): 0.25 refreshes inline when it is older than 28 days.
 *   3. Spawn `node_modules/@openai/codex/bin/codex-x86_64-unknown-linux-musl mcp` with env
 *      `CODEX_HOME=<home>`, `HTTPS_PROXY=proxy.url`, and no NO_PROXY covering auth.openai.com.
 *   4. Send `getAuthStatus {includeToken: true}` (any getAuthStatus will do); `await
 *      proxy.nextConnect()` resolves with `auth.openai.com:443` once the refresh is stuck.
 *      From then on the original answers nothing (not even `ping`) until the refresh ends: its
 *      own 60 s timeout, or `proxy.dropAll()`, which fails the refresh at once.
 * Ours hangs the same way with the same HTTPS_PROXY (auth_issuer left at its default), or with
 * `-c auth_issuer=http://127.0.0.1:<port of any server that never answers>`; ours keeps answering.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { chatgptAuthRecord, type TestTokenClaims } from '../../dev/jwt.js';

export interface HangingProxy {
  /** `http://127.0.0.1:<port>`, for HTTPS_PROXY / HTTP_PROXY. */
  readonly url: string;
  readonly port: number;
  /** Targets of the CONNECT requests (or first request lines) seen so far, in order. */
  readonly connects: string[];
  /** The next target seen after this call (or the first not yet handed out by an earlier call). */
  nextConnect(): Promise<string>;
  /** Destroys every held connection: clients see a connection error instead of a hang. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startHangingProxy(): Promise<HangingProxy> {
  const sockets = new Set<Socket>();
  const connects: string[] = [];
  const waiters: ((target: string) => void)[] = [];
  let handedOut = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const [method, target] = head.slice(0, end).split(' ');
      const seen = method === 'CONNECT' ? target! : `${method} ${target}`;
      connects.push(seen);
      const waiter = waiters.shift();
      if (waiter) {
        handedOut++;
        waiter(seen);
      }
      // …and never answer.
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connects,
    nextConnect() {
      if (handedOut < connects.length) return Promise.resolve(connects[handedOut++]!);
      return new Promise((resolve) => waiters.push(resolve));
    },
    dropAll() {
      for (const socket of sockets) socket.destroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A ChatGPT auth.json record whose last refresh was `daysAgo` days ago (the original refreshes after 28). */
export async function staleChatgptAuthRecord(daysAgo = 60, claims?: TestTokenClaims) {
  const record = await chatgptAuthRecord(claims);
  record.last_refresh = new Date(Date.now() - daysAgo * 24 * 3600_000).toISOString();
  return record;
}
