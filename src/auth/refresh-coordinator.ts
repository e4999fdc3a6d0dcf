/**
 * The main thread's side of token refresh. It never touches the network and never makes a
 * request wait that does not ask to: it hands refreshes to the token service, one at a time
 * (single-flight: any number of callers share one refresh), starts one in the background when the
 * snapshot enters the refresh window, and remembers failures per stored record, so that a dead
 * refresh token or an issuer asking for a pause causes no storm of requests.
 *
 * A refresh already sent is never aborted (with rotation, its new refresh token would be lost):
 * `close()` lets the attempt in flight finish and persist, and a logout (`exclusive`) forbids the
 * write of its result instead of killing it. Rotated tokens the token service could not write (a
 * full disk) are held here, served in place of the spent stored ones, and written again until a
 * write succeeds or the stored record is replaced by someone else (a logout, a new sign-in).
 */
import type { Logger } from '../log.js';
import type { AuthRecord } from './store/record.js';
import type { AuthError } from '../protocol/auth-wire.js';
import { NEEDS_SIGN_IN, type AuthSnapshot, type RefreshOutcome } from '../protocol/snapshot.js';
import { RefreshControl } from '../protocol/refresh-control.js';
import { ATTEMPT_TIMEOUT_MS } from '../protocol/refresh-policy.js';
import { HeldWrite, logLostAtExit } from './held-write.js';
import type { RefreshTask } from '../protocol/token-service-tasks.js';

/** Background refreshes never start closer together than this (an issuer handing out very short-lived tokens cannot cause a loop). */
export const MIN_BACKGROUND_INTERVAL_MS = 30_000;
/** A background refresh due in the future starts up to this much later, so sibling processes do not all start at once. */
export const BACKGROUND_JITTER_MS = 30_000;
/** After transient failures, the next background refresh waits this long, doubling up to the cap. */
export const TRANSIENT_RETRY_MS = 60_000;
export const TRANSIENT_RETRY_CAP_MS = 10 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export type RefreshBase = Omit<RefreshTask, 'basedOn' | 'accountId' | 'force' | 'control'>;

/** What the coordinator needs of the token service and the auth state (tests pass fakes). */
export interface RefreshTokensPort {
  run(name: 'refresh', task: RefreshTask): Promise<RefreshOutcome>;
}
export interface RefreshAuthPort {
  readonly current: AuthSnapshot | undefined;
  readonly ready: Promise<AuthSnapshot>;
  onSnapshot(listener: (snapshot: AuthSnapshot) => void): void;
  revalidate(): Promise<AuthSnapshot>;
}

/** Writes rotated tokens the token service could not (runs on the main thread, under Codex's locks). */
export interface RefreshPersistPort {
  /** Writes `record` if the store still holds the record `basedOn` names; false when something else replaced it. Throws when the write fails. */
  saveRefreshed(record: AuthRecord, basedOn: string): Promise<boolean>;
}

export interface RefreshClock {
  now(): number;
  random(): number;
}
const systemClock: RefreshClock = { now: () => Date.now(), random: () => Math.random() };

/** How a status request should present a snapshot. */
export interface StatusOverlay {
  /** An error to report with it. */
  readonly error?: AuthError;
  /** Whether its token may be handed out. */
  readonly serveToken: boolean;
  /** A snapshot to present instead: refreshed tokens not yet written (the stored refresh token is spent). */
  readonly present?: AuthSnapshot;
}

/** Rotated tokens that could not be written yet: the only copy of the live refresh token. */
interface Unsaved {
  readonly record: AuthRecord;
  readonly basedOn: string;
  readonly snapshot: AuthSnapshot;
  error: AuthError;
  /** Its writes, retried (held-write.ts). */
  readonly held: HeldWrite;
}

interface Flight {
  readonly promise: Promise<RefreshOutcome>;
  readonly control: RefreshControl;
}

interface TransientMemory {
  readonly fingerprint: string;
  readonly error: AuthError;
  readonly at: number;
  readonly retryAt: number | undefined;
}

