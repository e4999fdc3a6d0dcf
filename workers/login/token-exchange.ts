/**
 * The two token-endpoint calls of a browser sign-in: the authorization-code exchange and the
 * best-effort exchange of the id_token for an API key (RFC 8693). Both have hard timeouts and
 * honour the login's abort signal. They run in the login worker, never on the main thread.
 */
import * as z from '../../src/protocol/zod.js';
import { issuerFetch, type Response } from '../shared/issuer-fetch.js';
import { describeOAuthErrorCode } from '../shared/oauth-error-codes.js';

const CODE_EXCHANGE_TIMEOUT_MS = 30_000;
const API_KEY_EXCHANGE_TIMEOUT_MS = 15_000;

const CodeExchangeResponseSchema = z.object({
  id_token: z.string().check(z.minLength(1)),
  access_token: z.string().check(z.minLength(1)),
  refresh_token: z.string().check(z.minLength(1)),
});
export type ExchangedTokens = z.infer<typeof CodeExchangeResponseSchema>;

export type ExchangeResult<T> = { ok: true; value: T } | { ok: false; message: string };

export interface CodeExchange {
  issuer: string;
  clientId: string;
  code: string;
  redirectUri: string;
  verifier: string;
  signal: AbortSignal;
}

export async function exchangeCode(request: CodeExchange): Promise<ExchangeResult<ExchangedTokens>> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: request.code,
    redirect_uri: request.redirectUri,
    client_id: request.clientId,
    code_verifier: request.verifier,
  });
  return postForm(request.issuer, body, request.signal, CODE_EXCHANGE_TIMEOUT_MS, CodeExchangeResponseSchema);
}

/** Trades the id_token for an API key; failure only means no key is stored. */
export async function exchangeApiKey(issuer: string, clientId: string, idToken: string, signal: AbortSignal) {
  const body = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    client_id: clientId,
    requested_token: 'openai-api-key',
    subject_token: idToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
  });
  const result = await postForm(issuer, body, signal, API_KEY_EXCHANGE_TIMEOUT_MS, z.object({ access_token: z.string().check(z.minLength(1)) }));
  return result.ok ? result.value.access_token : null;
}

async function postForm<T>(
  issuer: string,
  body: URLSearchParams,
  signal: AbortSignal,
  timeoutMs: number,
  schema: z.ZodMiniType<T>,
): Promise<ExchangeResult<T>> {
  let response: Response;
  try {
    response = await issuerFetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs / 1000} s` : (error as Error).message;
    return { ok: false, message: `token endpoint unreachable: ${reason}` };
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    return { ok: false, message: `token endpoint returned status ${response.status}${describeOAuthError(text)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: 'token endpoint returned a body that is not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, message: `token endpoint response lacks ${parsed.error.issues[0]?.path.join('.')}` };
  return { ok: true, value: parsed.data };
}

/**
 * The OAuth error code from a token-endpoint error body, if any, as a code we know by name: an
 * issuer or proxy that echoes the request would otherwise hand back the code or the PKCE verifier.
 */
function describeOAuthError(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown };
    return describeOAuthErrorCode(typeof json.error === 'string' ? json.error : (json.error as { code?: unknown } | undefined)?.code);
  } catch {
    return '';
  }
}
