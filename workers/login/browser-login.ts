/**
 * One browser sign-in, as it runs inside the login worker: the loopback callback server, the
 * state check, the code and API-key exchanges, persisting, and exactly one ending.
 *
 * Every way a login ends goes through `end()`, which is idempotent and sticky: a cancel that
 * arrives while an exchange is in flight aborts it (AbortController) and is never lost.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  NOT_COMPLETED_ERROR,
  TIMED_OUT_ERROR,
  type StartBrowserLogin,
  type StartBrowserLoginResult,
} from '../../src/protocol/login.js';
import { createLogger, type Logger } from '../../src/log.js';
import { LoginRun, workspaceRefused, type LoginEnding } from './login-run.js';
import { workspaceList } from '../../src/protocol/login-restrictions.js';
import { listenOnLoopback } from './loopback-listener.js';
import { errorPage, PAGE_SECURITY_HEADERS, replacedPage, successPage } from './pages.js';
import { buildAuthorizeUrl, generatePkce, generateState, redirectUriFor, stateMatches, type Pkce } from './pkce.js';
import { sanitizeIssuerText } from './issuer-text.js';
import { knownOAuthErrorCode } from '../shared/oauth-error-codes.js';
import { rememberReplaced, wasReplaced } from './replaced-logins.js';
import { exchangeApiKey, exchangeCode } from './token-exchange.js';

/** After success the listener stays up this long at most, to show /success to the browser. */
const SUCCESS_PAGE_GRACE_MS = 5_000;

type Phase = 'waiting' | 'exchanging' | 'succeeded' | 'ended';

const COMMON_HEADERS = {
  Connection: 'close',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  ...PAGE_SECURITY_HEADERS,
} as const;

export class BrowserLogin extends LoginRun<StartBrowserLogin> {
  private readonly pkce: Pkce = generatePkce();
  private readonly state = generateState();
  private servers: Server[] = [];
  private port = 0;
  /** The port was taken over from an older login server, whose sign-in was replaced by this one. */
  private tookOver = false;
  private phase: Phase = 'waiting';
  private timeout: NodeJS.Timeout | undefined;
  private closed: Promise<void> | undefined;
  /** Callbacks being handled (exchanging, waiting for the lock, writing). */
  private readonly inflight = new Set<Promise<void>>();

  async start(): Promise<StartBrowserLoginResult> {
    const listening = await listenOnLoopback((req, res) => this.handle(req, res), this.request.port);
    if (!listening.ok) return { ok: false, code: 'port_unavailable', message: listening.message };
    this.servers = listening.servers;
    this.port = listening.port;
    this.tookOver = listening.tookOver;
    this.timeout = setTimeout(
      () => void this.interrupt({ success: false, errorCode: 'timed_out', error: TIMED_OUT_ERROR }),
      this.request.timeoutMs,
    );
    workerLog().debug({ loginId: this.loginId, port: this.port }, 'login callback server listening');
    const { loginHint, allowedWorkspaceId, forcedWorkspaceIds, originator } = this.request;
    const authUrl = buildAuthorizeUrl(this.request.issuer, this.request.clientId, redirectUriFor(this.port), this.pkce, this.state, {
      loginHint,
      originator,
      allowedWorkspaceId: allowedWorkspaceId ?? (forcedWorkspaceIds?.length ? workspaceList(forcedWorkspaceIds) : undefined),
    });
    return { ok: true, authUrl, port: this.port };
  }

  /** Ends the login once; later calls only wait for the listener to close. */
  private async end(ending: LoginEnding): Promise<void> {
    if (this.phase === 'ended' || (this.phase === 'succeeded' && !ending.success)) return this.close();
    const wasSucceeded = this.phase === 'succeeded';
    this.phase = ending.success ? 'succeeded' : 'ended';
    clearTimeout(this.timeout);
    this.abort.abort();
    if (!wasSucceeded) await this.emitEnded(ending);
    if (ending.success) {
      // Keep serving /success briefly so the browser can follow the redirect, then close.
      setTimeout(() => void this.close(), SUCCESS_PAGE_GRACE_MS).unref();
      return;
    }
    return this.close();
  }

