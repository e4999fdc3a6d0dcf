/**
 * The main thread's side of token refresh. It never waits on the network itself: it asks the
 * token service, one refresh at a time (single-flight: any number of callers share one request),
 * schedules a background refresh when the snapshot enters the refresh window, and remembers a
 * permanent failure for the record it happened on, so a dead refresh token causes no storm.
 */
import type { Logger } from '../log.js';
import type { AuthError } from '../protocol/auth-wire.js';
import type { AuthSnapshot, RefreshOutcome } from '../protocol/snapshot.js';
import type { AuthState } from './auth-state.js';
import type { TokenService } from './token-service.js';
import type { RefreshTask } from './token-service-tasks.js';

/** Background refreshes never follow each other closer than this (an issuer handing out short-lived tokens cannot cause a loop). */
const MIN_BACKGROUND_INTERVAL_MS = 30_000;
/** After a transient background failure, try again this much later. */
const TRANSIENT_RETRY_MS = 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export type RefreshBase = Omit<RefreshTask, 'basedOn' | 'accountId' | 'force'>;

export class RefreshCoordinator {
  private inFlight: Promise<RefreshOutcome> | undefined;
  private remembered: { fingerprint: string; error: AuthError } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastBackgroundAt = 0;
  private closed = false;

  constructor(
    private readonly tokens: TokenService,
    private readonly auth: AuthState,
    private readonly base: RefreshBase,
    private readonly log: Logger,
  ) {
    auth.onSnapshot((snapshot) => this.schedule(snapshot));
  }

  /** Refreshes (or joins the refresh under way). `force` refreshes even tokens that are not due. */
  refresh(force: boolean): Promise<RefreshOutcome> {
    if (this.inFlight) return this.inFlight;
    const snapshot = this.auth.current;
    if (!snapshot) return this.auth.ready.then(() => this.refresh(force));
    const remembered = this.authErrorFor(snapshot);
    if (remembered) {
      // This record's refresh token is known to be dead: no new request until it changes.
      return Promise.resolve({ ok: false, code: remembered.code as never, message: remembered.message, permanent: true, snapshot });
    }
    const task: RefreshTask = {
      ...this.base,
      basedOn: snapshot.fingerprint,
      ...(snapshot.account?.accountId && { accountId: snapshot.account.accountId }),
      force,
    };
    this.inFlight = this.tokens
      .refresh(task)
      .catch((error: Error): RefreshOutcome => ({
        ok: false,
        code: 'refresh_unavailable',
        message: `Token refresh failed: ${error.message}`,
        permanent: false,
        snapshot,
      }))
      .then((outcome) => this.settle(outcome))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** The error to report with this snapshot, when its refresh failed for good. */
  authErrorFor(snapshot: AuthSnapshot): AuthError | undefined {
    return this.remembered?.fingerprint === snapshot.fingerprint ? this.remembered.error : undefined;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private settle(outcome: RefreshOutcome): RefreshOutcome {
    if (outcome.ok) {
      this.remembered = undefined;
      this.log.info({ via: outcome.via }, 'tokens refreshed');
    } else {
      this.log.warn({ code: outcome.code, permanent: outcome.permanent }, 'token refresh failed');
      if (outcome.permanent) {
        this.remembered = { fingerprint: outcome.snapshot.fingerprint, error: { code: outcome.code, message: outcome.message } };
      }
    }
    this.auth.accept(outcome.snapshot);
    return outcome;
  }

  /** Arms one timer for when the current snapshot's refresh falls due. */
  private schedule(snapshot: AuthSnapshot): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || snapshot.authMethod !== 'chatgpt' || snapshot.refreshDueAt === undefined) return;
    if (this.authErrorFor(snapshot)) return;
    const earliest = this.lastBackgroundAt + MIN_BACKGROUND_INTERVAL_MS;
    const at = Math.max(snapshot.refreshDueAt, earliest);
    this.timer = setTimeout(() => this.refreshInBackground(), Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
    this.timer.unref();
  }

  private refreshInBackground(): void {
    this.lastBackgroundAt = Date.now();
    void this.refresh(false).then((outcome) => {
      if (!outcome.ok && !outcome.permanent && !this.closed) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refreshInBackground(), TRANSIENT_RETRY_MS);
        this.timer.unref();
      }
    });
  }
}
