/**
 * A local stand-in for https://auth.openai.com, built on oidc-provider (a certified OpenID
 * provider, not a hand-written mock). On loopback only, it serves what codex-auth-mcp talks to:
 *   /oauth/authorize   authorization code + PKCE (S256 required), with our own login and consent pages
 *   /oauth/token       code exchange (form); refresh (form, or codex's JSON body), rotating on every
 *                      use; and the id_token → API key token exchange (RFC 8693 shape)
 *   /oauth/revoke      RFC 7009 revocation (the public client may revoke its own tokens)
 *   /api/accounts/deviceauth/{usercode,token}, /codex/device   the ChatGPT device-code flow
 * Used by `npm run demo`, the end-to-end tests and the benchmarks. Never for real credentials.
 *
 * Access tokens and id_tokens are RS256 JWTs with `exp`, `email` and
 * `"https://api.openai.com/auth": {chatgpt_plan_type, chatgpt_account_id, chatgpt_user_id}`.
 *
 * Refresh-token reuse: presenting a refresh token that was already rotated away answers, like
 * the real issuer, HTTP 401 `{"error":{"code":"refresh_token_reused","message":…,"type":"invalid_request_error"}}`
 * (an expired one: 401 `refresh_token_expired`). oidc-provider also revokes the whole grant then,
 * so the newest refresh token stops working too (it then gets oidc-provider's own
 * 400 `{"error":"invalid_grant"}`). `refreshErrors: 'oauth'` keeps oidc-provider's plain
 * 400 invalid_grant answers for reuse and expiry as well.
 *
 * Accounts: the seeded users (DEFAULT_USERS; password "demo" unless a user sets its own). Any
 * other email signs in with the password "demo" as a `plus` account. A user in several
 * workspaces signs in to the first unless the authorize request names another in
 * `allowed_workspace_id` (as Codex 0.171 sends to switch workspaces).
 *
 * Page selectors (for a person, or Playwright):
 *   login page    form#login-form: `input[name=login]` (email), `input[name=password]`,
 *                 `button[type=submit]` (the only button; text "Sign in"); a wrong password
 *                 re-renders the page with `#error`.
 *   consent page  form#consent-form: `button[type=submit]` text "Continue" (id `continue`), first
 *                 in the page; `button#cancel` ("Cancel") in a second form ends the login with
 *                 access_denied.
 *   device page   /codex/device: `input[name=user_code]`, `input[name=email]`, `button[type=submit]`.
 * Both sign-in forms carry a hidden `prompt` field (`login` / `consent`) and post to
 * /interaction/<uid>; they load nothing from the network.
 */
