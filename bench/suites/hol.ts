/**
 * Head-of-line blocking: ping latency while a token refresh hangs. The original is made to hang
 * the same way: auth.json with a 60-day-old last_refresh (it refreshes inline on getAuthStatus)
 * and HTTPS_PROXY pointing at a loopback proxy that accepts CONNECT and never answers. Ours points
 * auth_issuer at a loopback server that accepts the refresh POST and never answers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatgptAuthRecord } from '../../test/support/tokens.js';
import { startHangingServer } from '../lib/hanging-server.js';
import { median, progress, type Row } from '../lib/report.js';
import { newHistogram, RpcPipe } from '../lib/rpc-pipe.js';
import { spawnContestant } from '../lib/servers.js';

const PINGS = 500;
const WINDOW_MS = 3_000;

async function measure(which: 'ours' | 'original') {
  const hanging = await startHangingServer();
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const record = await chatgptAuthRecord();
  record.last_refresh = new Date(Date.now() - 60 * 24 * 3600_000).toISOString();
  await writeFile(join(home, 'auth.json'), JSON.stringify(record), { mode: 0o600 });
  const child =
    which === 'ours'
      ? spawnContestant('ours', home, { args: ['-c', `auth_issuer=http://127.0.0.1:${hanging.port}`] })
      : spawnContestant('original', home, { env: { HTTPS_PROXY: `http://127.0.0.1:${hanging.port}`, NO_PROXY: '' } });
  const pipe = new RpcPipe(child);
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    void pipe.request('getAuthStatus', { includeToken: true, refreshToken: true }); // hangs on the refresh
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the refresh reach the hanging peer
    const histogram = newHistogram();
    let answered = 0;
    const deadline = Date.now() + WINDOW_MS;
    const pings = Array.from({ length: PINGS }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * WINDOW_MS) / PINGS / 2));
      const t0 = process.hrtime.bigint();
      const answer = pipe.request('ping');
      const result = await Promise.race([answer, new Promise((resolve) => setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now())))]);
      if (result !== 'late') {
        answered++;
        histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
      }
    });
    await Promise.all(pings);
    return { answered, p50: answered ? histogram.getValueAtPercentile(50) / 1000 : NaN, p99: answered ? histogram.getValueAtPercentile(99) / 1000 : NaN };
  } finally {
    pipe.child.kill('SIGKILL');
    await hanging.close();
    await rm(home, { recursive: true, force: true });
  }
}

export async function benchHol({ rounds }: { rounds: number }): Promise<Row[]> {
  const ours: Awaited<ReturnType<typeof measure>>[] = [];
  const original: Awaited<ReturnType<typeof measure>>[] = [];
  for (let round = 0; round < rounds; round++) {
    progress(`hol round ${round + 1}/${rounds}`);
    ours.push(await measure('ours'));
    original.push(await measure('original'));
  }
  const show = (value: number) => (Number.isNaN(value) ? 'none answered' : value);
  return [
    { benchmark: 'hol (refresh hangs)', metric: `pings answered within ${WINDOW_MS / 1000} s (of ${PINGS})`, ours: median(ours.map((s) => s.answered)), original: median(original.map((s) => s.answered)), goal: 'all' },
    { benchmark: 'hol (refresh hangs)', metric: 'ping p50 ms', ours: show(median(ours.map((s) => s.p50))), original: show(median(original.map((s) => s.p50))) },
    { benchmark: 'hol (refresh hangs)', metric: 'ping p99 ms', ours: show(median(ours.map((s) => s.p99))), original: show(median(original.map((s) => s.p99))), goal: '≤ 2 ms' },
  ];
}
