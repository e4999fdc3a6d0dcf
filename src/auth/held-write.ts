/**
 * Rotated tokens that could not be written yet are the only copy of a live refresh token: they
 * are held in memory and written again, 1 s later, doubling up to 30 s apart, until a write
 * succeeds or the record they replace has been replaced by someone else; at shutdown they get a
 * last write, and a log line says so when even that fails. One HeldWrite is one such set of
 * tokens; the active record (RefreshCoordinator) and the account store (InactiveSessionRefresher)
 * both keep theirs in one.
 */
import type { Logger } from '../log.js';

/** Writes of held tokens are retried after 1 s, doubling, at most 30 s apart. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export interface HeldWriteHooks {
  /** One write: true once written, false when the record they replace was replaced meanwhile (then they are dropped). Throws when the write fails. */
  attempt(): Promise<boolean>;
  /** Called once, when the tokens are written or dropped. */
  settled(written: boolean): Promise<void> | void;
  /** Called after each failed write, with why. */
  failed?(error: NodeJS.ErrnoException): void;
}

export class HeldWrite {
  private retryMs = RETRY_FIRST_MS;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private stopped = false;
  /** True once written or dropped: nothing is held any more. */
  done = false;

  constructor(private readonly hooks: HeldWriteHooks) {}

  /** Arms the next retry (none after stop()). */
  retryLater(): void {
    if (this.done || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.write(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** One write now (joined if one is under way); a failure arms the next retry. */
  write(): Promise<void> {
    // A write that succeeded is joined until its `settled` has run too.
    if (this.writing) return this.writing;
    if (this.done) return Promise.resolve();
    return (this.writing = this.hooks
      .attempt()
      .then(
        async (written) => {
          clearTimeout(this.timer);
          this.done = true;
          await this.hooks.settled(written);
        },
        (error: NodeJS.ErrnoException) => {
          this.hooks.failed?.(error);
          this.retryLater();
        },
      )
      .finally(() => (this.writing = undefined)));
  }

  /** The last write, at shutdown: no retry after it. Resolves true when nothing is held any more. */
  async last(): Promise<boolean> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.write();
    clearTimeout(this.timer);
    return this.done;
  }

  /** Forgets the tokens without writing them (they were superseded in memory). */
  cancel(): void {
    this.stopped = true;
    this.done = true;
    clearTimeout(this.timer);
  }
}

/** The log line of a last write that failed: what is lost, and what the person will see. */
export function logLostAtExit(log: Logger, what: string): void {
  log.error(`exiting with refreshed tokens that could not be saved (${what}): the stored refresh token is spent, so the next start needs a new sign-in`);
}
