/**
 * The main thread's cached, validated view of the credentials. Status requests are answered from
 * `current` with no worker round trip; the token service rebuilds the snapshot whenever the store
 * changes (our own writes, or another process's: `codex login` in a terminal, a sibling server).
 *
 * A change of auth method made by someone else is announced through `onMethodChange`. Changes we
 * make ourselves go through `mutate`, whose caller announces them itself (after its response).
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AuthMethod } from '../protocol/auth-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { Logger } from '../log.js';
import { AUTH_FILE_NAME } from './file-store.js';
import type { TokenService } from './token-service.js';
import type { ValidateTask } from './token-service-tasks.js';

export type MethodChangeListener = (snapshot: AuthSnapshot) => void;
export type SnapshotListener = (snapshot: AuthSnapshot, previous: AuthSnapshot | undefined) => void;

/** How long a burst of file events is gathered before one revalidation. */
const SETTLE_MS = 15;
/** While CODEX_HOME does not exist yet, how often to look for it. */
const HOME_POLL_MS = 100;
/** The OS keyring sends no change events: with keyring storage, look again this often. */
const KEYRING_POLL_MS = 5_000;

export class AuthState {
  private snapshot: AuthSnapshot | undefined;
  private announcedMethod: AuthMethod | undefined;
  private validating: Promise<AuthSnapshot> | undefined;
  private stale = false;
  private mutations = 0;
  private watcher: FSWatcher | undefined;
  private homePoll: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private keyringPoll: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly methodListeners: MethodChangeListener[] = [];
  private readonly snapshotListeners: SnapshotListener[] = [];
  readonly ready: Promise<AuthSnapshot>;

  constructor(
    private readonly tokens: TokenService,
    private readonly task: ValidateTask,
    private readonly log: Logger,
  ) {
    this.ready = this.revalidate().then((snapshot) => {
      this.announcedMethod = snapshot.authMethod;
      return snapshot;
    });
    this.ready.catch(() => undefined);
  }

  get current(): AuthSnapshot | undefined {
    return this.snapshot;
  }

  onMethodChange(listener: MethodChangeListener): void {
    this.methodListeners.push(listener);
  }

  onSnapshot(listener: SnapshotListener): void {
    this.snapshotListeners.push(listener);
  }

  /** Starts noticing changes made by other processes. */
  watch(): void {
    if (this.task.store.mode !== 'file' && !this.keyringPoll) {
      this.keyringPoll = setInterval(() => this.scheduleRevalidate(), KEYRING_POLL_MS);
      this.keyringPoll.unref();
    }
    const directory = this.task.store.codexHome;
    try {
      this.watcher = watch(directory, { persistent: false }, (_event, file) => {
        if (file === null || file === AUTH_FILE_NAME) this.scheduleRevalidate();
      });
      this.watcher.on('error', () => this.rewatchLater());
    } catch {
      this.rewatchLater();
    }
  }

  /**
   * Runs a change of our own (login, logout, API-key sign-in) and returns the snapshot after it.
   * The caller announces the new method, so it can order the announcement after its response.
   */
  async mutate(change: () => Promise<void>): Promise<AuthSnapshot> {
    const mutation = this.beginMutation();
    try {
      await change();
    } catch (error) {
      // Revalidate even when the change failed half-way, so the cache stays true.
      await mutation.finish().catch(() => undefined);
      throw error;
    }
    return mutation.finish();
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
            this.announcedMethod = snapshot.authMethod;
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

  /** Replaces the snapshot with one the token service produced (e.g. after a refresh). */
  accept(snapshot: AuthSnapshot): void {
    this.install(snapshot);
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearTimeout(this.settleTimer);
    clearInterval(this.homePoll);
    clearInterval(this.keyringPoll);
  }

  private async validateLoop(): Promise<AuthSnapshot> {
    let snapshot: AuthSnapshot;
    do {
      this.stale = false;
      snapshot = await this.tokens.validate(this.task);
    } while (this.stale && !this.closed);
    this.install(snapshot);
    return snapshot;
  }

  private install(snapshot: AuthSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    for (const listener of this.snapshotListeners) listener(snapshot, previous);
    if (this.mutations === 0 && previous !== undefined && snapshot.authMethod !== this.announcedMethod) {
      this.announcedMethod = snapshot.authMethod;
      this.log.info({ authMethod: snapshot.authMethod ?? null }, 'auth method changed outside this server');
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

  /** CODEX_HOME is missing (or went away): poll until it exists, then watch it. */
  private rewatchLater(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.closed || this.homePoll) return;
    this.homePoll = setInterval(() => {
      stat(this.task.store.codexHome).then(
        () => {
          clearInterval(this.homePoll);
          this.homePoll = undefined;
          if (this.closed) return;
          this.watch();
          this.scheduleRevalidate();
        },
        () => undefined,
      );
    }, HOME_POLL_MS);
    this.homePoll.unref();
  }
}
