/**
 * A loopback refresh-token endpoint shared by our servers and Codex 0.171, with rotation and
 * reuse detection as auth.openai.com does it: the current refresh token gets a new token set and
 * is spent; a spent one gets 401 `{"error":{"code":"refresh_token_reused"}}`.
 *
 * Unlike fake-issuer.ts's RotatingTokens it records WHO asked, which the mixed-fleet figures
 * need: 0.171 posts JSON with a `refresh_reason` field (and its clientInfo.name as `originator`),
 * ours posts JSON without `refresh_reason`. Form bodies are accepted too. Every issued token is
 * unique (a generation number in `jti`), so "the token changed" never depends on the clock.
 *
 * Serve it at `auth_issuer=<url>` for ours (we POST `<url>/oauth/token`) and
 * `CODEX_REFRESH_TOKEN_URL_OVERRIDE=<tokenUrl>` for 0.171.
 */
import { createServer } from 'node:http';
import { firstHeader, listenLoopback, readRequestBody } from './loopback-http.js';
import { AUTH_CLAIM, makeJwt, PROFILE_CLAIM } from '../jwt.js';

export type RefresherKind = 'ours' | 'codex0171';

/** Whom every token is issued to. */
const IDENTITY = { email: 'demo@example.com', planType: 'plus', accountId: 'acct-demo-0001' };
/** Lifetime of issued access tokens and id_tokens: nobody refreshes proactively. */
const TOKEN_TTL_SECS = 3600;

export interface TokenSet {
  id_token: string;
  access_token: string;
  refresh_token: string;
}

export interface RefreshRecord {
  /** 1-based arrival order. */
  readonly n: number;
  readonly kind: RefresherKind;
  /** The `originator` header (0.171: clientInfo.name), if any. */
  readonly originator: string | undefined;
  readonly contentType: string;
  readonly refreshReason: string | undefined;
  readonly presented: string;
  /** rotated: the current token, answered 200; reused: a spent one (401); unknown: never issued (401). */
  readonly outcome: 'rotated' | 'reused' | 'unknown';
  /** The refresh token issued in exchange (rotated only). */
  readonly issued?: string;
}

export interface RotatingEndpoint {
  /** `http://127.0.0.1:PORT`, for our `auth_issuer`. */
  readonly url: string;
  /** `<url>/oauth/token`, for 0.171's CODEX_REFRESH_TOKEN_URL_OVERRIDE. */
  readonly tokenUrl: string;
  /** The one refresh token that would rotate now. */
  readonly current: string;
  /** The token set issued last (or by initialTokens()). */
  readonly latest: TokenSet | undefined;
  readonly records: readonly RefreshRecord[];
  readonly rotations: number;
  /** Requests that presented a spent refresh token, in all and by kind. */
  readonly reuseErrors: number;
  reuseBy(kind: RefresherKind): number;
  /** Requests by kind (any outcome). */
  requestsBy(kind: RefresherKind): number;
  /** Requests that presented a token this endpoint never issued (a sign-in elsewhere: see adopt()). */
  readonly unknownTokens: number;
  /** Which rotation issued this access token (0: initialTokens()); undefined if this endpoint never issued it. */
  generationOf(accessToken: string | undefined): number | undefined;
  /** Mints generation-0 tokens whose refresh token is current (for a seeded auth.json). */
  initialTokens(): Promise<TokenSet>;
  /** Makes `refreshToken` (e.g. one a sign-in at another issuer stored) the current one. */
  adopt(refreshToken: string): void;
  close(): Promise<void>;
}

export interface RotatingEndpointOptions {
  /** Answer this long after the request arrived (a real issuer is not instant; it widens overlaps). Default 0. */
  delayMs?: number;
}

const REUSED = { error: { code: 'refresh_token_reused', message: 'Your refresh token has already been used to generate a new access token. Please try signing in again.', type: 'invalid_request_error', param: null } };
const UNKNOWN = { error: { code: 'refresh_token_invalidated', message: 'Your refresh token has been invalidated. Please try signing in again.', type: 'invalid_request_error', param: null } };

