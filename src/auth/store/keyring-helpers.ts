/**
 * The keyring helper processes of this thread (workers/keyring/main.ts), one call at a time each.
 *
 * A helper that answered is kept for IDLE_MS and takes the next call: keyring calls come close
 * behind one another (a load and the save after it, a validation after a change, the watch's next
 * look), and a helper's start costs far more than its call. A call never waits for a busy helper:
 * it starts one of its own, so concurrent calls run side by side as before.
 *
 * A helper whose call failed, timed out or answered nonsense is killed, never reused: a call stuck
 * in native code cannot be cancelled, and after a failure its state is not worth trusting. An idle
 * helper holds nothing open that keeps this process alive, and its stdin closing (idle time over,
 * this thread or process gone) ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KeyringMessageSchema, type KeyringReply, type KeyringRequest } from '../../protocol/keyring.js';
import { workerFile } from '../../worker-files.js';

/** How long an idle helper waits for another call (a burst of calls is over well within it). */
export const IDLE_MS = 2_000;
/** How long a new helper may take to start and load the binding (generous: a busy machine). */
const START_TIMEOUT_MS = 20_000;
const NOT_STARTED = 'the keyring helper did not start in time';

/**
 * The longest line a helper may write (an answer holds one record, or the inactive accounts'
 * store, a few KB each). Past it the helper is not one of ours behaving: the call fails, the
 * helper is killed, and what it wrote is dropped rather than kept without bound.
 */
export const MAX_HELPER_LINE_CHARS = 8 * 1024 * 1024;

const HELPER = fileURLToPath(workerFile('keyring'));

/** One helper process, and what the call it runs (if any) waits for. */
interface Helper {
  readonly child: ChildProcess;
  /** Set while a call runs: where the helper's lines go, and how the call fails when the helper cannot answer. */
  onLine?: (line: string) => void;
  onFailure?: (message: string) => void;
  idleTimer?: NodeJS.Timeout;
  /** Whether the binding has loaded (a first call waits for that, up to START_TIMEOUT_MS). */
  loaded: boolean;
}

const idle: Helper[] = [];

/**
 * Until when a new helper is not even started, because the last one did not start within
 * START_TIMEOUT_MS (a machine too busy, a binding that hangs while loading). Without this, calls
 * that follow one another (a load, then the reload the failed load's change event asks for) each
 * waited the full start timeout, and the first status took 40 s instead of the 20 s documented.
 * A helper that starts clears it; after the window the next call tries again.
 */
let notStartingUntil = 0;

/**
 * Runs one call in an idle helper or a new one; resolves (never rejects) within start +
 * `timeoutMs` (plus the moment it takes to find that a parked helper has gone).
 */
export function runInHelper(request: KeyringRequest, timeoutMs: number): Promise<KeyringReply> {
  const reused = takeIdle();
  return reused ? runIn(reused, request, timeoutMs, true) : runInNew(request, timeoutMs);
}

function runInNew(request: KeyringRequest, timeoutMs: number): Promise<KeyringReply> {
  if (Date.now() < notStartingUntil) return Promise.resolve({ ok: false, message: NOT_STARTED });
  const started = startHelper();
  return 'failed' in started ? Promise.resolve({ ok: false, message: started.failed }) : runIn(started, request, timeoutMs, false);
}

