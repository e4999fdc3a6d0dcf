/**
 * The token service's refresh, safe across processes that share one CODEX_HOME. Each attempt
 * runs under the auth.json lock: re-read the record; adopt tokens a sibling already rotated (same
 * account) instead of spending the refresh token twice; refuse another account's; otherwise POST,
 * then write atomically. The lock is released between attempts (so a login or a sibling never
 * waits longer than one attempt), and the record is read again after each wait. A failed refresh
 * never deletes or damages the stored record.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AuthSnapshot, RefreshFailureCode, RefreshOutcome } from '../../src/protocol/snapshot.js';
import type { AuthRecord, StoredAuth } from '../../src/auth/store/record.js';
import { openCredentialStore, type CredentialStore } from '../../src/auth/store/store.js';
import { tryReadTokenClaims } from '../shared/jwt-claims.js';
import { RefreshControl } from '../../src/protocol/refresh-control.js';
import { ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_POLICY, MAX_RETRY_AFTER_MS } from '../../src/protocol/refresh-policy.js';
import { attemptRefresh, backoff, REFRESH_MESSAGES, type RefreshedTokens } from './refresh-request.js';
import { needsRefresh, resolveSnapshot } from './resolve-snapshot.js';
import { isForbidden } from '../../src/protocol/login-restrictions.js';
import type { RefreshTask } from '../../src/protocol/token-service-tasks.js';

/** What one attempt under the lock ended with: a final outcome, or a transient failure to retry. */
type Step =
  | { kind: 'done'; outcome: RefreshOutcome }
  | { kind: 'retry'; outcome: RefreshOutcome & { ok: false }; retryAfterMs?: number | undefined; fingerprint: string }
  | { kind: 'reused'; outcome: RefreshOutcome & { ok: false }; stored: StoredAuth & { kind: 'present' }; current: AuthSnapshot };

/**
 * After `refresh_token_reused`, how often (and how far apart) to look again for the tokens of
 * whoever redeemed it first. Codex 0.171 sends its refresh without a lock and only then waits
 * for `auth.lock` to write: while we held the lock it could not, so we let go and look again.
 */
const SIBLING_WRITE_LOOKS = 4;
const SIBLING_WRITE_PAUSE_MS = 25;

export interface RefreshDeps {
  readonly sleep?: (ms: number) => Promise<unknown>;
  readonly random?: () => number;
}

export async function runRefresh(task: RefreshTask, deps: RefreshDeps = {}): Promise<RefreshOutcome> {
  const store = openCredentialStore(task.store);
  const control = task.control ? new RefreshControl(task.control) : undefined;
  const policy = { ...DEFAULT_RETRY_POLICY, ...(task.baseDelayMs !== undefined && { baseDelayMs: task.baseDelayMs }) };
  const sleep = deps.sleep ?? (control ? (ms: number) => control.pause(ms) : delay);
  const snapshotOf = (stored: StoredAuth) => resolveSnapshot(stored, { storage: store.kind, storageWarning: store.warning, restrictions: task.restrictions });
  const attempt: AttemptContext = { task, store, control, snapshotOf, basedOn: task.basedOn };

  for (let retry = 0; ; retry++) {
    let step: Step;
    try {
      step = await store.withLock(() => refreshStep(attempt));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        return failure('refresh_unavailable', `Token refresh failed: ${(error as Error).message}.`, false, snapshotOf(await safeLoad(store)));
      }
      // A sibling (or a stuck writer) kept the lock for the whole wait: a transient failure.
      step = {
        kind: 'retry',
        outcome: failure('refresh_unavailable', 'Token refresh failed: another process kept auth.json locked.', false, snapshotOf(await safeLoad(store))),
        fingerprint: attempt.basedOn,
      };
    }
    if (step.kind === 'done') return step.outcome;
    if (step.kind === 'reused') return awaitSiblingWrite(store, step, sleep, snapshotOf);
    const { outcome, retryAfterMs } = step;
    if (retry >= policy.retries || (retryAfterMs ?? 0) > MAX_RETRY_AFTER_MS) {
      // Out of attempts, or the server asked for a long pause: the coordinator tries again later.
      return retryAfterMs === undefined ? outcome : { ...outcome, retryAfterMs };
    }
    // The next attempt retries the same record (still forced); a changed one is judged afresh.
    attempt.basedOn = step.fingerprint;
    await sleep(backoff(retry, retryAfterMs, policy, deps.random));
  }
}

