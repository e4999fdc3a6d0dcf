/**
 * How long one refresh attempt may take and how failed attempts are retried: part of the refresh
 * boundary's contract (in protocol/, as both sides use it). A module of its own, with no imports,
 * because the main thread (src/auth/refresh-coordinator.ts) needs these numbers too and
 * must not load the HTTP client that refresh-request.ts brings with it.
 */

/** Hard timeout of one attempt. Below the 20 s other writers wait for the auth.json lock. */
export const ATTEMPT_TIMEOUT_MS = 15_000;
/** A Retry-After longer than this ends the refresh; the next one starts after it (coordinator). */
export const MAX_RETRY_AFTER_MS = 30_000;

export interface RetryPolicy {
  /** Attempts after the first, for transient failures only. */
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 500, maxDelayMs: 10_000 };
