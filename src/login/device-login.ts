/**
 * Device-code sign-in for headless, SSH and container use, run inside the login worker. Asks the
 * issuer for a user code, polls until a person has entered it at {issuer}/codex/device, then
 * exchanges the returned authorization code and persists the tokens like the browser flow.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { issuerFetch } from '../net/issuer-fetch.js';
import { DEVICE_EXPIRED_ERROR, NOT_COMPLETED_ERROR, type StartDeviceLogin, type StartDeviceLoginResult } from '../protocol/login.js';
import { LoginRun, type LoginEnding } from './login-run.js';
import { exchangeCode } from './token-exchange.js';

const REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_INTERVAL_SECS = 5;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 60_000;

const UserCodeSchema = z.looseObject({
  device_auth_id: z.string().min(1),
  user_code: z.string().min(1).optional(),
  usercode: z.string().min(1).optional(),
  interval: z.union([z.string(), z.number()]).nullish(),
});
const DeviceTokenSchema = z.looseObject({
  authorization_code: z.string().min(1),
  code_verifier: z.string().min(1),
});

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
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      return { ok: false, code: 'device_code_failed', message: `device-code login failed: the issuer could not be reached (${(error as Error).message})` };
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
    const interval = Number(parsed.data.interval ?? DEFAULT_INTERVAL_SECS);
    this.intervalMs = Math.max(MIN_INTERVAL_MS, (Number.isFinite(interval) && interval > 0 ? interval : DEFAULT_INTERVAL_SECS) * 1000);
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
    while (!signal.aborted) {
      const wait = Math.min(this.intervalMs, Math.max(0, deadline - Date.now()));
      // Cancel stops the wait at once (the abort rejects the delay).
      if (!(await delay(wait, undefined, { signal }).then(() => true, () => false))) return;
      if (Date.now() >= deadline) return this.end({ success: false, errorCode: 'expired', error: DEVICE_EXPIRED_ERROR });
      const poll = await this.pollOnce(signal);
      if (poll === 'pending') continue;
      if (poll === 'slow_down') {
        this.intervalMs = Math.min(MAX_INTERVAL_MS, this.intervalMs * 2);
        continue;
      }
      if (signal.aborted) return;
      if (!poll.ok) return this.end({ success: false, errorCode: 'device_code_failed', error: poll.message });
      return this.finish(poll.value.authorization_code, poll.value.code_verifier);
    }
  }

  private async pollOnce(signal: AbortSignal): Promise<'pending' | 'slow_down' | { ok: true; value: z.infer<typeof DeviceTokenSchema> } | { ok: false; message: string }> {
    let response;
    try {
      response = await issuerFetch(`${this.request.issuer}/api/accounts/deviceauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_auth_id: this.deviceAuthId, user_code: this.userCode }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch {
      return 'pending'; // a network blip: try again at the next interval
    }
    if (response.status === 403 || response.status === 404) return 'pending';
    if (response.status === 429) return 'slow_down';
    const parsed = DeviceTokenSchema.safeParse(await response.json().catch(() => undefined));
    if (!response.ok || !parsed.success) return { ok: false, message: `device-code login failed: the issuer answered ${response.status}` };
    return { ok: true, value: parsed.data };
  }

  private async finish(code: string, verifier: string): Promise<void> {
    const { issuer, clientId } = this.request;
    const signal = this.abort.signal;
    const tokens = await exchangeCode({ issuer, clientId, code, verifier, redirectUri: `${issuer}/deviceauth/callback`, signal });
    if (signal.aborted) return;
    if (!tokens.ok) return this.end({ success: false, errorCode: 'token_exchange_failed', error: `Token exchange failed: ${tokens.message}` });
    // As codex: a device sign-in stores no exchanged API key.
    await this.persistAndConclude(tokens.value, null, (stored) =>
      this.end(stored.ok ? { success: true } : { success: false, errorCode: 'persist_failed', error: `Unable to persist auth file: ${stored.message}` }),
    );
  }
}
