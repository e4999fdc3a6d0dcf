/**
 * Keeps the inactive account sessions usable: ChatGPT refresh tokens stop working if left unused
 * long enough, so every so often the token service refreshes each inactive session whose tokens
 * are older than `account_sessions_refresh_after_secs` (workers/token-service/session-tasks.ts).
 * Single-flight in this process (one pass at a time); across processes each session is judged
 * again under Codex's locks, so a pass a sibling just made sends nothing.
 */
import type { Logger } from '../log.js';
import type { StoreOptions } from '../protocol/storage.js';
import { mayHoldSessions } from './store/session-vault.js';
import type { TokenService } from './token-service-client.js';

/** The first look comes soon after start-up (a server that runs briefly still helps), then hourly. */
const FIRST_PASS_MS = 1_000;
const PASS_INTERVAL_MS = 60 * 60 * 1000;

export interface InactiveRefreshOptions {
  readonly store: StoreOptions;
  readonly issuer: string;
  readonly refreshAfterMs: number;
}

export class InactiveSessionRefresher {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly tokens: TokenService,
    private readonly options: InactiveRefreshOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule(FIRST_PASS_MS);
  }

  /** One pass; a call while one runs shares it. */
  runOnce(): Promise<void> {
    this.pass ??= mayHoldSessions(this.options.store)
      .then((maybe) => (maybe ? this.tokens.refreshInactive({ store: this.options.store, issuer: this.options.issuer, olderThanMs: this.options.refreshAfterMs }) : { refreshed: 0, failed: [] }))
      .then(
        (outcome) => {
          if (outcome.refreshed > 0) this.log.info({ refreshed: outcome.refreshed }, 'refreshed inactive account sessions');
          for (const failure of outcome.failed) this.log.warn({ sessionId: failure.sessionId, code: failure.code }, 'an inactive account session could not be refreshed');
        },
        (error: unknown) => this.log.warn({ err: String(error) }, 'the inactive account sessions could not be looked at'),
      )
      .finally(() => (this.pass = undefined));
    return this.pass;
  }

  /** Stops the timer; a pass under way is let finish (it may hold a rotated refresh token). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.runOnce().then(() => this.schedule(PASS_INTERVAL_MS)), delayMs);
    this.timer.unref();
  }
}