import { createHash, generateKeyPair as generateKeyPairCb, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { Adapter, AdapterPayload, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type ProviderClass from 'oidc-provider';
import { CLIENT_ID } from '../../src/protocol/login.js';
import { DeviceCodes } from './device-codes.js';

export interface DemoUser {
  readonly email: string;
  /** The plan and ChatGPT account of the user's first (default) workspace. */
  readonly planType: string;
  readonly accountId: string;
  /** Defaults to "demo". */
  readonly password?: string;
  /** More workspaces the user belongs to; a sign-in picks one with `allowed_workspace_id`. */
  readonly workspaces?: readonly DemoWorkspace[];
}

export interface DemoWorkspace {
  readonly accountId: string;
  readonly planType: string;
  readonly name: string;
}

/** Several people, one of them (team@) in two workspaces: a personal one and a team's. */
export const DEFAULT_USERS: readonly DemoUser[] = [
  { email: 'demo@example.com', password: 'demo', planType: 'plus', accountId: 'acct-demo-0001' },
  { email: 'pro@example.com', password: 'demo', planType: 'pro', accountId: 'acct-demo-0002' },
  { email: 'work@example.com', password: 'demo', planType: 'business', accountId: 'acct-work-0003' },
  {
    email: 'team@example.com',
    password: 'demo',
    planType: 'plus',
    accountId: 'acct-team-personal',
    workspaces: [{ accountId: 'acct-team-acme', planType: 'team', name: 'Acme' }],
  },
];

/** The ChatGPT user id of a person (the same in every workspace), as `chatgpt_user_id` carries it. */
export const demoUserId = (email: string) => `user-${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 12)}`;

export interface EmbeddedIssuerOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** A loopback address only: '127.0.0.1' (default), '::1' or 'localhost'. */
  readonly host?: string;
  /** Lifetime of access tokens (JWTs); default 3600. */
  readonly accessTokenTtlSecs?: number;
  /** Lifetime of id_tokens; default 3600. */
  readonly idTokenTtlSecs?: number;
  /** Lifetime of refresh tokens; default 30 days. */
  readonly refreshTokenTtlSecs?: number;
  /** The `interval` the device-code endpoint advertises (sent as a string); null omits it. Default 5. */
  readonly deviceCodeInterval?: number | string | null;
  readonly users?: readonly DemoUser[];
  /** How refresh reuse and expiry are answered: 'chatgpt' (default, 401 with an error code) or 'oauth' (400 invalid_grant). */
  readonly refreshErrors?: 'chatgpt' | 'oauth';
}

export interface IssuerStats {
  /** Every POST /oauth/token, whatever the outcome. */
  tokenRequests: number;
  /** Successful authorization_code grants. */
  codeExchanges: number;
  /** Successful refreshes. */
  refreshes: number;
  /** Refreshes refused (any reason). */
  refreshFailures: number;
  /** Refreshes refused because the refresh token had already been rotated away. */
  refreshReuses: number;
  /** Successful id_token → API key exchanges. */
  apiKeyExchanges: number;
  /** POST /oauth/revoke requests. */
  revocations: number;
  /** Completed sign-ins on the login page. */
  logins: number;
  /** POST /api/accounts/deviceauth/usercode requests. */
  deviceUserCodes: number;
  /** POST /api/accounts/deviceauth/token requests. */
  devicePolls: number;
}

export interface EmbeddedIssuer {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly stats: IssuerStats;
  /**
   * Approves a pending device code as if a person had entered it on /codex/device (as `email`,
   * default the first user). Rejects for an unknown code.
   */
  approveDeviceCode(userCode: string, email?: string): Promise<void>;
  /** Stops listening and destroys every connection, idle or not. Idempotent. */
  close(): Promise<void>;
}

const AUTH_CLAIM = 'https://api.openai.com/auth';
const PROFILE_CLAIM = 'https://api.openai.com/profile';
const SCOPES = 'openid profile email offline_access';
const RESOURCE = 'https://api.openai.com/v1';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
const DEFAULT_PASSWORD = 'demo';
/** How many rotated-away refresh tokens are remembered to tell reuse apart (bounds memory under load). */
const MAX_REMEMBERED_ROTATIONS = 100_000;
/** How many consumed artefacts (rotated refresh tokens, used codes) storage keeps before dropping the oldest. */
const MAX_CONSUMED_KEPT = 10_000;
/** How long storage keeps an artefact after it expired. */
const EXPIRED_GRACE_SECS = 3600;

export async function startEmbeddedIssuer(options: EmbeddedIssuerOptions = {}): Promise<EmbeddedIssuer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`the embedded issuer listens on loopback only, not on ${host}`);
  const users = options.users ?? DEFAULT_USERS;
  const accessTtl = options.accessTokenTtlSecs ?? 3600;
  const refreshErrors = options.refreshErrors ?? 'chatgpt';
  const findUser = (email: string) => users.find((u) => u.email.toLowerCase() === email.trim().toLowerCase());
  const userFor = (email: string): DemoUser =>
    findUser(email) ?? { email, planType: 'plus', accountId: `acct-${email.replace(/\W+/g, '-')}` };
  // An oidc-provider account id is the email, or `email#workspace` for a sign-in to another
  // workspace than the default one; the claims name that workspace.
  const accountFor = (sub: string) => {
    const [email, workspaceId] = sub.split('#') as [string, string | undefined];
    const user = userFor(email);
    const workspace = user.workspaces?.find((w) => w.accountId === workspaceId);
    const auth = {
      chatgpt_plan_type: workspace?.planType ?? user.planType,
      chatgpt_account_id: workspace?.accountId ?? user.accountId,
      chatgpt_user_id: demoUserId(user.email),
    };
    return { user, auth };
  };
  const workspaceSub = (email: string, requested: unknown) =>
    typeof requested === 'string' && userFor(email).workspaces?.some((w) => w.accountId === requested) ? `${email}#${requested}` : email;

  const [{ default: Provider, errors }, signingKey] = await Promise.all([loadOidcProvider(), signingKeyOnce()]);

  // Listen first: the issuer URL (and the device-code redirect URI) need the port.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const stats: IssuerStats = {
    tokenRequests: 0,
    codeExchanges: 0,
    refreshes: 0,
    refreshFailures: 0,
    refreshReuses: 0,
    apiKeyExchanges: 0,
    revocations: 0,
    logins: 0,
    deviceUserCodes: 0,
    devicePolls: 0,
  };
  // Refresh tokens already rotated away (sha256 of the value): presenting one again is reuse.
  const rotatedAway = new Set<string>();

  const configuration: Configuration = {
    adapter: memoryAdapterFactory(),
    jwks: { keys: [signingKey] },
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        // 'native' accepts http://localhost:<any port>/auth/callback (RFC 8252 loopback rule), and
        // makes every sign-in show the consent page.
        application_type: 'native',
        redirect_uris: [
          'http://localhost:1455/auth/callback',
          'http://localhost:1457/auth/callback',
          // codex 0.171's login server redirects to 127.0.0.1, not localhost
          'http://127.0.0.1:1455/auth/callback',
          'http://127.0.0.1:1457/auth/callback',
          `${url}/deviceauth/callback`,
        ],
        grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
        response_types: ['code'],
      },
    ],
    routes: { authorization: '/oauth/authorize', token: '/oauth/token', revocation: '/oauth/revoke' },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    scopes: SCOPES.split(' '),
    claims: { openid: ['sub', AUTH_CLAIM], email: ['email', 'email_verified'], profile: ['name'] },
    // Otherwise scope claims stay out of code-flow id_tokens (userinfo only).
    conformIdTokenClaims: false,
    extraParams: ['id_token_add_organizations', 'codex_cli_simplified_flow', 'originator', 'allowed_workspace_id'],
    pkce: { required: () => true },
    // codex never sends prompt=consent, so oidc-provider drops offline_access from its request;
    // it still expects a refresh token.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: accessTtl,
      AuthorizationCode: 600,
      IdToken: options.idTokenTtlSecs ?? 3600,
      RefreshToken: options.refreshTokenTtlSecs ?? 30 * 86400,
      Grant: 30 * 86400,
      Session: 86400,
      Interaction: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      // A resource server with the 'jwt' format makes access tokens JWTs, so clients can read `exp`.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: SCOPES, accessTokenFormat: 'jwt', accessTokenTTL: accessTtl }),
      },
    },
    clientBasedCORS: () => false,
    cookies: { keys: [randomBytes(16).toString('hex')] },
    async findAccount(_ctx, sub) {
      const { user, auth } = accountFor(sub);
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: user.email,
            email_verified: true,
            name: user.email.split('@')[0],
            [AUTH_CLAIM]: auth,
          };
        },
      };
    },
    // The same claims in the access token, as the real issuer does.
    async extraTokenClaims(_ctx, token) {
      if (!('accountId' in token) || typeof token.accountId !== 'string') return undefined;
      const { user, auth } = accountFor(token.accountId);
      return {
        [AUTH_CLAIM]: auth,
        [PROFILE_CLAIM]: { email: user.email, email_verified: true },
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<h1>Something went wrong</h1>
<p id="error"><code>${escapeHtml(String(out.error))}</code>: ${escapeHtml(String(out.error_description ?? ''))}</p>`);
    },
  };
  const provider: ProviderClass = new Provider(url, configuration);
  provider.on('server_error', (_ctx: unknown, error: Error) => process.stderr.write(`embedded issuer: ${error.message}\n`));

  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      if (params['requested_token'] !== 'openai-api-key') {
        throw new errors.InvalidRequest('requested_token must be openai-api-key');
      }
      if (params['subject_token_type'] !== ID_TOKEN_TYPE) {
        throw new errors.InvalidRequest(`subject_token_type must be ${ID_TOKEN_TYPE}`);
      }
      try {
        await provider.IdToken.validate(params['subject_token'] ?? '', ctx.oidc.client!);
      } catch {
        throw new errors.InvalidGrant('subject_token is not an id_token this issuer signed');
      }
      stats.apiKeyExchanges++;
      ctx.body = {
        access_token: `sk-demo-${randomBytes(16).toString('hex')}`,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
      };
    },
    ['requested_token', 'subject_token', 'subject_token_type'],
  );

  const deviceCodes = new DeviceCodes({
    issuer: url,
    interval: options.deviceCodeInterval === undefined ? 5 : options.deviceCodeInterval,
    mintCode: (email, challenge) => mintAuthorizationCode(provider, userFor(email).email, `${url}/deviceauth/callback`, challenge),
  });

  // What the token endpoint decided, recorded by its events for the middleware below.
  const outcomes = new WeakMap<object, { grantType: string; ok: boolean; detail?: string; refreshToken?: string }>();
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.['grant_type'] ?? '');
    outcomes.set(ctx, { grantType, ok: true });
    if (grantType === 'authorization_code') stats.codeExchanges++;
    if (grantType === 'refresh_token') {
      stats.refreshes++;
      rotatedAway.add(digest(String(ctx.oidc.params?.['refresh_token'] ?? '')));
      // Bounded, for long benchmark runs: the oldest entries go first.
      if (rotatedAway.size > MAX_REMEMBERED_ROTATIONS) rotatedAway.delete(rotatedAway.values().next().value!);
    }
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: Error & { error_detail?: string }) => {
    const grantType = String(ctx.oidc?.params?.['grant_type'] ?? '');
    const refreshToken = ctx.oidc?.params?.['refresh_token'];
    outcomes.set(ctx, {
      grantType,
      ok: false,
      ...(error.error_detail && { detail: error.error_detail }),
      ...(typeof refreshToken === 'string' && { refreshToken }),
    });
  });

  provider.use(async (koaContext, next) => {
    const ctx = koaContext as KoaContextWithOIDC;
    if (ctx.path === '/oauth/token' && ctx.method === 'POST') {
      stats.tokenRequests++;
      if (ctx.is('application/json') && !(await jsonBodyAsForm(ctx))) return;
      await next();
      const outcome = outcomes.get(ctx);
      if (outcome?.grantType === 'refresh_token' && !outcome.ok) answerRefreshFailure(ctx, outcome);
      return;
    }
    if (ctx.path === '/oauth/revoke' && ctx.method === 'POST') stats.revocations++;
    if (ctx.path === '/api/accounts/deviceauth/usercode' && ctx.method === 'POST') stats.deviceUserCodes++;
    const interaction = /^\/interaction\/([\w-]+)(\/abort)?$/.exec(ctx.path);
    if (interaction) return handleInteraction(ctx, interaction[2] !== undefined);
    if (await deviceCodes.handle(ctx, stats)) return;
    await next();
  });

  function answerRefreshFailure(ctx: KoaContextWithOIDC, outcome: { detail?: string; refreshToken?: string }) {
    stats.refreshFailures++;
    const reused = outcome.detail === 'refresh token already used' || (outcome.refreshToken !== undefined && rotatedAway.has(digest(outcome.refreshToken)));
    if (reused) stats.refreshReuses++;
    if (refreshErrors !== 'chatgpt') return;
    if (reused) {
      chatGptError(ctx, 'refresh_token_reused', 'Your refresh token has already been used to generate a new access token. Please try signing in again.');
    } else if (outcome.detail === 'refresh token is expired') {
      chatGptError(ctx, 'refresh_token_expired', 'Your refresh token has expired. Please try signing in again.');
    }
  }

  async function handleInteraction(ctx: KoaContextWithOIDC, abort: boolean): Promise<void> {
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Sign-in expired', '<h1>This sign-in has expired</h1><p id="error">Start the sign-in again from your application.</p>');
      return;
    }
    const { uid, prompt, params } = details;
    ctx.set('cache-control', 'no-store');
    if (ctx.method === 'GET' && !abort) {
      ctx.type = 'html';
      ctx.body = prompt.name === 'login' ? loginPage(uid, String(params['login_hint'] ?? '')) : consentPage(uid, String(params['scope'] ?? ''));
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      return;
    }
    const form = await readForm(ctx.req);
    let result;
    if (abort) {
      result = { error: 'access_denied', error_description: 'the user cancelled the sign-in' };
    } else if (prompt.name === 'login') {
      const email = (form['login'] ?? '').trim();
      const user = findUser(email);
      const expected = user ? (user.password ?? DEFAULT_PASSWORD) : DEFAULT_PASSWORD;
      if (!email || form['password'] !== expected) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = loginPage(uid, email, 'Wrong email or password.');
        return;
      }
      stats.logins++;
      result = { login: { accountId: workspaceSub((user?.email ?? email).toLowerCase(), params['allowed_workspace_id']) } };
    } else {
      const grant = details.grantId
        ? (await provider.Grant.find(details.grantId))!
        : new provider.Grant({ accountId: details.session!.accountId, clientId: String(params['client_id']) });
      const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      result = { consent: { grantId: await grant.save() } };
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: !('login' in result) });
    ctx.redirect(redirectTo);
    ctx.status = 303;
  }

  const callback = provider.callback();
  server.on('request', callback);

  let closing: Promise<void> | undefined;
  return {
    url,
    stats,
    approveDeviceCode: (userCode, email = users[0]?.email ?? 'demo@example.com') => deviceCodes.approve(userCode, email),
    close: () => (closing ??= closeServer(server)),
  };
}

function chatGptError(ctx: KoaContextWithOIDC, code: string, message: string): void {
  ctx.status = 401;
  ctx.type = 'json';
  ctx.body = { error: { message, type: 'invalid_request_error', param: null, code } };
}

/**
 * codex sends refresh requests as JSON; oidc-provider reads only forms on /oauth/token. Reads the
 * JSON and gives oidc-provider a request whose body is the same fields, form-encoded (a view of
 * the original request with a new body and headers). False when it answered 400 itself.
 */
async function jsonBodyAsForm(ctx: KoaContextWithOIDC): Promise<boolean> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readBody(ctx.req)).toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'the body is not a JSON object' };
    return false;
  }
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') form.set(key, String(value));
  }
  const body = Buffer.from(form.toString(), 'utf8');
  const original = ctx.req;
  const headers = { ...original.headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) };
  const view = Object.create(original, {
    headers: { value: headers },
    readable: { value: true },
    readableEncoding: { value: null },
    iterator: {
      value: async function* () {
        yield body;
      },
    },
    [Symbol.asyncIterator]: {
      value: async function* () {
        yield body;
      },
    },
  }) as IncomingMessage;
  ctx.req = view;
  ctx.request.req = view;
  return true;
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  try {
    return Object.fromEntries(new URLSearchParams((await readBody(req)).toString('utf8')));
  } catch {
    return {};
  }
}

/** A real authorization code, as if `email` had signed in and consented, bound to a PKCE challenge. */
async function mintAuthorizationCode(provider: ProviderClass, email: string, redirectUri: string, codeChallenge: string): Promise<string> {
  const client = await provider.Client.find(CLIENT_ID);
  if (!client) throw new Error('the codex client is not registered');
  const accountId = email.toLowerCase();
  const grant = new provider.Grant({ accountId, clientId: CLIENT_ID });
  grant.addOIDCScope(SCOPES);
  grant.addOIDCClaims(['email', 'email_verified', AUTH_CLAIM]);
  grant.addResourceScope(RESOURCE, SCOPES);
  const grantId = await grant.save();
  const code = new provider.AuthorizationCode({
    accountId,
    grantId,
    client,
    redirectUri,
    scope: SCOPES,
    resource: RESOURCE,
    codeChallenge,
    codeChallengeMethod: 'S256',
    authTime: Math.floor(Date.now() / 1000),
    sessionUid: randomUUID(),
  } as ConstructorParameters<ProviderClass['AuthorizationCode']>[0]);
  return code.save();
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

// ---------------------------------------------------------------------------------------------
// oidc-provider loading, keys and storage

type OidcProviderModule = typeof import('oidc-provider');
let oidcProvider: Promise<OidcProviderModule> | undefined;

/**
 * Imports oidc-provider once. On Node 20 it warns "Unsupported runtime" while loading; that one
 * message is dropped (it works on Node 20, and the warning is noise in every test and demo).
 */
function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcProvider ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn.apply(console, args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return oidcProvider;
}

type SigningJwk = { kty: string; kid: string; alg: string; use: string; [key: string]: unknown };
let signingKey: Promise<SigningJwk> | undefined;

/** One RS256 key per process (RSA generation costs tens of ms), so oidc-provider's dev keys are not used. */
function signingKeyOnce(): Promise<SigningJwk> {
  signingKey ??= promisify(generateKeyPairCb)('rsa', { modulusLength: 2048 }).then(({ privateKey }) => ({
    ...(privateKey.export({ format: 'jwk' }) as { kty: string }),
    kid: `embedded-${randomBytes(6).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  }));
  return signingKey;
}

