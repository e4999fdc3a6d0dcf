/**
 * The main thread's cached, validated view of the credentials. Status requests are answered from
 * `current` with no worker round trip; the token service rebuilds the snapshot whenever the store
 * changes (our own writes, or another process's: `codex login` in a terminal, a sibling server),
 * unless there is nothing stored to read (nothing-stored.ts).
 *
 * A change of auth method (or of account) made by someone else is announced through `onMethodChange`. Changes we
 * make ourselves go through `mutate`, whose caller announces them itself (after its response).
 */
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { Logger } from '../log.js';
import { nothingStored } from './nothing-stored.js';
import { openCredentialStore } from './store/store.js';
import { TokenServiceUnavailable, type TokenService } from './token-service-client.js';
import type { ValidateTask } from '../protocol/token-service-tasks.js';

/**
 * What an announcement is about: the method in force and, for ChatGPT, whose account and which
 * workspace (another process switching accounts changes these, a refresh does not).
 */
const identityKey = (snapshot: AuthSnapshot) =>
  JSON.stringify([snapshot.authMethod ?? null, snapshot.account?.userId ?? snapshot.account?.email ?? null, snapshot.account?.accountId ?? null]);

export type MethodChangeListener = (snapshot: AuthSnapshot) => void;
export type SnapshotListener = (snapshot: AuthSnapshot, previous: AuthSnapshot | undefined) => void;

/** How long a burst of file events is gathered before one revalidation. */
const SETTLE_MS = 15;

/** Retries of a validation the token service could not take: 1 s, doubling, at most 30 s apart. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export class AuthState {
  private snapshot: AuthSnapshot | undefined;
  /** The method and account last announced (identityKey), so a switch of account is announced as a change of method is. */
  private announced: string | undefined;
  private validating: Promise<AuthSnapshot> | undefined;
  private stale = false;
  private mutations = 0;
  private stopWatching: (() => void) | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = RETRY_FIRST_MS;
  private unverified: string | undefined;
  private closed = false;
  private readonly methodListeners: MethodChangeListener[] = [];
  private readonly snapshotListeners: SnapshotListener[] = [];

  constructor(
    private readonly tokens: TokenService,
    private readonly task: ValidateTask,
    private readonly log: Logger,
  ) {
    this.revalidate().catch(() => undefined);
  }

  get current(): AuthSnapshot | undefined {
    return this.snapshot;
  }

  /** Set while the store may have changed since `current` was validated (the last validation failed). */
  get unverifiedBecause(): string | undefined {
    return this.unverified;
  }

  /**
   * The snapshot once one exists. Before that (the first moments after start-up, or while the
   * token service cannot start a thread) it waits for the validation under way, or starts one,
   * and rejects with that validation's error: a request then fails, the next one tries again.
   */
  get ready(): Promise<AuthSnapshot> {
    return this.snapshot ? Promise.resolve(this.snapshot) : this.revalidate();
  }

  onMethodChange(listener: MethodChangeListener): void {
    this.methodListeners.push(listener);
  }

  onSnapshot(listener: SnapshotListener): void {
    this.snapshotListeners.push(listener);
  }

  /** Starts noticing changes made by other processes (the store's watch: file events, keyring polling). */
  watch(): void {
    if (this.closed || this.stopWatching) return;
    this.stopWatching = openCredentialStore(this.task.store).watch(() => this.scheduleRevalidate());
  }

  /**
   * Runs a change of our own (login, logout, API-key sign-in) and returns the snapshot after it.
   * The caller announces the new method, so it can order the announcement after its response.
   *
   * Undefined means the change was made but could not be validated yet (the token service could
   * not take the task): the retry installs the new snapshot and announces it as any change.
   */
  async mutate(change: () => Promise<void>): Promise<AuthSnapshot | undefined> {
    const mutation = this.beginMutation();
    try {
      await change();
    } catch (error) {
      // Revalidate even when the change failed half-way, so the cache stays true.
      await mutation.finish().catch(() => undefined);
      throw error;
    }
    return mutation.finish().catch((error: unknown) => {
      this.log.warn({ err: String(error) }, 'a change was stored but could not be validated yet; retrying');
      return undefined;
    });
  }

  /**
   * Marks the start of a change of our own that another thread will make (the login worker
   * writing auth.json). Until `finish()`, store events are not announced as outside changes;
   * `finish()` revalidates and returns the snapshot after the change.
   */
  beginMutation(): { finish(): Promise<AuthSnapshot> } {
    this.mutations++;
    let finished: Promise<AuthSnapshot> | undefined;
    return {
      finish: () =>
        (finished ??= this.revalidate()
          .then((snapshot) => {
            this.announced = identityKey(snapshot);
            return snapshot;
          })
          .finally(() => this.mutations--)),
    };
  }

  /** Rebuilds the snapshot from the store; concurrent calls share one pass (plus one more if a change came in meanwhile). */
  revalidate(): Promise<AuthSnapshot> {
    if (this.validating) {
      this.stale = true;
      return this.validating;
    }
    this.validating = this.validateLoop().finally(() => {
      this.validating = undefined;
    });
    return this.validating;
  }

  close(): void {
    this.closed = true;
    this.stopWatching?.();
    clearTimeout(this.settleTimer);
    clearTimeout(this.retryTimer);
  }

  private async validateLoop(): Promise<AuthSnapshot> {
    let snapshot: AuthSnapshot;
    try {
      do {
        this.stale = false;
        snapshot = (await nothingStored(this.task.store)) ?? (await this.tokens.run('validate', this.task));
      } while (this.stale && !this.closed);
    } catch (error) {
      if (error instanceof TokenServiceUnavailable) {
        this.unverified = error.message;
        this.scheduleRetry(error);
      }
      throw error;
    }
    this.retryDelayMs = RETRY_FIRST_MS;
    this.unverified = undefined;
    this.install(snapshot);
    return snapshot;
  }

  /** The cache must catch up with the store even if no request comes: try again, backing off. */
  private scheduleRetry(error: TokenServiceUnavailable): void {
    if (this.closed || this.retryTimer) return;
    this.log.warn({ err: error.message, retryInMs: this.retryDelayMs }, 'could not validate the stored credentials; retrying');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.revalidate().catch(() => undefined);
    }, this.retryDelayMs);
    this.retryTimer.unref();
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
  }

  private install(snapshot: AuthSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    if (previous === undefined) this.announced = identityKey(snapshot);
    for (const listener of this.snapshotListeners) listener(snapshot, previous);
    if (this.mutations === 0 && previous !== undefined && identityKey(snapshot) !== this.announced) {
      this.announced = identityKey(snapshot);
      this.log.info({ authMethod: snapshot.authMethod ?? null }, 'auth method or account changed outside this server');
      for (const listener of this.methodListeners) listener(snapshot);
    }
  }

  private scheduleRevalidate(): void {
    if (this.closed || this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      if (this.mutations > 0) return this.scheduleRevalidate();
      this.revalidate().catch((error) => this.log.warn({ err: String(error) }, 'revalidation failed'));
    }, SETTLE_MS);
  }
}
