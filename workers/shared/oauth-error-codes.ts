/**
 * Error codes an issuer (or a proxy in front of it) puts in an answer, on their way into an
 * answer of ours, which a client shows and a model reads. An issuer that echoes the request can
 * put anything there, the refresh token or the PKCE verifier included, so a code is shown only
 * when it is one we know by name; any other code is only said to be there.
 */

/** RFC 6749 §4.1.2.1 and §5.2, RFC 7009, RFC 8628, RFC 8693 and the codes OpenAI's issuer sends. */
const KNOWN_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  'unsupported_token_type',
  'invalid_target',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'login_required',
  'consent_required',
  'interaction_required',
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
  'token_expired',
  'rate_limit_exceeded',
  'internal_error',
  'not_found',
]);

/** The code, lower-cased, when it is one we know; undefined otherwise. */
export function knownOAuthErrorCode(code: unknown): string | undefined {
  if (typeof code !== 'string') return undefined;
  const lower = code.trim().toLowerCase();
  return KNOWN_CODES.has(lower) ? lower : undefined;
}

/** ` (invalid_grant)`, ` (an error code this server does not know)` or '' when the issuer sent none. */
export function describeOAuthErrorCode(code: unknown): string {
  if (typeof code !== 'string' || code.trim() === '') return '';
  return ` (${knownOAuthErrorCode(code) ?? 'an error code this server does not know'})`;
}