interface AttemptContext {
  readonly task: RefreshTask;
  readonly store: CredentialStore;
  readonly control: RefreshControl | undefined;
  readonly snapshotOf: (stored: StoredAuth) => AuthSnapshot;
  basedOn: string;
}

/** One attempt, holding the lock. */
async function refreshStep({ task, store, control, snapshotOf, basedOn }: AttemptContext): Promise<Step> {
  const stored = await store.load();
  const current = snapshotOf(stored);
  const done = (outcome: RefreshOutcome): Step => ({ kind: 'done', outcome });
  if (stored.kind !== 'present' || !stored.record.tokens || current.authMethod !== 'chatgpt') {
    // Tokens that forced_login_method / forced_chatgpt_workspace_id forbid are never refreshed: the failure says why.
    const why = current.authError && isForbidden(current.authError.code) ? current.authError.message : 'There are no ChatGPT tokens to refresh (signed out, or signed in with an API key).';
    return done(failure('not_chatgpt', why, true, current));
  }
  if (task.accountId && current.account?.accountId && current.account.accountId !== task.accountId) {
    return done(failure('account_changed', REFRESH_MESSAGES.account_changed, true, current));
  }
  const changed = stored.fingerprint !== basedOn;
  if (!needsRefresh(current) && (changed || !task.force)) {
    // Another process rotated the tokens already (or they are simply not due): no network.
    return done({ ok: true, via: changed ? 'adopted' : 'not_due', snapshot: current });
  }

  if (control && !control.beginSend()) {
    return done(failure('refresh_stopped', 'Token refresh stopped: the server is shutting down.', false, current));
  }
  try {
    const result = await attemptRefresh(task.issuer, stored.record.tokens.refresh_token, task.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS);
    if (result.ok) return done(await commit(store, control, stored, result.tokens, snapshotOf));
    if (!result.permanent) {
      return { kind: 'retry', outcome: failure(result.code, result.message, false, current), retryAfterMs: result.retryAfterMs, fingerprint: stored.fingerprint };
    }
    // One guarded re-read: a process outside our lock (an older codex) may have won the race.
    const again = await store.load();
    const sibling = snapshotOf(again);
    if (again.kind === 'present' && again.fingerprint !== stored.fingerprint && sibling.authMethod === 'chatgpt' && sibling.account?.accountId === current.account?.accountId && !needsRefresh(sibling)) {
      return done({ ok: true, via: 'adopted', snapshot: sibling });
    }
    const outcome = failure(result.code, result.message, true, current);
    return result.code === 'refresh_token_reused' ? { kind: 'reused', outcome, stored, current } : done(outcome);
  } finally {
    control?.endSend();
  }
}

/** Outside the lock: a writer that was waiting for it gets in; its newer tokens are adopted, never refreshed over. */
async function awaitSiblingWrite(store: CredentialStore, step: Step & { kind: 'reused' }, sleep: (ms: number) => Promise<unknown>, snapshotOf: (stored: StoredAuth) => AuthSnapshot): Promise<RefreshOutcome> {
  for (let look = 0; look < SIBLING_WRITE_LOOKS; look++) {
    await sleep(SIBLING_WRITE_PAUSE_MS);
    // Taking the lock waits out a writer that holds it right now.
    const again = await store.withLock(() => store.load(), { maxWaitMs: 2_000, onTimeout: 'proceed' }).catch(() => undefined);
    if (again?.kind !== 'present' || again.fingerprint === step.stored.fingerprint) continue;
    const sibling = snapshotOf(again);
    if (sibling.authMethod === 'chatgpt' && sibling.account?.accountId === step.current.account?.accountId && !needsRefresh(sibling)) {
      return { ok: true, via: 'adopted', snapshot: sibling };
    }
    break; // changed into something else (a logout, another account): the failure stands, judged afresh by the caller
  }
  return step.outcome;
}

