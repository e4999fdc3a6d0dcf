/**
 * Binds the login callback server to loopback only: 127.0.0.1 and ::1 on the same port (the
 * redirect URI says `localhost`, which the browser may resolve to either).
 *
 * A port we cannot own on both families is a port we do not use: had another process [::1]:PORT,
 * a browser going to localhost over IPv6 would hand it the code and state. Only a host with no
 * IPv6 loopback at all (EADDRNOTAVAIL, EAFNOSUPPORT) is served on 127.0.0.1 alone, and the log
 * says so.
 *
 * Port choice, for the real issuer's allow-list of 1455 and 1457: when 1455 is held by a login
 * server that answers `GET /cancel` (an older one of ours or of codex), ask it to stop and retry
 * briefly; when it is held by anything else, use 1457; when neither works, fail at once, naming
 * the ports, the family and whether they were in use or not permitted. Port 0 (tests, and anyone
 * who wants any free port) retries a few fresh ports when the kernel's pick is taken on ::1.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { DEFAULT_CALLBACK_PORT, FALLBACK_CALLBACK_PORT } from '../../src/protocol/login.js';
import { createLogger } from '../../src/log.js';

/** `tookOver`: the port was freed by asking an older login server to cancel (its sign-in was replaced). */
export type ListenResult = { ok: true; port: number; servers: Server[]; tookOver: boolean } | { ok: false; message: string };

const RECLAIM_ATTEMPTS = 10;
const RECLAIM_INTERVAL_MS = 200;
const CANCEL_REQUEST_TIMEOUT_MS = 1_000;
/** Fresh kernel-chosen ports to try when the last one was free on 127.0.0.1 but not on ::1. */
const ANY_PORT_ATTEMPTS = 5;
/** What binding ::1 fails with on a host that has no IPv6 loopback (as opposed to a taken port). */
const NO_IPV6_LOOPBACK = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

export async function listenOnLoopback(handler: RequestListener, preferredPort: number): Promise<ListenResult> {
  const candidates = preferredPort === DEFAULT_CALLBACK_PORT ? [DEFAULT_CALLBACK_PORT, FALLBACK_CALLBACK_PORT] : [preferredPort];
  const failures: string[] = [];
  for (const port of candidates) {
    let attempt = await listenOnBoth(handler, port);
    for (let i = 1; port === 0 && !attempt.ok && attempt.code === 'EADDRINUSE' && i < ANY_PORT_ATTEMPTS; i++) {
      attempt = await listenOnBoth(handler, 0);
    }
    let tookOver = false;
    if (!attempt.ok && attempt.code === 'EADDRINUSE' && port !== 0 && (await askOldServerToCancel(port, attempt.host))) {
      tookOver = true;
      for (let i = 0; i < RECLAIM_ATTEMPTS && !attempt.ok; i++) {
        await new Promise((resolve) => setTimeout(resolve, RECLAIM_INTERVAL_MS));
        attempt = await listenOnBoth(handler, port);
      }
    }
    if (attempt.ok) return { ok: true, port: attempt.port, servers: attempt.servers, tookOver };
    const why = attempt.code === 'EACCES' ? 'not permitted' : attempt.code === 'EADDRINUSE' ? 'in use' : attempt.code;
    failures.push(`${port} (${why}${attempt.host === '::1' ? ' on [::1]' : ''})`);
  }
  return { ok: false, message: `cannot listen for the login callback on loopback port ${failures.join(' or ')}` };
}

type Both = { ok: true; port: number; servers: Server[] } | { ok: false; code: string; host: string };

/** 127.0.0.1 first (it decides the port when asked for 0), then ::1 on that same port; both or neither. */
async function listenOnBoth(handler: RequestListener, port: number): Promise<Both> {
  const v4 = await listen(handler, '127.0.0.1', port);
  if (!v4.ok) return { ok: false, code: v4.code, host: '127.0.0.1' };
  const v6 = await listen(handler, '::1', v4.port);
  if (v6.ok) return { ok: true, port: v4.port, servers: [v4.server, v6.server] };
  if (NO_IPV6_LOOPBACK.has(v6.code)) {
    warnIpv4Only(v6.code);
    return { ok: true, port: v4.port, servers: [v4.server] };
  }
  await new Promise<void>((resolve) => v4.server.close(() => resolve()));
  return { ok: false, code: v6.code, host: '::1' };
}

let warnedIpv4Only = false;
/** Once per worker: the host cannot change its mind between two logins in a way that matters. */
function warnIpv4Only(code: string): void {
  if (warnedIpv4Only) return;
  warnedIpv4Only = true;
  createLogger('codex-auth-mcp:login-worker').warn({ code }, 'this host has no IPv6 loopback (::1): the login callback listens on 127.0.0.1 only');
}

type Attempt = { ok: true; server: Server; port: number } | { ok: false; code: string };

function listen(handler: RequestListener, host: string, port: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.headersTimeout = 10_000;
    server.requestTimeout = 60_000;
    server.keepAliveTimeout = 0;
    server.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? 'error' }));
    // ipv6Only: on ::1 it changes nothing today, but a dual-stack bind must never be what we get.
    server.listen({ host, port, exclusive: true, ipv6Only: host === '::1' }, () => {
      const address = server.address();
      resolve({ ok: true, server, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}

/**
 * True when whatever holds the port is a login server that agreed to cancel. A plain GET with no
 * Origin, as codex's own servers send it, so the callback server's cross-site check lets it in.
 */
async function askOldServerToCancel(port: number, host: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${host === '::1' ? '[::1]' : host}:${port}/cancel`, {
      signal: AbortSignal.timeout(CANCEL_REQUEST_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