export class RefreshCoordinator {
  private flight: Flight | undefined;
  /** Flights still running, including ones a logout cut loose. */
  private readonly running = new Set<Flight>();
  private needsSignIn: { fingerprint: string; error: AuthError } | undefined;
  private transient: TransientMemory | undefined;
  private transientStreak = 0;
  private exclusiveCount = 0;
  private barrier: { promise: Promise<void>; release: () => void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastBackgroundAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  private unsaved: Unsaved | undefined;
  private readonly clock: RefreshClock;
  private readonly persist: RefreshPersistPort | undefined;

  constructor(
    private readonly tokens: RefreshTokensPort,
    private readonly auth: RefreshAuthPort,
    private readonly base: RefreshBase,
    private readonly log: Logger,
    options: { clock?: RefreshClock; persist?: RefreshPersistPort } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.persist = options.persist;
    auth.onSnapshot((snapshot) => this.schedule(snapshot));
  }

  /**
   * Refreshes, or joins the refresh under way. `force` refreshes tokens that are not due yet
   * (getAuthStatus {refreshToken: true}); otherwise tokens that are not due are left alone.
   */
  refresh(force: boolean): Promise<RefreshOutcome> {
    if (this.barrier) return this.barrier.promise.then(() => this.refresh(force));
    if (this.flight) return this.flight.promise;
    const snapshot = this.auth.current;
    if (!snapshot) return this.auth.ready.then(() => this.refresh(force));
    if (this.closed) return Promise.resolve(failed(snapshot, 'refresh_stopped', 'Token refresh stopped: the server is shutting down.', false));
    const unsaved = this.unsavedFor(snapshot);
    if (unsaved) {
      // The stored refresh token is spent; the live one is in memory. Writing it is the refresh.
      void this.writeUnsaved();
      return Promise.resolve(failed(unsaved.snapshot, 'persist_failed', unsaved.error.message, false));
    }
    if (this.needsSignIn?.fingerprint === snapshot.fingerprint) {
      // This record's refresh token is known to be dead: no new request until the record changes.
      const { code, message } = this.needsSignIn.error;
      return Promise.resolve(failed(snapshot, code as never, message, true));
    }
    const memory = this.transient;
    if (memory?.fingerprint === snapshot.fingerprint && memory.retryAt !== undefined && memory.retryAt > this.clock.now()) {
      // The issuer asked for a pause (Retry-After): honour it, whoever asks.
      return Promise.resolve(failed(snapshot, memory.error.code as never, memory.error.message, false));
    }
    return this.launch(snapshot, force);
  }

  /** What status requests report with this snapshot: a remembered failure, and whether its token may be served. */
  statusOf(snapshot: AuthSnapshot): StatusOverlay {
    const unsaved = this.unsavedFor(snapshot);
    if (unsaved) return { error: unsaved.error, serveToken: true, present: unsaved.snapshot };
    if (this.needsSignIn?.fingerprint === snapshot.fingerprint) return { error: this.needsSignIn.error, serveToken: false };
    // After a transient failure a token that is still valid keeps being served, silently.
    if (this.hasExpired(snapshot) && this.transient?.fingerprint === snapshot.fingerprint) return { error: this.transient.error, serveToken: false };
    return { serveToken: true };
  }

  /** Whether the snapshot's access token has expired, by this coordinator's clock (tests replace it). */
  hasExpired(snapshot: AuthSnapshot): boolean {
    return snapshot.accessTokenExpiresAt !== undefined && snapshot.accessTokenExpiresAt <= this.clock.now();
  }

  /**
   * Runs a change of ours that must win over a refresh in flight (logout): that refresh may no
   * longer write its result (if its write has already begun, this waits for it), and no new
   * refresh starts until `change` is done.
   */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    return this.barred('supersede', change);
  }

