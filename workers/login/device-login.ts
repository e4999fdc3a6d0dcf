/**
 * Device-code sign-in for headless, SSH and container use, run inside the login worker. Asks the
 * issuer for a user code, polls until a person has entered it at {issuer}/codex/device, then
 * exchanges the returned authorization code and persists the tokens like the browser flow.
 */
import { setTimeout as delay } from 'node:timers/promises';
import * as z from '../../src/protocol/zod.js';
import { issuerFetch } from '../shared/issuer-fetch.js';
import { deviceExpiredError, NOT_COMPLETED_ERROR, type StartDeviceLogin, type StartDeviceLoginResult } from '../../src/protocol/login.js';
import { LoginRun, workspaceRefused, type LoginEnding } from './login-run.js';
import { exchangeCode } from './token-exchange.js';

const REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_INTERVAL_SECS = 5;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 60_000;

const UserCodeSchema = z.looseObject({
  device_auth_id: z.string().check(z.minLength(1)),
  user_code: z.optional(z.string().check(z.minLength(1))),
  usercode: z.optional(z.string().check(z.minLength(1))),
  interval: z.nullish(z.union([z.string(), z.number()])),
});
const DeviceTokenSchema = z.looseObject({
  authorization_code: z.string().check(z.minLength(1)),
  code_verifier: z.string().check(z.minLength(1)),
});

const OAuthErrorSchema = z.looseObject({ error: z.string() });

type PollOutcome =
  | { kind: 'pending' }
  | { kind: 'slow_down'; retryAfterMs?: number | undefined }
  | { kind: 'ended'; ending: LoginEnding }
  | { kind: 'approved'; tokens: z.infer<typeof DeviceTokenSchema> };

