/** Spawn → initialize answered; idle RSS after 1 s; ours also with the login worker started. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { median, progress, type Row } from '../lib/report.js';
import { RpcPipe } from '../lib/rpc-pipe.js';
import { rssMb, spawnContestant, type Contestant } from '../lib/servers.js';

async function measure(which: Exclude<Contestant, 'floor'>) {
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const started = process.hrtime.bigint();
  const pipe = new RpcPipe(spawnContestant(which, home, { args: ['-c', 'login_callback_port=0'] }));
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    const initializeMs = Number(process.hrtime.bigint() - started) / 1e6;
    await delay(1_000); // "idle after 1 s" is the measurement itself, not a wait for an event
    const idleRss = rssMb(pipe.child.pid!);
    let loginRss: number | undefined;
    if (which === 'ours') {
      await pipe.request('loginChatGpt', {});
      loginRss = rssMb(pipe.child.pid!);
    }
    return { initializeMs, idleRss, loginRss };
  } finally {
    await pipe.close();
    await rm(home, { recursive: true, force: true });
  }
}

export async function benchStartup({ rounds }: { rounds: number }): Promise<Row[]> {
  const ours: Awaited<ReturnType<typeof measure>>[] = [];
  const original: Awaited<ReturnType<typeof measure>>[] = [];
  for (let round = 0; round < Math.max(rounds, 3); round++) {
    progress(`startup round ${round + 1}`);
    ours.push(await measure('ours'));
    original.push(await measure('original'));
  }
  return [
    { benchmark: 'startup', metric: 'spawn → initialize answered, ms', ours: median(ours.map((s) => s.initializeMs)), original: median(original.map((s) => s.initializeMs)), goal: '≤ 120 ms' },
    { benchmark: 'startup', metric: 'idle RSS after 1 s, MB', ours: median(ours.map((s) => s.idleRss)), original: median(original.map((s) => s.idleRss)), goal: '≤ 75 MB' },
    { benchmark: 'startup', metric: 'RSS with the login worker started, MB', ours: median(ours.map((s) => s.loginRss!)), original: 'n/a' },
  ];
}
