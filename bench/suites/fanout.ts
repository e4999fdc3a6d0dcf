/** Notifications/s delivered when another process keeps changing auth.json (ours; the original does not watch). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { median, progress, type Row } from '../lib/report.js';
import { RpcPipe } from '../lib/rpc-pipe.js';
import { spawnContestant } from '../lib/servers.js';

const DURATION_MS = 3_000;
const CHANGE_EVERY_MS = 25;

async function measure(): Promise<{ changes: number; delivered: number }> {
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const pipe = new RpcPipe(spawnContestant('ours', home));
  let delivered = 0;
  pipe.onNotification((m) => m.method === 'codex/event/auth_status_change' && delivered++);
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    await pipe.request('getAuthStatus', {});
    let changes = 0;
    const end = Date.now() + DURATION_MS;
    while (Date.now() < end) {
      // Alternate between an API key and signed out, so every change is a change of method.
      if (changes % 2 === 0) await writeFile(join(home, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-x' }));
      else await rm(join(home, 'auth.json'));
      changes++;
      await delay(CHANGE_EVERY_MS); // the change rate is the workload
    }
    await delay(200);
    return { changes, delivered };
  } finally {
    await pipe.close();
    await rm(home, { recursive: true, force: true });
  }
}

export async function benchFanout({ rounds }: { rounds: number }): Promise<Row[]> {
  const samples = [];
  for (let round = 0; round < rounds; round++) {
    progress(`fanout round ${round + 1}/${rounds}`);
    samples.push(await measure());
  }
  return [
    { benchmark: 'fanout', metric: 'auth_status_change delivered per s', ours: median(samples.map((s) => s.delivered / (DURATION_MS / 1000))), original: 'n/a (does not watch)' },
    { benchmark: 'fanout', metric: 'changes made per s', ours: median(samples.map((s) => s.changes / (DURATION_MS / 1000))), original: '' },
  ];
}
