/**
 * The token service's account-session tasks: list, switch, remove, and the background refresh of
 * inactive sessions. Every change runs under the store's lock (Codex's auth.lock and
 * auth.json.lock), so it serialises with sign-ins, refreshes and other processes' switches; the
 * vault is always written before the store, so a crash between the two leaves a copy of every
 * token set somewhere. Listing never carries a token (workers/shared/account-sessions.ts).
 */
import { RefreshControl } from '../../src/protocol/refresh-control.js';
import type { AuthRecord } from '../../src/auth/store/record.js';
import type { SessionVault, Vault } from '../../src/auth/store/session-vault.js';
import { openCredentialStore, openSessionVault, type CredentialStore } from '../../src/auth/store/store.js';
import { ATTEMPT_TIMEOUT_MS } from '../../src/protocol/refresh-policy.js';
import type {
  ListSessionsTask,
  RefreshInactiveOutcome,
  RefreshInactiveTask,
  RemoveSessionTask,
  SessionFailureCode,
  SessionOutcome,
  SwitchSessionTask,
} from '../../src/protocol/token-service-tasks.js';
import { activeChatGptRecord, identityOf, listSessions, upsertSession } from '../shared/account-sessions.js';
import { attemptRefresh } from './refresh-request.js';
import { mergeRefreshed, writeWithRetries } from './refresh-task.js';
import { needsRefresh, resolveSnapshot } from './resolve-snapshot.js';
import { forbiddenBecause, type LoginRestrictions } from '../../src/protocol/login-restrictions.js';
import { tryReadTokenClaims } from '../shared/jwt-claims.js';

/** Why the restrictions forbid a session's tokens (0.171's rule: the stored account_id, else the id_token's claim). */
function sessionForbidden(restrictions: LoginRestrictions | undefined, record: AuthRecord) {
  const workspaceId = record.tokens?.account_id ?? (record.tokens ? tryReadTokenClaims(record.tokens.id_token)?.accountId : undefined) ?? undefined;
  return forbiddenBecause(restrictions, { method: 'chatgpt', workspaceId });
}

const failed = (code: SessionFailureCode, message: string, extra: { email?: string | null; workspaceId?: string | null } = {}): SessionOutcome => ({ ok: false, code, message, ...extra });

function openBoth(task: ListSessionsTask) {
  return { store: openCredentialStore(task.store), vault: openSessionVault(task.store) };
}

export async function runListSessions(task: ListSessionsTask): Promise<SessionOutcome> {
  const { store, vault } = openBoth(task);
  try {
    const [contents, stored] = await Promise.all([vault.read(), store.load()]);
    return { ok: true, changed: false, sessions: listSessions(contents, activeChatGptRecord(stored)) };
  } catch (error) {
    return failed('vault_unavailable', (error as Error).message);
  }
}

/**
 * Makes another session the active one, in one step under the lock: the target is refreshed first
 * if it is due (its rotated tokens go to the vault at once), the active tokens as they are now
 * (perhaps rotated since they were last stored) go back to their session, then the target is
 * written to the store.
 */