  override cancel(reason: 'cancelled' | 'superseded'): Promise<void> {
    if (reason === 'superseded') rememberReplaced(this.state);
    return this.interrupt({ success: false, errorCode: reason, error: NOT_COMPLETED_ERROR });
  }

  /** Resolves once no callback is being handled; after an ending they finish promptly. */
  override async drained(): Promise<void> {
    await Promise.all(this.inflight);
  }

  /**
   * An ending from outside the callback (cancel, /cancel, timeout). Once the tokens are being
   * written it is too late: wait for that to conclude the login, then just close the listener.
   */
  private async interrupt(ending: LoginEnding): Promise<void> {
    await this.settledByCommit();
    return this.end(ending);
  }

  private close(): Promise<void> {
    this.phase = this.phase === 'succeeded' ? 'succeeded' : 'ended';
    this.closed ??= Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => this.notifyClosed());
    return this.closed;
  }

  /**
   * Every request goes through here. Nothing a client sends may throw out of it: an exception in
   * a request handler would take the whole worker (and the pending login) down with it.
   */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (error) {
      this.failRequest(res, error);
    }
  }

  private failRequest(res: ServerResponse, error: unknown): void {
    // The message only: a stack or the request could carry a code or the state.
    workerLog().error({ err: (error as Error)?.message }, 'login callback request failed');
    if (!res.headersSent) send(res, 500, 'Internal Server Error');
    else res.destroy();
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET') return send(res, 405, 'Method Not Allowed', { Allow: 'GET' });
    if (!this.hostAllowed(req.headers.host)) return send(res, 403, 'Forbidden');
    const url = originFormTarget(req.url);
    if (!url) return send(res, 400, 'Bad Request');
    switch (url.pathname) {
      case '/auth/callback': {
        const handling = this.callback(url.searchParams, res).catch((error: unknown) => {
          this.failRequest(res, error);
          // A code is used at most once: a callback that failed half-way cannot be retried.
          if (this.phase === 'exchanging') {
            return this.end({ success: false, errorCode: 'internal_error', error: `Login server error: ${(error as Error)?.message}` });
          }
        });
        this.inflight.add(handling);
        void handling.finally(() => this.inflight.delete(handling));
        return;
      }
      case '/success':
        // Display only: unlike the original, fetching this page never completes a login.
        // Once the browser has it after a success, the listener has done its job.
        if (this.phase === 'succeeded') res.once('finish', () => void this.close());
        return sendHtml(res, 200, successPage());
      case '/cancel':
        if (!this.sameOriginOrNoBrowser(req)) {
          workerLog().debug({ loginId: this.loginId }, 'cross-site /cancel refused');
          return send(res, 403, 'Forbidden');
        }
        // Another login server (ours or codex's) wants this port for a newer sign-in.
        send(res, 200, 'Login cancelled');
        return void this.cancel('superseded');
      default:
        return send(res, 404, 'Not Found');
    }
  }

  /** Only the names a browser uses for this listener; anything else may be DNS rebinding. */
  private hostAllowed(host: string | undefined): boolean {
    return host === `localhost:${this.port}` || host === `127.0.0.1:${this.port}` || host === `[::1]:${this.port}`;
  }

  /**
   * /cancel ends the login, so a web page must not be able to make a browser send it (an <img>
   * would do). Browsers label such requests: Sec-Fetch-Site other than same-origin or none (typed
   * in), or an Origin that is not this listener. Another login server asking us to free the port
   * (ours, or codex's) sends a plain GET with neither header, and gets through.
   * /auth/callback is not checked: the issuer's redirect to it is cross-site by nature, and the
   * state guards it.
   */
  private sameOriginOrNoBrowser(req: IncomingMessage): boolean {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    const origin = req.headers.origin;
    return origin === undefined || this.ownOrigins().includes(origin);
  }

  private ownOrigins(): string[] {
    return [`http://localhost:${this.port}`, `http://127.0.0.1:${this.port}`, `http://[::1]:${this.port}`];
  }

  private async callback(query: URLSearchParams, res: ServerResponse): Promise<void> {
    if (this.phase !== 'waiting') return send(res, 400, 'This sign-in is already being completed or has ended');
    if (!stateMatches(this.state, query.get('state'))) {
      workerLog().debug({ loginId: this.loginId }, 'login callback with a wrong or missing state refused');
      const state = query.get('state');
      if (wasReplaced(state)) return sendHtml(res, 400, replacedPage(true));
      if (this.tookOver && state) return sendHtml(res, 400, replacedPage(false));
      return send(res, 400, 'State mismatch');
    }
    const oauthError = query.get('error');
    if (oauthError) {
      // Whoever redirected here chose this text; it goes to the client and to a model reading it.
      // It saw the state and the PKCE challenge: no piece of them (or of the verifier) is shown.
      const secrets = [this.state, this.pkce.challenge, this.pkce.verifier];
      const description = sanitizeIssuerText(query.get('error_description') || '', secrets);
      const message = `Sign-in failed: ${description || knownOAuthErrorCode(oauthError) || 'the issuer reported an error'}`;
      sendHtml(res, 200, errorPage(message));
      return this.end({ success: false, errorCode: 'access_denied', error: message });
    }
    const code = query.get('code');
    if (!code) return send(res, 400, 'Missing authorization code');

    this.phase = 'exchanging'; // from here on a code is used at most once
    const { issuer, clientId } = this.request;
    const signal = this.abort.signal;
    const tokens = await exchangeCode({ issuer, clientId, code, redirectUri: redirectUriFor(this.port), verifier: this.pkce.verifier, signal });
    if (signal.aborted) return sendHtml(res, 200, errorPage('This sign-in was cancelled.'));
    workerLog().debug({ loginId: this.loginId, ok: tokens.ok }, 'authorization code exchanged');
    if (!tokens.ok) {
      const message = `Token exchange failed: ${tokens.message}`;
      sendHtml(res, 502, errorPage(message));
      return this.end({ success: false, errorCode: 'token_exchange_failed', error: message });
    }
    const refused = workspaceRefused(this.request.forcedWorkspaceIds, tokens.value.id_token);
    if (refused) {
      // As 0.171: the tokens of another workspace are dropped, nothing is stored.
      const message = `Login server error: ${refused}`;
      sendHtml(res, 403, errorPage(message));
      return this.end({ success: false, errorCode: 'workspace_forbidden', error: message });
    }
    const apiKey = await exchangeApiKey(issuer, clientId, tokens.value.id_token, signal);
    if (signal.aborted) return sendHtml(res, 200, errorPage('This sign-in was cancelled.'));
    workerLog().debug({ loginId: this.loginId, gotApiKey: apiKey !== null }, 'API-key exchange done');

    await this.persistAndConclude(tokens.value, apiKey, async (stored) => {
      if (!stored.ok) {
        const message = `Unable to persist auth file: ${stored.message}`;
        sendHtml(res, 500, errorPage(message));
        return this.end({ success: false, errorCode: 'persist_failed', error: message });
      }
      // No token, id or account in the URL: the success page needs none of them.
      res.writeHead(302, { ...COMMON_HEADERS, Location: `http://127.0.0.1:${this.port}/success` }).end();
      return this.end({ success: true });
    });
    // Cancelled while waiting to write: nothing was stored and the cancel has been reported.
    if (!res.headersSent) sendHtml(res, 200, errorPage('This sign-in was cancelled.'));
  }
}

/** Only origin-form targets ("/path?query"); "//x", "*" or absolute URLs are not ours. */
function originFormTarget(target: string | undefined): URL | undefined {
  if (!target?.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(target, 'http://localhost');
  } catch {
    return undefined;
  }
}

let logger: Logger | undefined;
const workerLog = () => (logger ??= createLogger('codex-auth-mcp:login-worker'));

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/html; charset=utf-8' }).end(html);
}