/** A Retry-After header in seconds or as an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export class DeviceLogin extends LoginRun<StartDeviceLogin> {
  private ended = false;
  private deviceAuthId = '';
  private userCode = '';
  private intervalMs = DEFAULT_INTERVAL_SECS * 1000;
  private polling: Promise<void> = Promise.resolve();

  async start(): Promise<StartDeviceLoginResult> {
    const { issuer, clientId } = this.request;
    let response;
    try {
      response = await issuerFetch(`${issuer}/api/accounts/deviceauth/usercode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId }),
        // A cancel (or a superseding login) while the code is being requested stops the request too.
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch (error) {
      const why = this.abort.signal.aborted ? 'the login was cancelled' : `the issuer could not be reached (${(error as Error).message})`;
      return { ok: false, code: 'device_code_failed', message: `device-code login failed: ${why}` };
    }
    if (response.status === 404) {
      return { ok: false, code: 'device_code_unsupported', message: 'device-code login is not enabled for this issuer; use the browser login or check auth_issuer' };
    }
    const parsed = UserCodeSchema.safeParse(await response.json().catch(() => undefined));
    if (!response.ok || !parsed.success || !(parsed.data.user_code ?? parsed.data.usercode)) {
      return { ok: false, code: 'device_code_failed', message: `device-code login failed: the issuer answered ${response.status}` };
    }
    this.deviceAuthId = parsed.data.device_auth_id;
    this.userCode = (parsed.data.user_code ?? parsed.data.usercode)!;
    // A string ("5") as OpenAI sends it, a number, or nothing (RFC 8628's default of 5 s); never under 1 s.
    const interval = Number(parsed.data.interval ?? DEFAULT_INTERVAL_SECS);
    this.intervalMs = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, (Number.isFinite(interval) && interval >= 0 ? interval : DEFAULT_INTERVAL_SECS) * 1000));
    if (this.abort.signal.aborted) {
      return { ok: false, code: 'device_code_failed', message: 'device-code login failed: the login was cancelled' };
    }
    this.polling = this.pollUntilDone().catch((error: Error) =>
      this.end({ success: false, errorCode: 'internal_error', error: `Login server error: ${error.message}` }),
    );
    return { ok: true, verificationUrl: `${issuer}/codex/device`, userCode: this.userCode };
  }

  override drained(): Promise<void> {
    return this.polling;
  }

  override async cancel(reason: 'cancelled' | 'superseded'): Promise<void> {
    // Once the tokens are being written it is too late to cancel: the write decides the ending.
    if (await this.settledByCommit()) return;
    await this.end({ success: false, errorCode: reason, error: NOT_COMPLETED_ERROR });
  }

  private async end(ending: LoginEnding): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort();
    await this.emitEnded(ending);
    this.notifyClosed();
  }

  private async pollUntilDone(): Promise<void> {
    const deadline = Date.now() + this.request.timeoutMs;
    const signal = this.abort.signal;
    let wait = this.intervalMs;
    while (!signal.aborted) {
      // Cancel stops the wait at once (the abort rejects the delay).
      if (!(await delay(Math.min(wait, Math.max(0, deadline - Date.now())), undefined, { signal }).then(() => true, () => false))) return;
      if (Date.now() >= deadline) return this.end({ success: false, errorCode: 'expired', error: deviceExpiredError(this.request.timeoutMs) });
      const poll = await this.pollOnce(signal);
      if (signal.aborted) return;
      wait = this.intervalMs;
      if (poll.kind === 'pending') continue;
      if (poll.kind === 'slow_down') {
        // For this and every later poll (RFC 8628 §3.5), and never sooner than a Retry-After asks.
        this.intervalMs = Math.min(MAX_INTERVAL_MS, this.intervalMs * 2);
        wait = Math.max(this.intervalMs, Math.min(MAX_INTERVAL_MS, poll.retryAfterMs ?? 0));
        continue;
      }
      if (poll.kind === 'ended') return this.end(poll.ending);
      return this.finish(poll.tokens.authorization_code, poll.tokens.code_verifier);
    }
  }

  /**
   * One poll of the token endpoint. OpenAI answers 403/404 while the code has not been entered;
   * RFC 8628's error bodies are understood too. 429 and 5xx slow the polling down rather than
   * end a sign-in a person may be in the middle of; so does a network error.
   */
  private async pollOnce(signal: AbortSignal): Promise<PollOutcome> {
    let response;
    try {
      response = await issuerFetch(`${this.request.issuer}/api/accounts/deviceauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_auth_id: this.deviceAuthId, user_code: this.userCode }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch {
      return { kind: 'slow_down' };
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status === 403 || response.status === 404) return { kind: 'pending' };
    if (response.status === 429 || response.status >= 500) return { kind: 'slow_down', retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    if (response.ok) {
      const tokens = DeviceTokenSchema.safeParse(body);
      if (tokens.success) return { kind: 'approved', tokens: tokens.data };
    }
    const error = OAuthErrorSchema.safeParse(body);
    switch (error.success ? error.data.error : undefined) {
      case 'authorization_pending':
        return { kind: 'pending' };
      case 'slow_down':
        return { kind: 'slow_down' };
      case 'expired_token':
        return { kind: 'ended', ending: { success: false, errorCode: 'expired', error: 'device-code login failed: the code expired; start the sign-in again' } };
      case 'access_denied':
        return { kind: 'ended', ending: { success: false, errorCode: 'access_denied', error: 'device-code login failed: the sign-in was declined' } };
      default:
        return { kind: 'ended', ending: { success: false, errorCode: 'device_code_failed', error: `device-code login failed: the issuer answered ${response.status}` } };
    }
  }

  private async finish(code: string, verifier: string): Promise<void> {
    const { issuer, clientId } = this.request;
    const signal = this.abort.signal;
    const tokens = await exchangeCode({ issuer, clientId, code, verifier, redirectUri: `${issuer}/deviceauth/callback`, signal });
    if (signal.aborted) return;
    if (!tokens.ok) return this.end({ success: false, errorCode: 'token_exchange_failed', error: `Token exchange failed: ${tokens.message}` });
    // As 0.171 (its device flow says it without "Login server error: "): nothing is stored.
    const refused = workspaceRefused(this.request.forcedWorkspaceIds, tokens.value.id_token);
    if (refused) return this.end({ success: false, errorCode: 'workspace_forbidden', error: refused });
    // As codex: a device sign-in stores no exchanged API key.
    await this.persistAndConclude(tokens.value, null, (stored) =>
      this.end(stored.ok ? { success: true } : { success: false, errorCode: 'persist_failed', error: `Unable to persist auth file: ${stored.message}` }),
    );
  }
}