export async function runSwitchSession(task: SwitchSessionTask): Promise<SessionOutcome> {
  const { store, vault } = openBoth(task);
  try {
    return await store.withLock(async () => {
      const contents = await vault.read();
      const stored = await store.load();
      const active = activeChatGptRecord(stored);
      if (!active && stored.kind === 'present' && stored.record.OPENAI_API_KEY) {
        return failed('api_key_in_force', 'signed in with an API key, which is not an account session; log out first, then switch');
      }
      const activeIdentity = active && identityOf(active);
      if (activeIdentity?.sessionId === task.sessionId) {
        if (activeIdentity.accountId && activeIdentity.accountId !== task.accountId) return workspaceSignIn(activeIdentity.email, task.accountId);
        return { ok: true, changed: false, sessions: listSessions(contents, active) };
      }
      const target = contents.sessions.find((session) => session.sessionId === task.sessionId && session.record);
      if (!target) return failed('session_not_found', `no signed-in account has the session id ${task.sessionId}`);
      // Never switched to: it would be written as the active credential and then not be in force.
      const forbidden = sessionForbidden(task.restrictions, target.record!);
      if (forbidden) return failed('forbidden_by_config', `cannot switch to ${target.email ?? 'this account'}: ${forbidden.message.replace(/^Not signed in: /, '')}`);
      const targetIdentity = identityOf(target.record!);
      if (targetIdentity?.accountId && targetIdentity.accountId !== task.accountId) return workspaceSignIn(targetIdentity.email, task.accountId);
      const signInAgain = failed('session_needs_sign_in', `the session of ${target.email ?? 'this account'} can no longer be refreshed (its refresh token was refused); it needs a new sign-in`, { email: target.email, workspaceId: task.accountId });
      if (target.needsSignIn) return signInAgain;

      let record = target.record!;
      const snapshot = resolveSnapshot({ kind: 'present', record, fingerprint: 'vault' }, { storage: store.kind });
      if (needsRefresh(snapshot)) {
        const result = await attemptRefresh(task.issuer, record.tokens!.refresh_token, task.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS);
        if (result.ok) {
          const spent = record.tokens!.refresh_token;
          record = mergeRefreshed(record, result.tokens);
          target.record = record;
          // The old refresh token is spent: the new one is written before anything else, or
          // handed to the main thread, which holds it and keeps writing it.
          const saved = await writeWithRetries(() => vault.write(contents));
          if (saved !== true) {
            return { ...failed('vault_unavailable', `the switch did not happen: the account's refreshed tokens could not be stored (${saved}); they are kept in memory and saving is retried`), unsaved: { sessionId: target.sessionId, record, basedOn: spent } };
          }
        } else if (result.permanent) {
          target.needsSignIn = true;
          await vault.write(contents);
          return signInAgain;
        } else if ((snapshot.accessTokenExpiresAt ?? 0) <= Date.now()) {
          return failed('refresh_unavailable', `the session of ${target.email ?? 'this account'} is due a refresh that failed (${result.message}); nothing was changed, try again`);
        }
      }
      if (active && activeIdentity) upsertSession(contents, activeIdentity, active);
      // Both token sets are in the vault before the store changes.
      await vault.write(contents);
      await store.save(record);
      if (targetIdentity) upsertSession(contents, targetIdentity, null);
      else target.record = null;
      await vault.write(contents);
      return { ok: true, changed: true, sessions: listSessions(contents, record) };
    });
  } catch (error) {
    return failed('vault_unavailable', `the switch did not happen: ${(error as Error).message}`);
  }
}

function workspaceSignIn(email: string | null, workspaceId: string): SessionOutcome {
  return failed(
    'workspace_needs_sign_in',
    `the workspace ${workspaceId} needs a sign-in of its own (the issuer gives one set of tokens per workspace; Codex 0.171 asks for it with allowed_workspace_id)`,
    { email, workspaceId },
  );
}

/**
 * Forgets an inactive session: its tokens are deleted here and, when the task names an issuer,
 * revoked there afterwards (best effort, as a logout: the removal stands when the issuer cannot be
 * reached). The active one is the caller's logout.
 */
export async function runRemoveSession(task: RemoveSessionTask): Promise<SessionOutcome> {
  const { store, vault } = openBoth(task);
  let removed: AuthRecord | null = null;
  let outcome: SessionOutcome;
  try {
    outcome = await store.withLock(async (): Promise<SessionOutcome> => {
      const contents = await vault.read();
      const active = activeChatGptRecord(await store.load());
      if (active && identityOf(active)?.sessionId === task.sessionId) {
        // A copy of the active account left by an interrupted switch goes too (never revoked: its tokens are in force).
        dropSession(contents, task.sessionId);
        await vault.write(contents);
        return { ok: true, changed: true, wasActive: true, sessions: listSessions(contents, active) };
      }
      const session = contents.sessions.find((s) => s.sessionId === task.sessionId && s.record);
      if (!session) return failed('session_not_found', `no signed-in account has the session id ${task.sessionId}`);
      removed = session.record;
      dropSession(contents, task.sessionId);
      await vault.write(contents);
      return { ok: true, changed: true, wasActive: false, sessions: listSessions(contents, active) };
    });
  } catch (error) {
    return failed('vault_unavailable', (error as Error).message);
  }
  const tokens = (removed as AuthRecord | null)?.tokens;
  if (!outcome.ok || !task.revokeAt || !tokens) return outcome;
  // Outside the lock: a slow issuer holds up nobody's refresh.
  const { revokeToken } = await import('./revoke-request.js');
  const revocation = await revokeToken(task.revokeAt, tokens, task.revokeTimeoutMs);
  return revocation.ok ? { ...outcome, revoked: revocation.revoked } : { ...outcome, revoked: false, revokeError: { code: revocation.code, message: revocation.message } };
}