const GRANT_MEMBERS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * oidc-provider's storage, one per issuer (its built-in memory adapter is shared by every
 * provider in the process, capped at 1000 entries, and warns). Expired entries vanish when read.
 */
function memoryAdapterFactory(): (model: string) => Adapter {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  // Secondary indexes hold storage keys (`Model:id`).
  const byGrant = new Map<string, Set<string>>();
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  const consumed = new Set<string>(); // in consumption order
  let writes = 0;

  const forget = (key: string) => {
    const payload = entries.get(key)?.payload;
    entries.delete(key);
    consumed.delete(key);
    if (!payload) return;
    if (payload.grantId) {
      const members = byGrant.get(payload.grantId);
      members?.delete(key);
      if (members?.size === 0) byGrant.delete(payload.grantId);
    }
    if (payload.uid && byUid.get(payload.uid) === key) byUid.delete(payload.uid);
    if (payload.userCode && byUserCode.get(payload.userCode) === key) byUserCode.delete(payload.userCode);
  };
  const read = (key: string | undefined): AdapterPayload | undefined => {
    const entry = key === undefined ? undefined : entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      forget(key!);
      return undefined;
    }
    return entry.payload;
  };
  const copy = (payload: AdapterPayload | undefined) => payload && structuredClone(payload);

  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        if (++writes % 1000 === 0) {
          const now = Date.now();
          for (const [key, entry] of entries) if (entry.expiresAt <= now) forget(key);
        }
        const key = keyOf(id);
        // Kept a while past expiry: oidc-provider checks `exp` itself, and can then tell an
        // expired refresh token (401 refresh_token_expired) from an unknown one.
        const expiresAt = expiresIn ? Date.now() + (expiresIn + EXPIRED_GRACE_SECS) * 1000 : Infinity;
        entries.set(key, { payload: structuredClone(payload), expiresAt });
        if (GRANT_MEMBERS.has(model) && payload.grantId) {
          const members = byGrant.get(payload.grantId) ?? new Set<string>();
          byGrant.set(payload.grantId, members.add(key));
        }
        if (payload.uid) byUid.set(payload.uid, key);
        if (payload.userCode) byUserCode.set(payload.userCode, key);
      },
      find: async (id) => copy(read(keyOf(id))),
      findByUid: async (uid) => copy(read(byUid.get(uid))),
      findByUserCode: async (userCode) => copy(read(byUserCode.get(userCode))),
      async consume(id) {
        const key = keyOf(id);
        const payload = read(key);
        if (!payload) return;
        payload.consumed = Math.floor(Date.now() / 1000);
        consumed.add(key);
        // Rotated refresh tokens and used codes pile up under load: keep only the newest ones.
        if (consumed.size > MAX_CONSUMED_KEPT) forget(consumed.values().next().value!);
      },
      async destroy(id) {
        forget(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of [...(byGrant.get(grantId) ?? [])]) forget(key);
        byGrant.delete(grantId);
      },
    };
  };
}

