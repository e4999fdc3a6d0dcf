/**
 * Binds the login callback server to loopback only: 127.0.0.1, plus ::1 on the same port where
 * the host has IPv6 (the redirect URI says `localhost`, which may resolve to either).
 *
 * Port choice, for the real issuer's allow-list of 1455 and 1457: when 1455 is held by a login
 * server that answers `GET /cancel` (an older one of ours or of codex), ask it to stop and retry
 * briefly; when it is held by anything else, use 1457; when neither works, fail at once, naming
 * the ports and whether they were in use or not permitted.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { DEFAULT_CALLBACK_PORT, FALLBACK_CALLBACK_PORT } from '../../src/protocol/login.js';

/** `tookOver`: the port was freed by asking an older login server to cancel (its sign-in was replaced). */
export type ListenResult = { ok: true; port: number; servers: Server[]; tookOver: boolean } | { ok: false; message: string };

const RECLAIM_ATTEMPTS = 10;
const RECLAIM_INTERVAL_MS = 200;
const CANCEL_REQUEST_TIMEOUT_MS = 1_000;

export async function listenOnLoopback(handler: RequestListener, preferredPort: number): Promise<ListenResult> {
  const candidates = preferredPort === DEFAULT_CALLBACK_PORT ? [DEFAULT_CALLBACK_PORT, FALLBACK_CALLBACK_PORT] : [preferredPort];
  const failures: string[] = [];
  for (const port of candidates) {
    let attempt = await listen(handler, '127.0.0.1', port);
    let tookOver = false;
    if (!attempt.ok && attempt.code === 'EADDRINUSE' && port !== 0 && (await askOldServerToCancel(port))) {
      tookOver = true;
      for (let i = 0; i < RECLAIM_ATTEMPTS && !attempt.ok; i++) {
        await new Promise((resolve) => setTimeout(resolve, RECLAIM_INTERVAL_MS));
        attempt = await listen(handler, '127.0.0.1', port);
      }
    }
    if (attempt.ok) {
      const servers = [attempt.server];
      const v6 = await listen(handler, '::1', attempt.port);
      if (v6.ok) servers.push(v6.server); // best effort: an IPv4-only host still works
      return { ok: true, port: attempt.port, servers, tookOver };
    }
    failures.push(`${port} (${attempt.code === 'EACCES' ? 'not permitted' : attempt.code === 'EADDRINUSE' ? 'in use' : attempt.code})`);
  }
  return { ok: false, message: `cannot listen for the login callback on 127.0.0.1 port ${failures.join(' or ')}` };
}

type Attempt = { ok: true; server: Server; port: number } | { ok: false; code: string };

function listen(handler: RequestListener, host: string, port: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.headersTimeout = 10_000;
    server.requestTimeout = 60_000;
    server.keepAliveTimeout = 0;
    server.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? 'error' }));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      resolve({ ok: true, server, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}

/** True when whatever holds the port is a login server that agreed to cancel. */
async function askOldServerToCancel(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/cancel`, {
      signal: AbortSignal.timeout(CANCEL_REQUEST_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