/** Writes refreshed tokens, unless the record changed meanwhile or a logout of ours superseded the refresh. */
async function commit(
  store: CredentialStore,
  control: RefreshControl | undefined,
  stored: StoredAuth & { kind: 'present' },
  tokens: RefreshedTokens,
  snapshotOf: (stored: StoredAuth) => AuthSnapshot,
): Promise<RefreshOutcome> {
  const latest = await store.load();
  const discarded = 'The stored credentials changed while refreshing (a logout or a new sign-in); the refreshed tokens were discarded.';
  // Writers that gave up waiting for the lock (logout does, after a second) may have got in.
  if (latest.kind !== 'present' || latest.fingerprint !== stored.fingerprint) return failure('credentials_changed', discarded, false, snapshotOf(latest));
  if (control && !control.beginCommit()) return failure('credentials_changed', discarded, false, snapshotOf(latest));
  const record = mergeRefreshed(stored.record, tokens);
  const saved = await saveWithRetries(store, record);
  if (saved !== true) {
    // The stored refresh token is spent and these are the only copy: hand them to the main
    // thread, which serves them and keeps trying to write them (RefreshCoordinator).
    const unsaved = snapshotOf({ kind: 'present', record, fingerprint: `unsaved:${stored.fingerprint}` });
    const message = `The tokens were refreshed but could not be saved (${saved}); they are kept in memory and saving is retried.`;
    return { ...failure('persist_failed', message, false, unsaved), unsaved: { record, basedOn: stored.fingerprint } };
  }
  return { ok: true, via: 'network', snapshot: snapshotOf(await store.load()) };
}

/** Pauses between the writes of rotated tokens, while the lock is held (a full disk may clear). */
const SAVE_RETRY_PAUSES_MS = [50, 250];

/** True once written; else why the last try failed (an errno and its text, never the record). */
function saveWithRetries(store: CredentialStore, record: AuthRecord): Promise<true | string> {
  return writeWithRetries(() => store.save(record, { irreplaceable: true }));
}

/** Any write of rotated tokens (auth.json, the account store), tried three times under the lock held. */
export async function writeWithRetries(write: () => Promise<void>): Promise<true | string> {
  for (let attempt = 0; ; attempt++) {
    try {
      await write();
      return true;
    } catch (error) {
      if (attempt >= SAVE_RETRY_PAUSES_MS.length) return describeWriteError(error);
      await delay(SAVE_RETRY_PAUSES_MS[attempt]);
    }
  }
}

export function describeWriteError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ? `${code}: ${message.replace(/^[A-Z]+: /, '').replace(/,.*$/, '')}` : String(message ?? error).slice(0, 200);
}

/** New tokens over the old record: fields the issuer did not return keep their stored values. */
export function mergeRefreshed(record: AuthRecord, tokens: RefreshedTokens, now = new Date()): AuthRecord {
  const previous = record.tokens!;
  const idToken = tokens.id_token ?? previous.id_token;
  // The record keeps its own auth_mode, present or absent, as 0.171's refresh does (a sign-in
  // writes it; a refresh only replaces the tokens), so the bytes either of us writes are the same.
  return {
    ...record,
    tokens: {
      ...previous,
      ...(tokens.id_token && { id_token: tokens.id_token }),
      ...(tokens.access_token && { access_token: tokens.access_token }),
      ...(tokens.refresh_token && { refresh_token: tokens.refresh_token }),
      // As codex: a stored account_id is kept, not recomputed from the new id_token.
      account_id: previous.account_id ?? tryReadTokenClaims(idToken)?.accountId ?? null,
    },
    last_refresh: now.toISOString(),
  };
}

async function safeLoad(store: CredentialStore): Promise<StoredAuth> {
  try {
    return await store.load();
  } catch (error) {
    return { kind: 'unusable', reason: (error as Error).message, fingerprint: 'error' };
  }
}

function failure(code: RefreshFailureCode, message: string, permanent: boolean, snapshot: AuthSnapshot): RefreshOutcome & { ok: false } {
  return { ok: false, code, message, permanent, snapshot };
}
