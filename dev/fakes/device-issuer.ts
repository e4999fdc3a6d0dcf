/**
 * A scripted device-code issuer (codex's `/api/accounts/deviceauth/*` shapes) on top of the fake
 * issuer: every user-code request gets its own `device_auth_id`, every poll is recorded with the
 * time it arrived, and the test decides what each poll answers.
 */
import type { FakeCall, Reply } from './fake-issuer.js';
import { startFakeIssuer } from './fake-issuer.js';
import { testJwt, type TestTokenClaims } from '../jwt.js';

export interface DevicePoll {
  /** Date.now() when the poll arrived. */
  readonly at: number;
  readonly deviceAuthId: string;
  readonly userCode: string;
  /** Counts from 1 across all device codes. */
  readonly n: number;
}

export interface DeviceIssuerScript {
  /** The `interval` field of the user-code answer: a string (as OpenAI sends it), a number, or null to omit it. */
  readonly interval?: string | number | null;
  /** Replaces the user-code answer (e.g. 404 for an issuer without device-code login). */
  readonly userCode?: Reply;
  /** What a poll answers; by default 403 (pending) until `approve()` was called, then the code. */
  onPoll?(poll: DevicePoll, approved: boolean): Reply | undefined;
  /** What the code exchange at /oauth/token answers; by default tokens for `claims`. */
  onExchange?(body: Record<string, string>): Reply | Promise<Reply>;
  readonly claims?: TestTokenClaims;
}

export interface DeviceIssuer {
  readonly url: string;
  readonly polls: DevicePoll[];
  /** Date.now() of each user-code request. */
  readonly userCodeRequests: number[];
  readonly exchanges: FakeCall[];
  readonly calls: FakeCall[];
  /** Lets the next polls of every code succeed, as if a person had entered it. */
  approve(): void;
  /** Resolves once `count` polls have arrived in all (or already have). */
  pollsReached(count: number, predicate?: (poll: DevicePoll) => boolean): Promise<void>;
  close(): Promise<void>;
}

export const DEVICE_VERIFIER = 'device-verifier-0123456789';

export async function startDeviceIssuer(script: DeviceIssuerScript = {}): Promise<DeviceIssuer> {
  const polls: DevicePoll[] = [];
  const userCodeRequests: number[] = [];
  const exchanges: FakeCall[] = [];
  const waiters: { count: number; predicate: (poll: DevicePoll) => boolean; resolve: () => void }[] = [];
  let approved = false;
  let codes = 0;
  const interval = script.interval === undefined ? '1' : script.interval;
  const claims = script.claims ?? { email: 'device@example.com', planType: 'plus', accountId: 'acct-device' };

  const fake = await startFakeIssuer({
    async onOther(call) {
      if (call.path === '/api/accounts/deviceauth/usercode') {
        userCodeRequests.push(Date.now());
        if (script.userCode) return script.userCode;
        if (call.body['client_id'] !== 'app_EMoamEEZ73f0CkXaXp7hrann') return { status: 400, json: { error: 'invalid_client' } };
        codes++;
        return {
          status: 200,
          json: { device_auth_id: `device-auth-${codes}`, user_code: `CODE-${String(codes).padStart(5, '0')}`, ...(interval !== null && { interval }) },
        };
      }
      if (call.path === '/api/accounts/deviceauth/token') {
        const poll: DevicePoll = { at: Date.now(), deviceAuthId: call.body['device_auth_id'] ?? '', userCode: call.body['user_code'] ?? '', n: polls.length + 1 };
        polls.push(poll);
        for (const waiter of [...waiters]) {
          if (polls.filter(waiter.predicate).length >= waiter.count) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        const scripted = script.onPoll?.(poll, approved);
        if (scripted) return scripted;
        if (!approved) return { status: 403, json: { error: { code: 'deviceauth_authorization_unknown' } } };
        return { status: 200, json: { authorization_code: `auth-code-${poll.deviceAuthId}`, code_challenge: 'challenge', code_verifier: DEVICE_VERIFIER } };
      }
      if (call.path === '/oauth/token' && call.body['grant_type'] === 'authorization_code') {
        exchanges.push(call);
        if (script.onExchange) return script.onExchange(call.body);
        const jwt = await testJwt(claims);
        return { status: 200, json: { id_token: jwt, access_token: jwt, refresh_token: 'rt-device-1' } };
      }
      return { status: 404, json: { error: 'not_found' } };
    },
  });

  return {
    url: fake.url,
    polls,
    userCodeRequests,
    exchanges,
    calls: fake.calls,
    approve: () => (approved = true),
    pollsReached(count, predicate = () => true) {
      if (polls.filter(predicate).length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, predicate, resolve }));
    },
    close: () => fake.close(),
  };
}

/** Milliseconds between consecutive polls of one device code, the first measured from its user-code request. */
export function pollGaps(issuer: DeviceIssuer, deviceAuthId = 'device-auth-1', codeIndex = 0): number[] {
  const times = [issuer.userCodeRequests[codeIndex]!, ...issuer.polls.filter((p) => p.deviceAuthId === deviceAuthId).map((p) => p.at)];
  return times.slice(1).map((at, i) => at - times[i]!);
}
