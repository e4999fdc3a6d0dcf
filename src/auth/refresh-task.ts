/**
 * The token service's refresh, safe across processes that share one CODEX_HOME: under the
 * auth.json lock, re-read the record; adopt tokens a sibling already rotated (same account)
 * instead of spending a refresh token twice; refuse a different account; otherwise refresh and
 * write atomically. A failed refresh never deletes or damages the stored record.
 */
import type { AuthRecord, StoredAuth } from './auth-record.js';
import { openCredentialStore } from './credential-store.js';
import { tryReadTokenClaims } from './jwt-claims.js';
import { DEFAULT_REFRESH_POLICY, requestRefresh } from './refresh-request.js';
import { needsRefresh, resolveSnapshot } from './resolve-snapshot.js';
import type { RefreshTask } from './token-service-tasks.js';
import type { AuthSnapshot, RefreshFailureCode, RefreshOutcome } from '../protocol/snapshot.js';

export async function runRefresh(task: RefreshTask): Promise<RefreshOutcome> {
  const store = openCredentialStore(task.store);
  const snapshotOf = (stored: StoredAuth) => resolveSnapshot(stored, { ...task.resolve, storage: store.kind, storageWarning: store.warning });

  return store.withLock(async () => {
    const stored = await store.load();
    const current = snapshotOf(stored);
    if (stored.kind !== 'present' || !stored.record.tokens || current.authMethod !== 'chatgpt') {
      return failure('not_chatgpt', 'There are no ChatGPT tokens to refresh.', true, current);
    }
    if (task.accountId && current.account?.accountId && current.account.accountId !== task.accountId) {
      return failure('account_changed', 'The stored credentials now belong to another account; they were not adopted.', true, current);
    }
    const changedSinceCaller = stored.fingerprint !== task.basedOn;
    if ((changedSinceCaller || !task.force) && !needsRefresh(current)) {
      // Another process rotated the tokens (or they are simply not due): use them, no network.
      return { ok: true, via: 'adopted', snapshot: current };
    }

    const policy = { ...DEFAULT_REFRESH_POLICY, ...(task.attemptTimeoutMs && { attemptTimeoutMs: task.attemptTimeoutMs }) };
    const result = await requestRefresh(task.issuer, stored.record.tokens.refresh_token, policy);
    if (!result.ok) {
      if (result.permanent) {
        // One guarded re-read: a process outside our lock (an older codex) may have won the race.
        const again = await store.load();
        const sibling = snapshotOf(again);
        if (again.kind === 'present' && again.fingerprint !== stored.fingerprint && sibling.account?.accountId === current.account?.accountId && sibling.authMethod === 'chatgpt') {
          return { ok: true, via: 'adopted', snapshot: sibling };
        }
      }
      return failure(result.code, result.message, result.permanent, current);
    }

    // Compare-and-swap: a logout (or another writer) that got in meanwhile wins.
    const latest = await store.load();
    if (latest.kind !== 'present' || latest.fingerprint !== stored.fingerprint) {
      return failure('refresh_unavailable', 'The stored credentials changed while refreshing; the new tokens were discarded.', false, snapshotOf(latest));
    }
    await store.save(mergeRefreshed(stored.record, result.tokens));
    return { ok: true, via: 'network', snapshot: snapshotOf(await store.load()) };
  });
}

/** New tokens over the old record: fields the issuer did not return keep their stored values. */
export function mergeRefreshed(record: AuthRecord, tokens: { id_token?: string; access_token?: string; refresh_token?: string }): AuthRecord {
  const previous = record.tokens!;
  const idToken = tokens.id_token ?? previous.id_token;
  return {
    ...record,
    tokens: {
      ...previous,
      ...tokens,
      account_id: previous.account_id ?? tryReadTokenClaims(idToken)?.accountId ?? null,
    },
    last_refresh: new Date().toISOString(),
  };
}

function failure(code: RefreshFailureCode, message: string, permanent: boolean, snapshot: AuthSnapshot): RefreshOutcome {
  return { ok: false, code, message, permanent, snapshot };
}
