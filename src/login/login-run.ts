/**
 * What every sign-in running in the login worker shares: its id, its abort controller, how it
 * reports its ending to the main thread, and how it stores the tokens it obtained.
 */
import { chatgptRecord } from '../auth/auth-record.js';
import { openCredentialStore, type StoreOptions } from '../auth/credential-store.js';
import { tryReadTokenClaims } from '../auth/jwt-claims.js';
import type { LoginErrorCode } from '../protocol/auth-wire.js';
import type { LoginWorkerEvent } from '../protocol/login.js';
import type { ExchangedTokens } from './token-exchange.js';

export type LoginEnding = { success: true } | { success: false; errorCode: LoginErrorCode; error: string };

export abstract class LoginRun<Request extends { loginId: string; store: StoreOptions }> {
  /** Sticky: once aborted, every exchange in flight stops and no later step runs. */
  protected readonly abort = new AbortController();
  private readonly closedListeners: (() => void)[] = [];

  constructor(
    protected readonly request: Request,
    protected readonly emit: (event: LoginWorkerEvent) => Promise<void>,
  ) {}

  get loginId(): string {
    return this.request.loginId;
  }

  onClosed(listener: () => void): void {
    this.closedListeners.push(listener);
  }

  abstract cancel(reason: 'cancelled' | 'superseded'): Promise<void>;

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
   * Stores a fresh record for this sign-in (nothing of a previous account is kept), telling the
   * main thread first so it does not mistake the write for another process's change.
   */
  protected async persist(tokens: ExchangedTokens, apiKey: string | null): Promise<void> {
    await this.emit({ type: 'persisting', loginId: this.loginId });
    const accountId = tryReadTokenClaims(tokens.id_token)?.accountId ?? null;
    const store = openCredentialStore(this.request.store);
    await store.withLock(() => store.save(chatgptRecord({ ...tokens, account_id: accountId }, apiKey)));
  }
}
