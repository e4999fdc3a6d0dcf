/**
 * Token revocation at logout (RFC 7009), run in the token service: the refresh token (or, when
 * there is none, the access token) is sent to `{issuer}/oauth/revoke`. A 200 counts as revoked
 * whatever the token's state; anything else is a failure the caller reports (logout goes on).
 */
import { issuerFetch } from '../shared/issuer-fetch.js';
import { CLIENT_ID } from '../../src/protocol/login.js';
import type { RevokeOutcome, RevokeTask } from '../../src/protocol/token-service-tasks.js';
import { openCredentialStore } from '../../src/auth/store/store.js';
import { identityOf } from '../shared/account-sessions.js';

const REVOKE_TIMEOUT_MS = 10_000;

export async function runRevoke(task: RevokeTask): Promise<RevokeOutcome> {
  const stored = await openCredentialStore(task.store).load();
  if (stored.kind === 'missing') return { ok: true, revoked: false };
  const identity = stored.kind === 'present' ? identityOf(stored.record) : undefined;
  const target = { fingerprint: stored.fingerprint, sessionId: identity?.sessionId ?? null };
  const tokens = stored.kind === 'present' ? stored.record.tokens : undefined;
  if (!tokens || task.send === false) return { ok: true, revoked: false, target };
  const outcome = await revokeToken(task.issuer, tokens, task.timeoutMs);
  return { ...outcome, target };
}

/** Revokes one token set's refresh token (or access token, without one); never throws. */
export async function revokeToken(issuer: string, tokens: { refresh_token: string; access_token: string }, timeoutMs = REVOKE_TIMEOUT_MS): Promise<RevokeOutcome> {
  const [token, hint] = tokens.refresh_token ? [tokens.refresh_token, 'refresh_token'] : [tokens.access_token, 'access_token'];
  try {
    const response = await issuerFetch(`${issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: hint, client_id: CLIENT_ID }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (response.status === 200) return { ok: true, revoked: true };
    return { ok: false, code: 'revoke_rejected', message: `the issuer answered ${response.status} to the revocation` };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return { ok: false, code: 'revoke_timeout', message: 'the issuer did not answer the revocation in time' };
    return { ok: false, code: 'revoke_unreachable', message: `the issuer could not be reached (${(error as Error).message})` };
  }
}
