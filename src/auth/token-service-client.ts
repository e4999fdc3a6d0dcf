/**
 * Main-thread handle on the token service pool. The main thread never does network I/O: reading
 * and validating credentials and refreshing tokens all happen in these workers.
 */
import { Piscina } from 'piscina';
import { AuthSnapshotSchema, RefreshOutcomeSchema, type AuthSnapshot, type RefreshOutcome } from '../protocol/snapshot.js';
import { RevokeOutcomeSchema, type RefreshTask, type RevokeOutcome, type RevokeTask, type ValidateTask } from '../protocol/token-service-tasks.js';

const WORKER_FILE = new URL('../../workers/token-service/main.js', import.meta.url).href;

export class TokenService {
  private readonly pool = new Piscina({
    filename: WORKER_FILE,
    // Validation and refresh are rare (start-up, a changed auth.json, a due refresh), so no thread
    // is kept waiting: an idle worker costs ~35 MB, a fresh one ~0.1 s to start (kept that low by
    // loading the HTTP client only for a refresh; test/startup-graph.test.ts pins it).
    minThreads: 0,
    maxThreads: 2,
    idleTimeout: 500,
    // Workers keep sockets and timers between tasks; 'sync' atomics would freeze them.
    atomics: 'disabled',
    // Tasks wait on the network and on the auth.json lock, not on the CPU: a refresh hanging on
    // a dead issuer (or a slow revocation) must not hold up the validation of a changed auth.json.
    concurrentTasksPerWorker: 8,
    maxQueue: 64,
  });

  async validate(task: ValidateTask): Promise<AuthSnapshot> {
    return AuthSnapshotSchema.parse(await this.pool.run(task, { name: 'validate' }));
  }

  /**
   * Never aborted (aborting a piscina task kills its thread, and with rotation the new refresh
   * token would be lost); the RefreshControl in the task steers it instead.
   */
  async refresh(task: RefreshTask): Promise<RefreshOutcome> {
    return RefreshOutcomeSchema.parse(await this.pool.run(task, { name: 'refresh' }));
  }

  async revoke(task: RevokeTask): Promise<RevokeOutcome> {
    return RevokeOutcomeSchema.parse(await this.pool.run(task, { name: 'revoke' }));
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