// ---------------------------------------------------------------------------------------------
// pages

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0}input{display:block;width:100%;padding:.4rem;margin-top:.2rem;box-sizing:border-box}
button{padding:.5rem 1.2rem;margin-top:.8rem}#error{color:#b00020}.note{color:#555;font-size:.9rem}</style>
</head><body>
${body}
</body></html>`;
}

function loginPage(uid: string, email: string, error?: string): string {
  return page('Sign in', `<h1>Sign in</h1>
<p class="note">Local demo issuer. Accounts: demo@example.com (plus) and pro@example.com (pro), password <code>demo</code>.</p>
${error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}" autocomplete="off">
<input type="hidden" name="prompt" value="login">
<label>Email <input name="login" type="text" inputmode="email" value="${escapeHtml(email)}" required autofocus></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button>
</form>`);
}

function consentPage(uid: string, scope: string): string {
  return page('Authorize', `<h1>Authorize Codex</h1>
<p>Codex CLI wants to use your account (<code>${escapeHtml(scope)}</code>).</p>
<form id="consent-form" method="post" action="/interaction/${escapeHtml(uid)}">
<input type="hidden" name="prompt" value="consent">
<button id="continue" type="submit" autofocus>Continue</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort">
<button id="cancel" type="submit">Cancel</button>
</form>`);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
