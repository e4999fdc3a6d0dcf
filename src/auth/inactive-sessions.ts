/**
 * Keeps the inactive account sessions usable: ChatGPT refresh tokens stop working if left unused
 * long enough, so every so often the token service refreshes each inactive session whose tokens
 * are older than `account_sessions_refresh_after_secs` (workers/token-service/session-tasks.ts).
 * Single-flight in this process (one pass at a time); across processes each session is judged
 * again under Codex's locks, so a pass a sibling just made sends nothing.
 *
 * Rotated tokens of an inactive session that the account store could not take (a full disk, a
 * keyring refusing) come back here and are held as the active record's are (held-write.ts):
 * written again until it works or the session's tokens were replaced, written one last time at
 * shutdown, with a log line when they cannot be. While a session's tokens are held, no pass and
 * no switch uses its spent refresh token.
 */
import type { Logger } from '../log.js';
import type { StoreOptions } from '../protocol/storage.js';
import type { UnsavedSession } from '../protocol/token-service-tasks.js';
import { HeldWrite, logLostAtExit } from './held-write.js';
import type { LoginRestrictions } from '../protocol/login-restrictions.js';
import { mayHoldSessions, openSessionVault, type CredentialStore } from './store/store.js';
import type { TokenService } from './token-service-client.js';
import { RefreshControl } from '../protocol/refresh-control.js';

/** The first look comes soon after start-up (a server that runs briefly still helps), then hourly. */
const FIRST_PASS_MS = 1_000;
const PASS_INTERVAL_MS = 60 * 60 * 1000;

export interface InactiveRefreshOptions {
  readonly store: StoreOptions;
  readonly restrictions?: LoginRestrictions;
  readonly issuer: string;
  readonly refreshAfterMs: number;
}

export class InactiveSessionRefresher {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  /** The words shared with the pass under way: shutdown stops it and waits for a refresh already sent. */
  private control: RefreshControl | undefined;
  private closed = false;
  /** close() has made its last writes: tokens held from now on get theirs at once. */
  private lastWritesDone = false;
  /** Held rotated tokens, by session id. */
  private readonly held = new Map<string, HeldWrite>();

  constructor(
    private readonly tokens: TokenService,
    private readonly options: InactiveRefreshOptions,
    private readonly log: Logger,
    /** The store whose lock guards the account store (held tokens are written here, as the active record's retries are). */
    private readonly store: CredentialStore,
  ) {}

  start(): void {
    this.schedule(FIRST_PASS_MS);
  }

  /** One pass; a call while one runs shares it. */
  runOnce(): Promise<void> {
    this.pass ??= this.passOnce().finally(() => (this.pass = undefined));
    return this.pass;
  }

  private async passOnce(): Promise<void> {
    if (!(await this.flushHeld())) {
      this.log.warn({ held: this.held.size }, 'inactive account sessions not looked at: refreshed tokens of one are not saved yet');
      return;
    }
    try {
      const maybe = await mayHoldSessions(this.options.store);
      if (!maybe) return;
      this.control = new RefreshControl();
      const outcome = await this.tokens.run('refreshInactive', {
        store: this.options.store,
        restrictions: this.options.restrictions,
        issuer: this.options.issuer,
        olderThanMs: this.options.refreshAfterMs,
        control: this.control.buffer,
      });
      this.hold(outcome.unsaved ?? []);
      if (outcome.refreshed > 0) this.log.info({ refreshed: outcome.refreshed }, 'refreshed inactive account sessions');
      for (const failure of outcome.failed) this.log.warn({ sessionId: failure.sessionId, code: failure.code }, 'an inactive account session could not be refreshed');
    } catch (error) {
      this.log.warn({ err: String(error) }, 'the inactive account sessions could not be looked at');
    }
  }

  /** Whether `sessionId`'s live tokens exist only in memory right now. */
  isHeld(sessionId: string): boolean {
    return this.held.has(sessionId);
  }

  /**
   * Keeps rotated tokens the account store could not take, and starts writing them again. Tokens
   * held for the same session are superseded (the new set was refreshed from them).
   */
  hold(unsaved: readonly UnsavedSession[]): void {
    for (const item of unsaved) {
      this.held.get(item.sessionId)?.cancel();
      this.log.error({ sessionId: item.sessionId }, "an inactive account's refreshed tokens could not be saved; keeping them in memory and retrying");
      const held: HeldWrite = new HeldWrite({
        attempt: () => this.writeHeld(item),
        settled: (written) => {
          if (this.held.get(item.sessionId) === held) this.held.delete(item.sessionId);
          if (written) this.log.warn({ sessionId: item.sessionId }, "the inactive account's refreshed tokens kept in memory are saved now");
          else this.log.warn({ sessionId: item.sessionId }, "the inactive account's tokens were replaced (a sign-in, a removal) before the refreshed ones could be saved; they were dropped");
        },
        failed: (error) => this.log.debug({ sessionId: item.sessionId, code: error.code }, "the inactive account's refreshed tokens still cannot be saved"),
      });
      this.held.set(item.sessionId, held);
      if (this.lastWritesDone) void this.lastWrite(item.sessionId, held);
      else if (!this.closed) held.retryLater();
    }
  }

  /** Writes what is held now; true when nothing is held any more. */
  async flushHeld(): Promise<boolean> {
    await Promise.all([...this.held.values()].map((held) => held.write()));
    return this.held.size === 0;
  }

  /**
   * Stops the timer and the pass under way: it sends no further refresh, and one already sent is
   * waited for until its tokens are written or handed back (bounded by its attempt timeout, not by
   * `grace`: the issuer rotated the token when the request arrived). The rest of the pass is let
   * finish until `grace` ends; then held tokens get their last write, which the grace does not cut short.
   */
  async close(grace?: Promise<unknown>): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.control?.stop();
    await (grace ? Promise.race([this.pass, grace]) : this.pass);
    for (const [sessionId, held] of this.held) await this.lastWrite(sessionId, held);
    this.lastWritesDone = true;
  }

  private async lastWrite(sessionId: string, held: HeldWrite): Promise<void> {
    if (!(await held.last())) logLostAtExit(this.log, `inactive account session ${sessionId}`);
  }

  /** One write of held tokens into the account store, under the store's lock; false when the session no longer holds the spent token. */
  private async writeHeld(item: UnsavedSession): Promise<boolean> {
    const vault = openSessionVault(this.options.store);
    return this.store.withLock(async () => {
      const contents = await vault.read();
      const session = contents.sessions.find((s) => s.sessionId === item.sessionId);
      if (session?.record?.tokens?.refresh_token !== item.basedOn) return false;
      session.record = item.record;
      delete session.needsSignIn;
      await vault.write(contents);
      return true;
    });
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.runOnce().then(() => this.schedule(PASS_INTERVAL_MS)), delayMs);
    this.timer.unref();
  }
}
