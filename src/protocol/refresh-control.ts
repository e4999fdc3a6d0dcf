/**
 * Two words shared between the main thread and the token-service worker running one refresh (a
 * SharedArrayBuffer travels with the task; each hand-over is one atomic operation, so there is
 * no window in which both sides believe they won):
 *
 *  - send: the worker marks an attempt "sending" just before its POST and clears the mark once
 *    the answer is handled (persisted or classified). At shutdown the main thread marks the
 *    refresh "stopped". Stopped first: no request is sent any more. Sending first: shutdown waits
 *    for that attempt to end, so a rotated refresh token is never lost by exiting mid-request.
 *  - commit: the worker marks "committing" just before it writes refreshed tokens; the main
 *    thread marks "superseded" before a change of its own that must win (logout). Superseded
 *    first: the refresh discards its result. Committing first: the change waits for the write.
 */
const SEND = 0;
const COMMIT = 1;
const SENDING = 1;
const STOPPED = 2;
const OPEN = 0;
const COMMITTING = 1;
const SUPERSEDED = 2;

type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs?: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class RefreshControl {
  private readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)) {
    this.words = new Int32Array(buffer);
  }

  // ---- worker side ----

  /** Before a POST: false when the server is stopping (then nothing may be sent). */
  beginSend(): boolean {
    const before = Atomics.or(this.words, SEND, SENDING);
    if (before & STOPPED) {
      this.endSend();
      return false;
    }
    return true;
  }

  /** After the attempt's answer has been handled. */
  endSend(): void {
    Atomics.and(this.words, SEND, ~SENDING);
    Atomics.notify(this.words, SEND);
  }

  /** Waits between attempts; a stop ends the wait at once. */
  async pause(ms: number): Promise<void> {
    const value = Atomics.load(this.words, SEND);
    if (value & STOPPED) return;
    const wait = waitAsync(this.words, SEND, value, ms);
    if (wait.async) await wait.value;
  }

  /** Before writing refreshed tokens: false when a change of the main thread's must win. */
  beginCommit(): boolean {
    return Atomics.compareExchange(this.words, COMMIT, OPEN, COMMITTING) === OPEN;
  }

  // ---- main-thread side ----

  /** No further attempt may start. Resolves once none is in flight (at once when none was). */
  async stop(): Promise<void> {
    Atomics.or(this.words, SEND, STOPPED);
    Atomics.notify(this.words, SEND);
    for (;;) {
      const value = Atomics.load(this.words, SEND);
      if (!(value & SENDING)) return;
      const wait = waitAsync(this.words, SEND, value);
      if (wait.async) await wait.value;
    }
  }

  /** Forbids the write of this refresh's result; true when it is too late (the write has begun). */
  supersede(): boolean {
    return Atomics.compareExchange(this.words, COMMIT, OPEN, SUPERSEDED) === COMMITTING;
  }
}
