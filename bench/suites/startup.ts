/**
 * Spawn → initialize answered (then → the first getAuthStatus answered); idle RSS after 1 s; ours also with the login worker started. The
 * floor (a bare Node process answering a constant) shows what any Node server pays to start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { median, progress, rotate, type Row } from '../lib/report.js';
import { benchClient } from '../lib/bench-client.js';
import { rssMb, spawnContestant, type Contestant } from '../lib/servers.js';

interface Sample {
  initializeMs: number;
  firstStatusMs: number;
  idleRss: number;
  loginRss?: number;
}

async function measure(which: Contestant): Promise<Sample> {
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const started = process.hrtime.bigint();
  const pipe = benchClient(spawnContestant(which, home, { args: ['-c', 'login_callback_port=0'] }));
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    const initializeMs = Number(process.hrtime.bigint() - started) / 1e6;
    // What an IDE asks next; ours answers it once the token service has read auth.json.
    await pipe.request('getAuthStatus', {});
    const firstStatusMs = Number(process.hrtime.bigint() - started) / 1e6;
    await delay(1_000); // "idle after 1 s" is the measurement itself, not a wait for an event
    const sample: Sample = { initializeMs, firstStatusMs, idleRss: rssMb(pipe.child.pid!) };
    if (which === 'ours') {
      // The answer to loginChatGpt comes from the login worker, so it is running by now.
      const { result } = await pipe.request('loginChatGpt', {});
      if (!result?.loginId) throw new Error('loginChatGpt did not start a login');
      sample.loginRss = rssMb(pipe.child.pid!);
    }
    return sample;
  } finally {
    await pipe.close();
    await rm(home, { recursive: true, force: true });
  }
}

export async function benchStartup({ rounds }: { rounds: number }): Promise<Row[]> {
  const samples: Record<Contestant, Sample[]> = { ours: [], original: [], floor: [] };
  const total = Math.max(rounds * 2, 3);
  for (let round = 0; round < total; round++) {
    progress(`startup round ${round + 1}/${total}`);
    for (const which of rotate(['ours', 'original', 'floor'] as const, round)) samples[which].push(await measure(which));
  }
  const m = (which: Contestant, key: keyof Sample) => median(samples[which].map((s) => s[key]!));
  return [
    { benchmark: 'startup', metric: 'spawn → initialize answered, ms', ours: m('ours', 'initializeMs'), original: m('original', 'initializeMs'), floor: m('floor', 'initializeMs'), goal: '≤ 120 ms' },
    { benchmark: 'startup', metric: 'spawn → first getAuthStatus answered, ms', ours: m('ours', 'firstStatusMs'), original: m('original', 'firstStatusMs'), floor: m('floor', 'firstStatusMs') },
    { benchmark: 'startup', metric: 'idle RSS after 1 s, MB', ours: m('ours', 'idleRss'), original: m('original', 'idleRss'), floor: m('floor', 'idleRss'), goal: '≤ 75 MB' },
    { benchmark: 'startup', metric: 'RSS with the login worker started, MB', ours: m('ours', 'loginRss'), original: 'n/a (no worker)' },
  ];
}
