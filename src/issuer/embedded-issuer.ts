/**
 * A local stand-in for auth.openai.com, built on oidc-provider (a certified OpenID provider, not
 * a hand-written mock). It serves what codex-auth-mcp talks to, on loopback only:
 *   /oauth/authorize   login page (any email, password "demo") and a consent page ("Continue")
 *   /oauth/token       code exchange (form), refresh (form or codex's JSON body, rotating),
 *                      and the id_token → API key token exchange
 *   /oauth/revoke      RFC 7009 revocation
 *   /api/accounts/deviceauth/{usercode,token}, /codex/device   the ChatGPT device-code flow
 * Used by `npm run demo`, the end-to-end tests and the benchmarks. Never for real credentials.
 *
 * Page selectors (for a person, or Playwright): login form `input[name=login]`,
 * `input[name=password]`, `button[type=submit]`; consent form `button[type=submit]`;
 * device page `input[name=user_code]`, `input[name=email]`, `button[type=submit]`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { CLIENT_ID } from '../protocol/login.js';
import { DeviceCodes } from './device-codes.js';

export interface DemoUser {
  readonly email: string;
  readonly planType: string;
  readonly accountId: string;
}

export const DEFAULT_USERS: readonly DemoUser[] = [
  { email: 'demo@example.com', planType: 'plus', accountId: 'acct-demo-0001' },
  { email: 'pro@example.com', planType: 'pro', accountId: 'acct-demo-0002' },
];

export interface EmbeddedIssuerOptions {
  readonly port?: number;
  readonly accessTokenTtlSecs?: number;
  /** The `interval` the device-code endpoint advertises: a number, a string, or null to omit it. */
  readonly deviceCodeInterval?: number | string | null;
  readonly users?: readonly DemoUser[];
}

export interface IssuerStats {
  codeExchanges: number;
  refreshes: number;
  apiKeyExchanges: number;
  revocations: number;
  devicePolls: number;
}

export interface EmbeddedIssuer {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly stats: IssuerStats;
  /** Approves a pending device code as if a person had entered it on /codex/device. */
  approveDeviceCode(userCode: string, email?: string): Promise<void>;
  close(): Promise<void>;
}

