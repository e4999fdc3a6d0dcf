/**
 * The several-accounts load (issue 26, "done when"): 3 of our servers on one CODEX_HOME with
 * several accounts, each server taking random turns — a forced refresh of the active account, a
 * switch to another account, now and then a logout (of half the accounts at most) — while one of them is SIGKILLed and started
 * again every so often, against a strict rotating issuer (dev/fakes/accounts-issuer.ts: any
 * reuse of a refresh token gets 401). Every start runs the background pass over inactive
 * accounts with `account_sessions_refresh_after_secs=0`, so inactive refreshes race the rest.
 *
 * Kills land anywhere in a server's work except between a rotation at the issuer and its write
 * (which no client survives): the issuer pauses its decisions while a kill is made.
 *
 * At the end (every server stopped by closing its stdin) it judges: each account is either live
 * on disk (its current refresh token in auth.json or the account store) or revoked; the issuer
 * saw no reuse. test/accounts-chaos.test.ts asserts that; bench/suites/accounts-chaos.ts reports it.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { accountsNamed, startAccountsIssuer } from '../../dev/fakes/accounts-issuer.js';
import type { RpcClient } from '../../dev/rpc-client.js';
import { lostAccounts, seedAccounts } from './accounts-home.js';
import { spawnServer } from './spawn-server.js';
import { tempHome } from './temp-home.js';

export interface ChaosOptions {
  readonly durationMs: number;
  readonly servers?: number;
  readonly accounts?: number;
  /** A SIGKILL of one server (then a new start) this often. */
  readonly killEveryMs?: number;
  readonly seed?: number;
}

export interface ChaosFigures {
  readonly durationMs: number;
  readonly servers: number;
  readonly accounts: number;
  readonly refreshes: number;
  readonly switches: number;
  readonly logouts: number;
  readonly kills: number;
  /** Requests to the issuer: refreshes (all kinds) and the rotations among them. */
  readonly issuerRefreshes: number;
  readonly rotations: number;
  readonly revocations: number;
  /** 401 refresh_token_reused answers: each one a rotation somebody lost. */
  readonly reuseAnswers: number;
  /** Accounts still live at the issuer whose live refresh token is nowhere on disk. */
  readonly lost: readonly string[];
  readonly revoked: number;
  /** Requests that failed (a server killed under them, a refusal): expected, counted. */
  readonly failedRequests: number;
  /** Kills that first waited for a rotation to reach the disk, and kills made after 5 s of waiting in vain (a token nowhere). */
  readonly killsAfterWait: number;
  readonly killsWithTokensMissing: number;
}

/** mulberry32: the same seed gives the same choices (timing still varies). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runAccountsChaos(options: ChaosOptions): Promise<ChaosFigures> {
  const serverCount = options.servers ?? 3;
  const accountCount = options.accounts ?? 6;
  const killEveryMs = options.killEveryMs ?? 1_500;
  /** Logouts revoke for good (no sign-in here brings an account back): at most half of them go. */
  const maxLogouts = Math.floor(accountCount / 2);
  const rand = random(options.seed ?? 26);
  const t0 = Date.now();
  const trace = process.env['CHAOS_TRACE'] ? (line: string) => process.stderr.write(`${Date.now() - t0} ${line}\n`) : undefined;
  const issuer = await startAccountsIssuer(accountsNamed(accountCount), trace ? { onEvent: (e) => trace(`issuer ${e.kind} ${e.email} ${e.presented}${e.issued ? ` -> ${e.issued}` : ''}`) } : {});
  const home = await tempHome();
  const counts = { refreshes: 0, switches: 0, logouts: 0, kills: 0, failed: 0, waited: 0, missing: 0 };
  const clients: RpcClient<ChildProcessWithoutNullStreams>[] = [];
  const start = async (slot: number) => {
    const client = spawnServer({
      codexHome: home.path,
      args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0', '-c', 'account_sessions_refresh_after_secs=0'],
      env: { CODEX_AUTH_MCP_LOG: trace ? 'info' : 'warn' },
    });
    if (trace) client.child.stderr.on('data', (chunk: Buffer) => trace(`server ${slot}: ${chunk.toString().trim().slice(0, 300)}`));
    clients[slot] = client;
    await client.initialize();
  };
  try {
    await seedAccounts(home.path, issuer, issuer.accounts[0]!.email, issuer.accounts.slice(1).map((a) => a.email));
    await Promise.all(Array.from({ length: serverCount }, (_, slot) => start(slot)));
    const deadline = Date.now() + options.durationMs;

    const turn = async (slot: number) => {
      const client = clients[slot]!;
      const roll = rand();
      try {
        if (roll < 0.5) {
          counts.refreshes++;
          await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
        } else if (roll < 0.99 || counts.logouts >= maxLogouts) {
          const list = await client.call('accountSession/list', {});
          const others = list.sessions.filter((s: { isActive: boolean; needsSignIn?: boolean }) => !s.isActive && !s.needsSignIn);
          if (others.length === 0) return;
          const target = others[Math.floor(rand() * others.length)];
          counts.switches++;
          trace?.(`slot ${slot} switch to ${target.email}`);
          await client.call('accountSession/switch', { sessionId: target.sessionId, accountId: target.selectedWorkspaceAccountId });
        } else {
          counts.logouts++;
          trace?.(`slot ${slot} logout`);
          await client.call('account/logout', {});
        }
      } catch {
        counts.failed++;
      }
    };
    const worker = async (slot: number) => {
      while (Date.now() < deadline) await turn(slot);
    };
    const killer = async () => {
      while (Date.now() + killEveryMs < deadline) {
        await new Promise((resolve) => setTimeout(resolve, killEveryMs * (0.5 + rand())));
        const slot = Math.floor(rand() * serverCount);
        const victim = clients[slot]!;
        // A kill between the issuer's rotation and its write loses that rotation in any client
        // (Codex too): the issuer takes up no refresh while every rotation so far reaches the
        // disk and the kill lands. Anywhere else — mid-switch, mid-write — is fair game.
        const resume = issuer.pauseDecisions();
        try {
          const settleBy = Date.now() + 5_000;
          let waited = false;
          while ((await lostAccounts(home.path, issuer)).length > 0) {
            waited = true;
            if (Date.now() > settleBy) {
              counts.missing++;
              break;
            }
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (waited) counts.waited++;
          trace?.(`kill slot ${slot}`);
          victim.kill();
          await victim.exited;
        } finally {
          resume();
        }
        counts.kills++;
        await start(slot);
      }
    };
    await Promise.all([...Array.from({ length: serverCount }, (_, slot) => worker(slot)), killer()]);
    // A graceful end: each server lets its refreshes finish and writes what it holds.
    await Promise.all(clients.map((client) => client.close(30_000)));
    const lost = await lostAccounts(home.path, issuer);
    return {
      durationMs: options.durationMs,
      servers: serverCount,
      accounts: accountCount,
      refreshes: counts.refreshes,
      switches: counts.switches,
      logouts: counts.logouts,
      kills: counts.kills,
      issuerRefreshes: issuer.refreshRequests,
      rotations: issuer.rotations,
      revocations: issuer.revocations,
      reuseAnswers: issuer.reuseAnswers,
      lost,
      revoked: issuer.accounts.filter((a) => issuer.isRevoked(a.email)).length,
      failedRequests: counts.failed,
      killsAfterWait: counts.waited,
      killsWithTokensMissing: counts.missing,
    };
  } finally {
    for (const client of clients) client?.kill();
    await Promise.all(clients.map((client) => client?.exited));
    await issuer.close();
    await home.remove();
  }
}

