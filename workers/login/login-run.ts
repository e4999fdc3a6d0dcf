/**
 * What every sign-in running in the login worker shares: its id, its abort controller, how it
 * reports its ending to the main thread, and how it stores the tokens it obtained.
 */
import { chatgptRecord } from '../../src/auth/store/record.js';
import { openCredentialStore } from '../../src/auth/store/store.js';
import type { StoreOptions } from '../../src/protocol/storage.js';
import { keepReplacedAccount } from '../shared/account-sessions.js';
import { tryReadTokenClaims } from '../shared/jwt-claims.js';
import { workspaceRefusal } from '../../src/protocol/login-restrictions.js';
import { createLogger } from '../../src/log.js';
import type { LoginErrorCode } from '../../src/protocol/auth-wire.js';
import type { LoginWorkerEvent } from '../../src/protocol/login.js';
import type { ExchangedTokens } from './token-exchange.js';

/**
 * 0.171's refusal text when a sign-in came back with a workspace (the id_token's
 * chatgpt_account_id) that forced_chatgpt_workspace_id does not allow; undefined when allowed.
 */
export function workspaceRefused(forcedWorkspaceIds: readonly string[] | undefined, idToken: string): string | undefined {
  if (!forcedWorkspaceIds) return undefined;
  const workspace = tryReadTokenClaims(idToken)?.accountId;
  return workspace && forcedWorkspaceIds.includes(workspace) ? undefined : workspaceRefusal(forcedWorkspaceIds);
}

export type LoginEnding = { success: true } | { success: false; errorCode: LoginErrorCode; error: string };

export abstract class LoginRun<Request extends { loginId: string; store: StoreOptions }> {
  /** Sticky: once aborted, every exchange in flight stops and no later step runs. */
  protected readonly abort = new AbortController();
  private readonly closedListeners: (() => void)[] = [];

  constructor(
    protected readonly request: Request,
    private readonly sendEvent: (event: LoginWorkerEvent) => Promise<void>,
  ) {}

  /**
   * Reports to the main thread. A failure there (or a main thread that is going away) must not
   * reject into the timers and request handlers that call this: an unhandled rejection would
   * end the worker thread and every login in it.
   */
  protected async emit(event: LoginWorkerEvent): Promise<void> {
    try {
      await this.sendEvent(event);
    } catch (error) {
      createLogger('codex-auth-mcp:login-worker').error({ err: (error as Error)?.message, event: event.type }, 'could not report a login event');
    }
  }

  get loginId(): string {
    return this.request.loginId;
  }

  onClosed(listener: () => void): void {
    this.closedListeners.push(listener);
  }

  abstract cancel(reason: 'cancelled' | 'superseded'): Promise<void>;

  /**
   * Resolves once this run does no more work (no exchange, lock wait or write in flight), so a
   * worker that is being stopped is not terminated in the middle of one.
   */
  abstract drained(): Promise<void>;

  protected notifyClosed(): void {
    for (const listener of this.closedListeners) listener();
  }

  protected emitEnded(ending: LoginEnding): Promise<void> {
    return this.emit({
      type: 'ended',
      loginId: this.loginId,
      success: ending.success,
      ...(!ending.success && { error: ending.error, errorCode: ending.errorCode }),
    });
  }

  /**
   * Stores a fresh record for this sign-in (a previous account moves to the inactive sessions,
   * workers/shared/account-sessions.ts), telling the
   * main thread first so it does not mistake the write for another process's change, then ends
   * the run through `conclude` with the outcome.
   *
   * The write is the commit point. A cancel (or timeout) that arrived before it, even while this
   * run waited for the cross-process lock, wins: nothing is written and the cancel's own ending
   * stands. Once the write has begun the sign-in can no longer be cancelled; a cancel arriving
   * then waits (`settledByCommit`) and the run ends as the write ends, so a client is never told
   * "cancelled" about tokens that were in fact stored.
   */
  protected async persistAndConclude(
    tokens: ExchangedTokens,
    apiKey: string | null,
    conclude: (outcome: { ok: true } | { ok: false; message: string }) => Promise<void>,
  ): Promise<void> {
    await this.emit({ type: 'persisting', loginId: this.loginId });
    const accountId = tryReadTokenClaims(tokens.id_token)?.accountId ?? null;
    const store = openCredentialStore(this.request.store);
    let settle: (() => void) | undefined;
    let outcome: { ok: true } | { ok: false; message: string } | 'aborted';
    try {
      outcome = await store.withLock(async () => {
        if (this.abort.signal.aborted) return 'aborted' as const;
        this.committing = new Promise<void>((resolve) => (settle = resolve));
        const record = chatgptRecord({ ...tokens, account_id: accountId }, apiKey);
        // Another account signed in until now stays signed in, as an inactive session.
        const warning = await keepReplacedAccount(this.request.store, store, record);
        if (warning) createLogger('codex-auth-mcp:login-worker').warn({ loginId: this.request.loginId }, warning);
        await store.save(record);
        return { ok: true } as const;
      });
    } catch (error) {
      outcome = { ok: false, message: (error as Error).message };
    }
    try {
      // Aborted before the write: the cancel has reported the ending already.
      if (outcome !== 'aborted' && (settle || !this.abort.signal.aborted)) await conclude(outcome);
    } finally {
      settle?.();
    }
  }

  /** Set once the write of the tokens has begun; settles after the run has concluded. */
  private committing: Promise<void> | undefined;

  /** True (after waiting for the run to conclude) when the tokens were already being written. */
  protected async settledByCommit(): Promise<boolean> {
    if (!this.committing) return false;
    await this.committing;
    return true;
  }
}
