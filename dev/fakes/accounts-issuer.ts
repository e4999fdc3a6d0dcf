/**
 * A loopback issuer for several accounts at once, strict as auth.openai.com: each account has one
 * chain of refresh tokens; the current one rotates (and is spent), a spent one gets 401
 * `refresh_token_reused`, and `/oauth/revoke` ends the account's chain (its current token gets 401
 * `refresh_token_invalidated` from then on). It counts what the several-accounts tests and the
 * accounts-chaos bench judge by: reuse answers, and which accounts are still live at the issuer
 * (the refresh token that would rotate now) — every live one must be somewhere on disk.
 *
 * Races are driven, not hoped for: `holdRefreshes()` keeps refresh answers back until released
 * (the rotation is decided on arrival, as a real issuer commits it), `refreshArrived(n)` resolves
 * when the n-th refresh request has arrived.
 */
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { listenLoopback, readRequestBody } from './loopback-http.js';
import { AUTH_CLAIM, makeJwt, PROFILE_CLAIM } from '../jwt.js';

export interface IssuedAccount {
  readonly email: string;
  readonly planType: string;
  readonly accountId: string;
  readonly userId: string;
}

export interface AccountsIssuerOptions {
  /** Lifetime of access tokens and id_tokens (default 3600 s: nobody refreshes on their own). */
  accessTtlSecs?: number;
  /** Every refresh answer waits this long after the request arrived (default 0). */
  delayMs?: number;
  /** Told of every refresh and revocation as it is decided (for tracing a failed run). */
  onEvent?: (event: { kind: 'rotated' | 'reused' | 'revoked' | 'revoked-use' | 'unknown'; email: string | undefined; presented: string; issued?: string }) => void;
}

interface Chain {
  readonly account: IssuedAccount;
  current: string;
  generation: number;
  revoked: boolean;
}

export interface AccountsIssuer {
  readonly url: string;
  readonly accounts: readonly IssuedAccount[];
  /** An auth.json record (0.171's shape) holding the account's current tokens, minted now. */
  record(email: string): Promise<Record<string, unknown>>;
  /** The refresh token that would rotate now, or undefined once the account was revoked. */
  live(email: string): string | undefined;
  isRevoked(email: string): boolean;
  readonly rotations: number;
  /** Requests that presented a spent refresh token (a lost rotation somewhere). */
  readonly reuseAnswers: number;
  /** Requests that presented a revoked account's token (expected after a logout or a removal). */
  readonly revokedAnswers: number;
  readonly revocations: number;
  readonly refreshRequests: number;
  /** Resolves once `n` refresh requests have arrived in all. */
  refreshArrived(n: number): Promise<void>;
  /** Refresh answers wait until the returned function is called. */
  holdRefreshes(): () => void;
  /** Revocations: the same (the token is revoked on arrival, the answer waits). */
  holdRevocations(): () => void;
  /** Resolves once `n` revocation requests have arrived in all. */
  revocationArrived(n: number): Promise<void>;
  /**
   * Refresh requests that arrive wait, undecided, until the returned function is called; one
   * whose client went away meanwhile is then dropped without effect (its connection died before
   * the issuer took it up). The chaos load kills servers under this, so that no kill lands
   * between a rotation and its write, which no client can survive.
   */
  pauseDecisions(): () => void;
  close(): Promise<void>;
}

const REUSED = { error: { code: 'refresh_token_reused', message: 'Your refresh token has already been used to generate a new access token. Please try signing in again.' } };
const INVALIDATED = { error: { code: 'refresh_token_invalidated', message: 'Your refresh token has been invalidated. Please try signing in again.' } };

/** `count` accounts named user0@example.com…, each a person of its own in a workspace of its own. */
export function accountsNamed(count: number): IssuedAccount[] {
  return Array.from({ length: count }, (_, i) => ({ email: `user${i}@example.com`, planType: 'plus', accountId: `acct-${i}`, userId: `user-${i}` }));
}

