/**
 * The token service's thread pool, and its early start.
 *
 * The first status an MCP client asks for waits for a validation in this pool, and a thread takes
 * about as long to boot and load as the main thread takes to load the rest of the server. So the
 * entry (src/cli/main.ts) starts the pool's first thread before it loads anything else; on a
 * second core it boots while this thread loads, and the TokenService adopts the pool when the
 * runtime is made. This module loads nothing but piscina for that reason (bundled, with its
 * thread entry beside it: scripts/bundle.mjs).
 */
import { Piscina } from 'piscina';
import { workerFile } from '../worker-files.js';

/** Tasks waiting for a thread beyond this many are refused (a flood of requests, not a workload). */
export const MAX_WAITING_TASKS = 1_024;

export type { Piscina };

export function createTokenServicePool(): Piscina {
  return new Piscina({
    filename: workerFile('token-service').href,
    // Validation and refresh are rare (start-up, a changed auth.json, a due refresh), so no thread
    // is kept waiting: an idle worker costs ~35 MB, a fresh one ~0.1 s to start (kept that low by
    // loading the HTTP client only for a refresh; test/startup-graph.test.ts pins it).
    minThreads: 0,
    // One thread: its tasks wait on files and the network, and it runs eight at once. A second
    // would only ever start at start-up, while the first boots (the main thread, still loading,
    // has not yet heard it is ready), and the first status would wait for that one's boot.
    maxThreads: 1,
    idleTimeout: 500,
    // Workers keep sockets and timers between tasks; 'sync' atomics would freeze them.
    atomics: 'disabled',
    // Tasks wait on the network and on the auth.json lock, not on the CPU: a refresh hanging on
    // a dead issuer (or a slow revocation) must not hold up the validation of a changed auth.json.
    concurrentTasksPerWorker: 8,
    // Our own bound (MAX_WAITING_TASKS) refuses with a message of ours before Piscina's would.
    maxQueue: MAX_WAITING_TASKS * 2,
    // A retired pool lets its running tasks finish: a refresh is bounded by its lock wait and
    // its attempts, well within this.
    closeTimeout: 120_000,
  });
}

interface Prestarted {
  readonly pool: Piscina;
  /** Set if its thread failed to start before the pool was adopted: then it is not adopted. */
  failed: boolean;
}

let prestarted: Prestarted | undefined;
/** Settles once the early thread has loaded (or failed to start): see `earlyThreadSettled`. */
let warmedUp: Promise<void> = Promise.resolve();

/** Starts a pool and asks it for a thread (a no-op task), without waiting for either. */
export function prestartTokenService(): void {
  const pool = createTokenServicePool();
  const early: Prestarted = { pool, failed: false };
  // Heard from the first moment: an unheard 'error' (a thread that cannot start) ends the process.
  pool.on('error', () => (early.failed = true));
  warmedUp = pool.run(undefined, { name: 'warm' }).then(
    () => undefined,
    () => undefined,
  );
  prestarted = early;
}

/**
 * Resolves once a thread started early has loaded its code (at once if none was started). A
 * process that exits while that thread is still loading can be aborted by Node 20 ("FATAL ERROR:
 * v8::Module::IsGraphAsync must be used on an instantiated module"), so every exit that can come
 * that early (a usage error, a bad config, closing the pool) waits for this first. It is bounded:
 * a thread that cannot start fails its task.
 */
export function earlyThreadSettled(): Promise<void> {
  return warmedUp;
}

/** The prestarted pool, once, if there is one and its thread did not fail; a failed one is closed. */
export function adoptPrestartedPool(): Piscina | undefined {
  const early = prestarted;
  prestarted = undefined;
  if (early?.failed) early.pool.close({ force: true }).catch(() => undefined);
  return early && !early.failed ? early.pool : undefined;
}