const AUTH_CLAIM = 'https://api.openai.com/auth';
const SCOPES = 'openid profile email offline_access';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export async function startEmbeddedIssuer(options: EmbeddedIssuerOptions = {}): Promise<EmbeddedIssuer> {
  const users = options.users ?? DEFAULT_USERS;
  const userFor = (email: string): DemoUser =>
    users.find((u) => u.email === email) ?? { email, planType: 'plus', accountId: `acct-${email.replace(/\W+/g, '-')}` };

  // Listen first: the issuer URL (and the device-code redirect URI) need the port.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stats: IssuerStats = { codeExchanges: 0, refreshes: 0, apiKeyExchanges: 0, revocations: 0, devicePolls: 0 };

  const provider = new Provider(url, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        // 'native' accepts http://localhost:<any port>/auth/callback (RFC 8252 loopback rule).
        application_type: 'native',
        redirect_uris: [
          'http://localhost:1455/auth/callback',
          'http://localhost:1457/auth/callback',
          `${url}/deviceauth/callback`,
        ],
        grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
        response_types: ['code'],
      },
    ],
    routes: { authorization: '/oauth/authorize', token: '/oauth/token', revocation: '/oauth/revoke' },
    scopes: SCOPES.split(' '),
    claims: { openid: ['sub', AUTH_CLAIM], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    extraParams: ['id_token_add_organizations', 'codex_cli_simplified_flow', 'originator'],
    pkce: { required: () => true },
    // codex never sends prompt=consent, yet expects a refresh token for offline_access.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: { AccessToken: options.accessTokenTtlSecs ?? 3600, IdToken: 3600, RefreshToken: 30 * 86400, AuthorizationCode: 600, Grant: 30 * 86400, Session: 86400, Interaction: 3600 },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      // A resource server makes access tokens JWTs, so clients can read their `exp`.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://api.openai.com/v1',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: SCOPES,
          accessTokenFormat: 'jwt',
          accessTokenTTL: options.accessTokenTtlSecs ?? 3600,
        }),
      },
    },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    async findAccount(_ctx, sub) {
      const user = userFor(sub);
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: user.email,
            email_verified: true,
            [AUTH_CLAIM]: { chatgpt_plan_type: user.planType, chatgpt_account_id: user.accountId },
          };
        },
      };
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      return undefined;
    },
  });
  silenceDevNotices(provider);

  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      if (params['requested_token'] !== 'openai-api-key' || !params['subject_token']) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'unsupported token exchange' };
        return;
      }
      stats.apiKeyExchanges++;
      ctx.body = {
        access_token: `sk-demo-${randomBytes(12).toString('hex')}`,
        issued_token_type: 'openai-api-key',
        token_type: 'bearer',
      };
    },
    ['requested_token', 'subject_token', 'subject_token_type'],
  );

  const deviceCodes = new DeviceCodes({
    issuer: url,
    interval: options.deviceCodeInterval === undefined ? 5 : options.deviceCodeInterval,
    mintCode: (email, challenge) => mintAuthorizationCode(provider, userFor(email).email, `${url}/deviceauth/callback`, challenge),
  });

  provider.use(async (koaContext, next) => {
    const ctx = koaContext as KoaContextWithOIDC;
    if (ctx.path === '/oauth/token' && ctx.method === 'POST') {
      await acceptJsonTokenRequests(ctx);
      const grant = String((ctx.request as { body?: Record<string, unknown> }).body?.['grant_type'] ?? '');
      await next();
      if (ctx.status === 200 && grant === 'refresh_token') stats.refreshes++;
      return;
    }
    if (ctx.path === '/oauth/revoke' && ctx.method === 'POST') stats.revocations++;
    if (await deviceCodes.handle(ctx, stats)) return;
    await next();
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc.params?.['grant_type'] === 'authorization_code') stats.codeExchanges++;
  });

  const callback = provider.callback();
  server.on('request', (req, res) => callback(req, res));

  return {
    url,
    stats,
    approveDeviceCode: (userCode, email = users[0]!.email) => deviceCodes.approve(userCode, email),
    close: () => closeServer(server),
  };
}

/** codex sends refresh requests as JSON; oidc-provider reads forms. Parse JSON here and hand it on as a form. */
async function acceptJsonTokenRequests(ctx: KoaContextWithOIDC): Promise<void> {
  if (!ctx.is('application/json')) {
    return;
  }
  const body = await readJson(ctx.req);
  ctx.req.headers['content-type'] = 'application/x-www-form-urlencoded';
  (ctx.request as { body?: unknown }).body = body;
}

async function readJson(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch {
    return {};
  }
}

/** A real authorization code, as if `email` had signed in and consented, bound to a PKCE challenge. */
async function mintAuthorizationCode(provider: Provider, email: string, redirectUri: string, codeChallenge: string): Promise<string> {
  const client = await provider.Client.find(CLIENT_ID);
  const grant = new provider.Grant({ accountId: email, clientId: CLIENT_ID });
  grant.addOIDCScope(SCOPES);
  grant.addOIDCClaims(['email', 'email_verified', AUTH_CLAIM]);
  grant.addResourceScope('https://api.openai.com/v1', SCOPES);
  const grantId = await grant.save();
  const code = new provider.AuthorizationCode({
    accountId: email,
    grantId,
    client: client!,
    redirectUri,
    scope: SCOPES,
    resource: 'https://api.openai.com/v1',
    codeChallenge,
    codeChallengeMethod: 'S256',
    authTime: Math.floor(Date.now() / 1000),
    sessionUid: randomUUID(),
  } as never);
  return code.save();
}

function silenceDevNotices(provider: Provider): void {
  // oidc-provider reports problems as events; keep them off stdout (the demo prints there).
  provider.on('server_error', (_ctx: unknown, error: Error) => process.stderr.write(`embedded issuer: ${error.message}\n`));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