export async function startAccountsIssuer(accounts: IssuedAccount[], options: AccountsIssuerOptions = {}): Promise<AccountsIssuer> {
  const ttl = options.accessTtlSecs ?? 3600;
  const chains = new Map<string, Chain>();
  const byToken = new Map<string, Chain>();
  const spent = new Set<string>();
  const arrivals: { n: number; resolve: () => void }[] = [];
  const revokeArrivals: { n: number; resolve: () => void }[] = [];
  let held: Promise<void> | undefined;
  let revokesHeld: Promise<void> | undefined;
  let decisionsPaused: Promise<void> | undefined;
  let revokeRequests = 0;
  const wake = (waiters: { n: number; resolve: () => void }[], count: number) => {
    for (const waiter of waiters.filter((w) => w.n <= count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const hold = (set: (gate: Promise<void> | undefined) => void) => {
    let release!: () => void;
    set(new Promise((resolve) => (release = resolve)));
    return () => {
      set(undefined);
      release();
    };
  };
  let counts = { rotations: 0, reuse: 0, revokedUse: 0, revocations: 0, refreshes: 0 };
  let closed = false;

  const issue = (chain: Chain) => {
    const token = `rt-${createHash('sha256').update(chain.account.email).digest('hex').slice(0, 8)}-${chain.generation}`;
    chain.current = token;
    byToken.set(token, chain);
    return token;
  };
  for (const account of accounts) {
    const chain: Chain = { account, current: '', generation: 0, revoked: false };
    issue(chain);
    chains.set(account.email, chain);
  }

  const mint = async (chain: Chain) => {
    const { account } = chain;
    const auth = { chatgpt_plan_type: account.planType, chatgpt_account_id: account.accountId, chatgpt_user_id: account.userId };
    const common = { sub: account.userId, jti: `${account.userId}-${chain.generation}`, [AUTH_CLAIM]: auth };
    const [id_token, access_token] = await Promise.all([
      makeJwt({ ...common, email: account.email, [PROFILE_CLAIM]: { email: account.email } }, { expiresInSecs: ttl }),
      makeJwt({ ...common, [PROFILE_CLAIM]: { email: account.email } }, { expiresInSecs: ttl }),
    ]);
    return { id_token, access_token, refresh_token: chain.current };
  };
  const chainOf = (email: string) => {
    const chain = chains.get(email);
    if (!chain) throw new Error(`no account ${email}`);
    return chain;
  };

  const server = createServer(async (req, res) => {
    const body = await readRequestBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const reply = (status: number, json: unknown) => {
      if (!closed) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    };
    if (req.method === 'POST' && path === '/oauth/revoke') {
      const chain = byToken.get(body.fields['token'] ?? '');
      if (chain && !chain.revoked) {
        chain.revoked = true;
        counts.revocations++;
      }
      options.onEvent?.({ kind: 'revoked', email: chain?.account.email, presented: body.fields['token'] ?? '' });
      wake(revokeArrivals, ++revokeRequests);
      await revokesHeld;
      reply(200, {});
      return;
    }
    if (req.method !== 'POST' || path !== '/oauth/token' || body.fields['grant_type'] !== 'refresh_token') {
      reply(404, { error: 'not_found' });
      return;
    }
    while (decisionsPaused) await decisionsPaused;
    if (req.socket.destroyed || closed) return;
    counts.refreshes++;
    wake(arrivals, counts.refreshes);
    // Decided on arrival: of two overlapping requests with one token, the second loses.
    const presented = body.fields['refresh_token'] ?? '';
    const chain = byToken.get(presented);
    let answer: [number, unknown];
    if (chain && chain.revoked) {
      counts.revokedUse++;
      answer = [401, INVALIDATED];
    } else if (chain && presented === chain.current) {
      spent.add(presented);
      chain.generation++;
      issue(chain);
      counts.rotations++;
      answer = [200, { ...(await mint(chain)), token_type: 'Bearer', expires_in: ttl }];
    } else if (spent.has(presented)) {
      counts.reuse++;
      answer = [401, REUSED];
    } else {
      answer = [401, INVALIDATED];
    }
    const kind = answer[0] === 200 ? 'rotated' : chain?.revoked ? 'revoked-use' : spent.has(presented) ? 'reused' : 'unknown';
    options.onEvent?.({ kind, email: chain?.account.email, presented, ...(kind === 'rotated' && { issued: chain!.current }) });
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    await held;
    reply(...answer);
  });
  const listening = await listenLoopback(server);

  return {
    url: listening.url,
    accounts,
    async record(email) {
      const chain = chainOf(email);
      return { auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { ...(await mint(chain)), account_id: chain.account.accountId }, last_refresh: new Date().toISOString() };
    },
    live: (email) => (chainOf(email).revoked ? undefined : chainOf(email).current),
    isRevoked: (email) => chainOf(email).revoked,
    get rotations() {
      return counts.rotations;
    },
    get reuseAnswers() {
      return counts.reuse;
    },
    get revokedAnswers() {
      return counts.revokedUse;
    },
    get revocations() {
      return counts.revocations;
    },
    get refreshRequests() {
      return counts.refreshes;
    },
    refreshArrived: (n) => (counts.refreshes >= n ? Promise.resolve() : new Promise((resolve) => arrivals.push({ n, resolve }))),
    holdRefreshes: () => hold((gate) => (held = gate)),
    holdRevocations: () => hold((gate) => (revokesHeld = gate)),
    pauseDecisions: () => hold((gate) => (decisionsPaused = gate)),
    revocationArrived: (n) => (revokeRequests >= n ? Promise.resolve() : new Promise((resolve) => revokeArrivals.push({ n, resolve }))),
    close() {
      closed = true;
      counts = { ...counts };
      return listening.close();
    },
  };
}