export async function startRotatingEndpoint(options: RotatingEndpointOptions = {}): Promise<RotatingEndpoint> {
  const records: RefreshRecord[] = [];
  const spent = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let generation = 0;
  let current = 'rt-gen-0';
  let latest: TokenSet | undefined;
  const generations = new Map<string, number>();
  let closed = false;

  const mint = async (gen: number): Promise<TokenSet> => {
    const auth = { chatgpt_plan_type: IDENTITY.planType, chatgpt_account_id: IDENTITY.accountId, chatgpt_user_id: 'user-fleet' };
    const common = { iss: 'https://auth.openai.com', sub: 'sub-fleet', jti: `gen-${gen}`, [AUTH_CLAIM]: auth };
    const [id_token, access_token] = await Promise.all([
      makeJwt({ ...common, aud: ['app_EMoamEEZ73f0CkXaXp7hrann'], email: IDENTITY.email, email_verified: true }, { expiresInSecs: TOKEN_TTL_SECS }),
      makeJwt({ ...common, aud: ['https://api.openai.com/v1'], [PROFILE_CLAIM]: { email: IDENTITY.email, email_verified: true } }, { expiresInSecs: TOKEN_TTL_SECS }),
    ]);
    generations.set(access_token, gen);
    return { id_token, access_token, refresh_token: `rt-gen-${gen}` };
  };

  const server = createServer(async (req, res) => {
    const body = await readRequestBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'POST' || path !== '/oauth/token' || body.fields['grant_type'] !== 'refresh_token') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not_found' }));
      return;
    }
    const presented = body.fields['refresh_token'] ?? '';
    const base = {
      n: records.length + 1,
      kind: (body.fields['refresh_reason'] !== undefined ? 'codex0171' : 'ours') as RefresherKind,
      originator: firstHeader(req, 'originator'),
      contentType: body.contentType,
      refreshReason: body.fields['refresh_reason'],
      presented,
    };
    // Decided on arrival, before the delay: of two overlapping requests with one token, the second loses.
    let answer: { status: number; json: unknown };
    if (presented === current) {
      spent.add(presented);
      const gen = ++generation;
      current = `rt-gen-${gen}`;
      records.push({ ...base, outcome: 'rotated', issued: current });
      const tokens = await mint(gen);
      latest = tokens;
      answer = { status: 200, json: { ...tokens, token_type: 'Bearer', expires_in: TOKEN_TTL_SECS } };
    } else {
      records.push({ ...base, outcome: spent.has(presented) ? 'reused' : 'unknown' });
      answer = { status: 401, json: spent.has(presented) ? REUSED : UNKNOWN };
    }
    if (options.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (timers.delete(timer), resolve()), options.delayMs);
        timers.add(timer);
      });
    }
    if (closed) return;
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
  });
  const listening = await listenLoopback(server);
  const url = listening.url;
  const count = (predicate: (r: RefreshRecord) => boolean) => records.filter(predicate).length;

  return {
    url,
    tokenUrl: `${url}/oauth/token`,
    get current() { return current; },
    get latest() { return latest; },
    records,
    get rotations() { return count((r) => r.outcome === 'rotated'); },
    get reuseErrors() { return count((r) => r.outcome === 'reused'); },
    reuseBy: (kind) => count((r) => r.outcome === 'reused' && r.kind === kind),
    requestsBy: (kind) => count((r) => r.kind === kind),
    get unknownTokens() { return count((r) => r.outcome === 'unknown'); },
    generationOf: (accessToken) => (accessToken === undefined ? undefined : generations.get(accessToken)),
    async initialTokens() {
      latest = await mint(generation);
      current = latest.refresh_token;
      return latest;
    },
    adopt(refreshToken) {
      current = refreshToken;
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      return listening.close();
    },
  };
}

/** auth.json as 0.171 writes it for a ChatGPT sign-in (no API key), holding `tokens`. */
export function chatgptAuthJson(tokens: TokenSet) {
  return {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: { ...tokens, account_id: IDENTITY.accountId },
    last_refresh: new Date().toISOString(),
  };
}