const dropSession = (vault: Vault, sessionId: string) => (vault.sessions = vault.sessions.filter((session) => session.sessionId !== sessionId));

/**
 * Keeps inactive sessions usable: each one whose tokens were last refreshed longer ago than
 * `olderThanMs` is refreshed, one at a time, each under the lock and judged again after taking it
 * (a sibling process may have just done it: then nothing is sent).
 */
export async function runRefreshInactive(task: RefreshInactiveTask): Promise<RefreshInactiveOutcome> {
  const { store, vault } = openBoth(task);
  const control = task.control ? new RefreshControl(task.control) : undefined;
  const outcome: RefreshInactiveOutcome = { refreshed: 0, failed: [] };
  await store.withLock(() => dropActiveCopy(store, vault)).catch(() => undefined);
  const ids = await vault.read().then((contents) => contents.sessions.filter((s) => s.record).map((s) => s.sessionId), () => [] as string[]);
  let stop = false;
  for (const sessionId of ids) {
    if (stop) break;
    try {
      await store.withLock(async () => {
        const contents = await vault.read();
        const session = contents.sessions.find((s) => s.sessionId === sessionId);
        if (!session?.record?.tokens || session.needsSignIn || !isStale(session.record, task.olderThanMs)) return;
        // Never the active identity: its refresh token is the one in the store (a copy here is a crash's leftover).
        const active = activeChatGptRecord(await store.load());
        if (active && identityOf(active)?.sessionId === sessionId) return;
        // A session the restrictions forbid is kept as it is, never refreshed (as the active credential is not).
        if (sessionForbidden(task.restrictions, session.record)) return;
        // Shutdown: nothing more is sent, and a refresh already sent is written (or handed back as
        // unsaved) before the main thread lets this thread go: the issuer rotated on arrival.
        if (control && !control.beginSend()) {
          stop = true;
          return;
        }
        try {
          const spent = session.record.tokens.refresh_token;
          const result = await attemptRefresh(task.issuer, spent, task.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS);
          if (result.ok) {
            session.record = mergeRefreshed(session.record, result.tokens);
            const saved = await writeWithRetries(() => vault.write(contents));
            if (saved === true) outcome.refreshed++;
            else {
              // Counted as held, not refreshed; the pass stops here (the next write would fail too).
              outcome.failed.push({ sessionId, code: 'persist_failed' });
              (outcome.unsaved ??= []).push({ sessionId, record: session.record, basedOn: spent });
              stop = true;
            }
            return;
          }
          outcome.failed.push({ sessionId, code: result.code });
          if (!result.permanent) return;
          session.needsSignIn = true;
          await vault.write(contents);
        } finally {
          control?.endSend();
        }
      });
    } catch (error) {
      outcome.failed.push({ sessionId, code: (error as NodeJS.ErrnoException).code === 'ELOCKED' ? 'locked' : 'vault_unavailable' });
    }
  }
  return outcome;
}

/**
 * Repairs what an interrupted switch leaves (its writes: both token sets into the account store,
 * the target into the store, the target's entry emptied): a copy of the active account's tokens
 * in the account store, which the list hides and which would spend the active refresh token if
 * refreshed. The copy is never newer than the store (a switch writes the store from it; a refresh
 * of the active account writes only the store), so it goes; the entry keeps its metadata.
 * Called holding the lock.
 */
export async function dropActiveCopy(store: CredentialStore, vault: SessionVault): Promise<boolean> {
  const active = activeChatGptRecord(await store.load());
  const identity = active && identityOf(active);
  if (!identity) return false;
  const contents = await vault.read();
  const copy = contents.sessions.find((s) => s.sessionId === identity.sessionId && s.record);
  if (!copy) return false;
  copy.record = null;
  delete copy.needsSignIn;
  await vault.write(contents);
  return true;
}

function isStale(record: AuthRecord, olderThanMs: number, now = Date.now()): boolean {
  const last = record.last_refresh ? Date.parse(record.last_refresh) : Number.NaN;
  return Number.isNaN(last) || now - last >= olderThanMs;
}