  /**
   * Runs a change of ours that takes the stored record as it stands (a switch moves it into the
   * account store): a refresh in flight is let finish and write its rotated tokens first (were it
   * superseded, its tokens would be discarded and the spent refresh token moved), tokens held
   * unsaved get one more write, and no new refresh starts until `change` is done. Throws, changing
   * nothing, while rotated tokens of the stored record exist only in memory.
   */
  afterRefreshes<T>(change: () => Promise<T>): Promise<T> {
    return this.barred('let-commit', async () => {
      await this.writeUnsaved();
      if (this.unsaved) throw new Error(`the active account's refreshed tokens are not saved yet (${this.unsaved.error.message}); nothing was changed, try again`);
      return change();
    });
  }

  private async barred<T>(flightMode: 'supersede' | 'let-commit', change: () => Promise<T>): Promise<T> {
    if (this.exclusiveCount++ === 0) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      this.barrier = { promise, release };
    }
    try {
      const flight = this.flight;
      if (flight && flightMode === 'let-commit') {
        // It ends as it would have (a rotation is written, or held unsaved): as a switch from a
        // sibling process waits for the lock, this waits for the flight.
        await flight.promise;
      } else if (flight) {
        // Cut it loose: later refreshes (of whatever is stored after the change) start their own.
        this.flight = undefined;
        if (flight.control.supersede()) await flight.promise;
      }
      return await change();
    } finally {
      if (--this.exclusiveCount === 0) {
        const barrier = this.barrier!;
        this.barrier = undefined;
        barrier.release();
      }
    }
  }

  /**
   * Starts no new refresh, and waits (at most `maxWaitMs`) for an attempt already sent to finish
   * and be persisted; one that has not been sent yet is dropped.
   */
  async close(maxWaitMs = ATTEMPT_TIMEOUT_MS + 5_000): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    // With no refresh running there may still be rotated tokens held unsaved: they get their last write.
    if (this.running.size === 0) return this.lastWriteOfUnsaved();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    const settled = Promise.all(
      [...this.running].map(async (flight) => {
        await flight.control.stop();
        // Not sending any more: what is left is quick (returning the outcome).
        await flight.promise;
      }),
    );
    await Promise.race([settled, bound]).finally(() => clearTimeout(timer));
    await this.lastWriteOfUnsaved();
  }

  private unsavedFor(snapshot: AuthSnapshot): Unsaved | undefined {
    return this.unsaved?.basedOn === snapshot.fingerprint ? this.unsaved : undefined;
  }

  /** Keeps rotated tokens the token service could not write, and starts writing them again. */
  private holdUnsaved(outcome: RefreshOutcome & { ok: false }): void {
    if (!outcome.unsaved) return;
    this.log.error({ reason: outcome.message }, 'refreshed tokens could not be saved; keeping them in memory and retrying');
    this.unsaved?.held.cancel();
    const { record, basedOn } = outcome.unsaved;
    const persist = this.persist;
    const unsaved: Unsaved = {
      record,
      basedOn,
      snapshot: outcome.snapshot,
      error: { code: outcome.code, message: outcome.message },
      held: new HeldWrite({
        attempt: () => (persist ? persist.saveRefreshed(record, basedOn) : Promise.reject(Object.assign(new Error('no writer'), { code: 'ENOSYS' }))),
        settled: async (written) => {
          if (written) this.log.warn('the refreshed tokens kept in memory are saved now');
          else this.log.warn('the stored credentials were replaced (a logout or a new sign-in) before the refreshed tokens could be saved; they were dropped');
          // Let go of them once the snapshot of what is stored now is in place: until then, a
          // status request would otherwise be answered from the spent record's snapshot.
          await this.auth.revalidate().then(() => undefined, () => undefined);
          if (this.unsaved === unsaved) this.unsaved = undefined;
        },
        failed: (error) => {
          unsaved.error = { code: 'persist_failed', message: `The tokens were refreshed but could not be saved (${error.code ?? error.message}); they are kept in memory and saving is retried.` };
        },
      }),
    };
    this.unsaved = unsaved;
    if (persist && !this.closed) unsaved.held.retryLater();
  }

  /** One write of the unsaved tokens (joined if one is under way). */
  private writeUnsaved(): Promise<void> {
    if (!this.persist) return Promise.resolve();
    return this.unsaved?.held.write() ?? Promise.resolve();
  }

  private async lastWriteOfUnsaved(): Promise<void> {
    if (!this.unsaved) return;
    if (!this.persist || !(await this.unsaved.held.last())) logLostAtExit(this.log, 'the active account');
  }

  private launch(snapshot: AuthSnapshot, force: boolean): Promise<RefreshOutcome> {
    const control = new RefreshControl();
    const task: RefreshTask = {
      ...this.base,
      basedOn: snapshot.fingerprint,
      ...(snapshot.account?.accountId && { accountId: snapshot.account.accountId }),
      force,
      control: control.buffer,
    };
    const promise = this.tokens
      .run('refresh', task)
      .catch((error: Error): RefreshOutcome => failed(snapshot, 'refresh_unavailable', `Token refresh failed: ${error.message}.`, false))
      .then((outcome) => this.settle(outcome))
      .finally(() => {
        this.running.delete(flight);
        if (this.flight === flight) this.flight = undefined;
      });
    const flight: Flight = { promise, control };
    this.flight = flight;
    this.running.add(flight);
    return promise;
  }

  private async settle(outcome: RefreshOutcome): Promise<RefreshOutcome> {
    const fingerprint = outcome.snapshot.fingerprint;
    if (outcome.ok) {
      this.transient = undefined;
      this.transientStreak = 0;
      this.log.info({ via: outcome.via }, 'token refresh done');
    } else {
      this.log.warn({ reason: outcome.code, permanent: outcome.permanent }, 'token refresh failed');
      const error = { code: outcome.code, message: outcome.message };
      if (outcome.code === 'persist_failed') {
        this.holdUnsaved(outcome);
      } else if (NEEDS_SIGN_IN.has(outcome.code)) {
        this.needsSignIn = { fingerprint, error };
      } else if (outcome.code === 'refresh_timeout' || outcome.code === 'refresh_unavailable') {
        this.transientStreak = this.transient?.fingerprint === fingerprint ? this.transientStreak + 1 : 1;
        const at = this.clock.now();
        this.transient = { fingerprint, error, at, retryAt: outcome.retryAfterMs === undefined ? undefined : at + outcome.retryAfterMs };
      }
    }
    // The store is the truth (a logout may have landed meanwhile): read it again rather than
    // trusting the snapshot the worker saw. Installing it also schedules the next refresh.
    try {
      await this.auth.revalidate();
    } catch (error) {
      this.log.warn({ err: String(error) }, 'revalidation after a refresh failed');
      if (this.auth.current) this.schedule(this.auth.current);
    }
    return outcome;
  }

  /** Arms one timer for when the current snapshot's next background refresh is due. */
  private schedule(snapshot: AuthSnapshot): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || snapshot.authMethod !== 'chatgpt' || snapshot.refreshDueAt === undefined) return;
    if (this.needsSignIn?.fingerprint === snapshot.fingerprint || this.unsavedFor(snapshot)) return;
    const now = this.clock.now();
    let at = snapshot.refreshDueAt;
    if (at > now) at += this.clock.random() * BACKGROUND_JITTER_MS;
    at = Math.max(at, this.lastBackgroundAt + MIN_BACKGROUND_INTERVAL_MS);
    const memory = this.transient;
    if (memory?.fingerprint === snapshot.fingerprint) {
      const backoff = Math.min(TRANSIENT_RETRY_CAP_MS, TRANSIENT_RETRY_MS * 2 ** (this.transientStreak - 1));
      at = Math.max(at, memory.at + backoff, memory.retryAt ?? 0);
    }
    this.timer = setTimeout(() => this.refreshInBackground(), Math.min(MAX_TIMER_MS, Math.max(0, at - now)));
    this.timer.unref();
  }

  private refreshInBackground(): void {
    this.timer = undefined;
    this.lastBackgroundAt = this.clock.now();
    void this.refresh(false);
  }
}

function failed(snapshot: AuthSnapshot, code: (RefreshOutcome & { ok: false })['code'], message: string, permanent: boolean): RefreshOutcome {
  return { ok: false, code, message, permanent, snapshot };
}