function runIn(helper: Helper, request: KeyringRequest, timeoutMs: number, reused: boolean): Promise<KeyringReply> {
  return new Promise((done) => {
    let settled = false;
    let begun = false;
    const noAnswer = () => finish({ ok: false, message: `the OS keyring did not answer within ${timeoutMs / 1000} s` });
    // A parked helper has its binding loaded and begins at once; a new one first has to start.
    const notStarted = () => {
      notStartingUntil = Date.now() + START_TIMEOUT_MS;
      finish({ ok: false, message: NOT_STARTED });
    };
    let timer = helper.loaded ? setTimeout(noAnswer, timeoutMs) : setTimeout(notStarted, START_TIMEOUT_MS);
    const finish = (reply: KeyringReply, outcome: 'answered' | 'gone' | 'other' = 'other') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      helper.onLine = helper.onFailure = undefined;
      if (outcome === 'answered' && reply.ok) park(helper);
      else retire(helper);
      // A parked helper that was gone before it said "started" (killed while idle, say) never ran
      // this call: it runs in a new helper instead. Only then: a helper writes "started" before
      // the call, and all it wrote is read before 'close', so a call it ran is never run twice.
      if (reused && outcome === 'gone' && !begun) done(runInNew(request, timeoutMs));
      else done(reply);
    };
    helper.onFailure = (message) => finish({ ok: false, message }, 'gone');
    helper.onLine = (line) => {
      let parsed;
      try {
        parsed = KeyringMessageSchema.safeParse(JSON.parse(line));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) return finish({ ok: false, message: 'the keyring helper gave an unexpected answer' });
      if ('started' in parsed.data) {
        begun = helper.loaded = true;
        notStartingUntil = 0;
        clearTimeout(timer);
        timer = setTimeout(noAnswer, timeoutMs);
      } else finish(parsed.data, 'answered');
    };
    // A spawn that could not make its pipes has none; its 'error' event ends the call.
    helper.child.stdin?.write(`${JSON.stringify(request)}\n`);
  });
}

/** The most recently parked helper that is still there, taken off the idle list. */
function takeIdle(): Helper | undefined {
  for (let helper = idle.pop(); helper; helper = idle.pop()) {
    clearTimeout(helper.idleTimer);
    if (helper.child.exitCode === null && helper.child.signalCode === null && helper.child.stdin?.writable) return helper;
    retire(helper);
  }
  return undefined;
}

/** Ends every idle helper of this thread (a test that changes the helpers' environment calls it). */
export function endIdleHelpers(): void {
  for (const helper of idle.splice(0)) retire(helper);
}

function startHelper(): Helper | { failed: string } {
  let child: ChildProcess;
  try {
    // stdin stays open while we want the helper: its end tells the helper to go.
    child = spawn(process.execPath, [HELPER], { stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true });
  } catch (error) {
    return { failed: `cannot start the keyring helper (${(error as Error).message})` };
  }
  const helper: Helper = { child, loaded: false };
  // Before anything else: a spawn that fails (EMFILE) reports it as an 'error' event, which
  // unheard would end the process; it may come more than once (a kill of a child that never ran).
  child.on('error', (error) => helper.onFailure?.(`cannot run the keyring helper (${error.message})`));
  child.stdin?.on('error', () => undefined);
  child.stdout?.setEncoding('utf8');
  let buffer = '';
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_HELPER_LINE_CHARS && !buffer.includes('\n')) {
      buffer = '';
      child.stdout?.removeAllListeners('data');
      helper.onFailure?.(`the keyring helper wrote more than ${MAX_HELPER_LINE_CHARS / 1024 / 1024} MiB without ending a line`);
      return retire(helper);
    }
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (helper.onLine) helper.onLine(line);
      else return retire(helper); // nothing was asked: not a helper worth keeping
    }
  });
  // 'close' comes after the helper's output has all been read.
  child.once('close', (code, signal) => {
    forget(helper);
    helper.onFailure?.(`the keyring helper ended without an answer (${signal ?? `exit code ${code}`})`);
  });
  // Only a running call keeps this process alive (through its timer), never an idle helper.
  child.unref();
  (child.stdin as { unref?: () => void } | null)?.unref?.();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  return helper;
}

function park(helper: Helper): void {
  helper.idleTimer = setTimeout(() => {
    forget(helper);
    helper.child.stdin?.end();
  }, IDLE_MS);
  helper.idleTimer.unref();
  idle.push(helper);
}

function retire(helper: Helper): void {
  forget(helper);
  helper.child.kill('SIGKILL');
  helper.child.stdin?.end();
}

function forget(helper: Helper): void {
  clearTimeout(helper.idleTimer);
  const at = idle.indexOf(helper);
  if (at >= 0) idle.splice(at, 1);
}
