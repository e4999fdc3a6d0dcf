/**
 * Head-of-line blocking: ping latency while a token refresh hangs. The original is made to hang
 * the same way: auth.json with a 60-day-old last_refresh (it refreshes inline on getAuthStatus)
 * and HTTPS_PROXY pointing at a loopback proxy that accepts CONNECT and never answers. Ours points
 * auth_issuer at a loopback server that accepts the refresh POST and never answers.
 *
 * Pings go out at a steady pace over the window, one at a time per slot (not a burst), each
 * waiting at most until the end of the window; unanswered ones count as not answered.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chatgptAuthRecord } from '../../dev/jwt.js';
import { startHangingServer } from '../lib/hanging-server.js';
import { median, progress, type Row } from '../lib/report.js';
import { within } from '../lib/within.js';
import { benchClient, newHistogram } from '../lib/bench-client.js';
import { spawnContestant } from '../lib/servers.js';

const PINGS = 500;
const SEND_OVER_MS = 2_000;
const WINDOW_MS = 3_000;

interface Sample {
  answered: number;
  p50: number;
  p99: number;
  max: number;
  refreshStillHanging: boolean;
}

async function measure(which: 'ours' | 'original'): Promise<Sample> {
  const hanging = await startHangingServer();
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const record = await chatgptAuthRecord();
  record.last_refresh = new Date(Date.now() - 60 * 24 * 3600_000).toISOString();
  await writeFile(join(home, 'auth.json'), JSON.stringify(record), { mode: 0o600 });
  const child =
    which === 'ours'
      ? spawnContestant('ours', home, { args: ['-c', `auth_issuer=http://127.0.0.1:${hanging.port}`, '-c', 'refresh_timeout_secs=60'] })
      : spawnContestant('original', home, { env: { HTTPS_PROXY: `http://127.0.0.1:${hanging.port}`, NO_PROXY: '' } });
  const pipe = benchClient(child);
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    let refreshEnded = false;
    pipe.request('getAuthStatus', { includeToken: true, refreshToken: true }).then(
      () => (refreshEnded = true),
      () => (refreshEnded = true),
    );
    // The refresh has reached the peer that never answers: from here on it hangs.
    const reached = await within(hanging.connected.then(() => true), 10_000, false);
    if (!reached) throw new Error(`${which}: the refresh never reached the hanging peer`);
    const histogram = newHistogram();
    let answered = 0;
    const deadline = Date.now() + WINDOW_MS;
    const pings = Array.from({ length: PINGS }, async (_, i) => {
      await delay((i * SEND_OVER_MS) / PINGS); // the ping schedule is the workload
      const t0 = process.hrtime.bigint();
      const result = await within(pipe.request('ping', {}), Math.max(0, deadline - Date.now()), 'late' as const);
      if (result !== 'late') {
        answered++;
        histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
      }
    });
    await Promise.all(pings);
    const ms = (percentile: number) => (answered ? histogram.getValueAtPercentile(percentile) / 1000 : NaN);
    return { answered, p50: ms(50), p99: ms(99), max: answered ? histogram.maxValue / 1000 : NaN, refreshStillHanging: !refreshEnded };
  } finally {
    pipe.child.kill('SIGKILL');
    await pipe.exited;
    await hanging.close();
    await rm(home, { recursive: true, force: true });
  }
}

export async function benchHol({ rounds }: { rounds: number }): Promise<Row[]> {
  const samples: Record<'ours' | 'original', Sample[]> = { ours: [], original: [] };
  for (let round = 0; round < rounds; round++) {
    progress(`hol round ${round + 1}/${rounds}`);
    for (const which of round % 2 ? (['original', 'ours'] as const) : (['ours', 'original'] as const)) samples[which].push(await measure(which));
  }
  const show = (value: number) => (Number.isNaN(value) ? 'none answered' : value);
  const m = (which: 'ours' | 'original', key: 'answered' | 'p50' | 'p99' | 'max') => show(median(samples[which].map((s) => s[key])));
  const answered = (which: 'ours' | 'original') => String(Math.round(median(samples[which].map((s) => s.answered))));
  const hanging = (which: 'ours' | 'original') => `${samples[which].filter((s) => s.refreshStillHanging).length}/${rounds} rounds`;
  return [
    { benchmark: 'hol (refresh hangs)', metric: 'refresh still hanging at the end of the window', ours: hanging('ours'), original: hanging('original') },
    { benchmark: 'hol (refresh hangs)', metric: `pings answered within ${WINDOW_MS / 1000} s (of ${PINGS})`, ours: answered('ours'), original: answered('original'), goal: 'all' },
    { benchmark: 'hol (refresh hangs)', metric: 'ping p50 ms', ours: m('ours', 'p50'), original: m('original', 'p50') },
    { benchmark: 'hol (refresh hangs)', metric: 'ping p99 ms', ours: m('ours', 'p99'), original: m('original', 'p99'), goal: '≤ 2 ms' },
    { benchmark: 'hol (refresh hangs)', metric: 'ping max ms', ours: m('ours', 'max'), original: m('original', 'max') },
  ];
}
