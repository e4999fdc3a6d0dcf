/** getAuthStatus with API-key auth, 1 and 64 in flight: requests/s and latency percentiles. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, progress, rotate, type Row } from '../lib/report.js';
import { benchClient, load } from '../lib/bench-client.js';
import { spawnContestant, type Contestant } from '../lib/servers.js';

interface Sample {
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

async function measure(which: Contestant, inFlight: number, requests: number): Promise<Sample> {
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  await writeFile(join(home, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-bench' }), { mode: 0o600 });
  const pipe = benchClient(spawnContestant(which, home));
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    // Every contestant must really be answering the question, not failing fast.
    const { result } = await pipe.request('getAuthStatus', { includeToken: false });
    if (result?.authMethod !== 'apikey') throw new Error(`${which}: getAuthStatus answered ${JSON.stringify(result)}`);
    await load(pipe, 'getAuthStatus', { includeToken: false }, Math.min(2_000, requests), inFlight); // warm-up
    const { perSecond, histogram, errors } = await load(pipe, 'getAuthStatus', { includeToken: false }, requests, inFlight);
    if (errors > 0) throw new Error(`${which}: ${errors} error answers under load`);
    return { perSecond, p50: histogram.getValueAtPercentile(50), p99: histogram.getValueAtPercentile(99), max: histogram.maxValue };
  } finally {
    await pipe.close();
    await rm(home, { recursive: true, force: true });
  }
}

export async function benchThroughput({ rounds, requests }: { rounds: number; requests: number }): Promise<Row[]> {
  const rows: Row[] = [];
  for (const inFlight of [64, 1]) {
    const samples: Record<Contestant, Sample[]> = { ours: [], original: [], floor: [] };
    for (let round = 0; round < rounds; round++) {
      for (const which of rotate(['ours', 'original', 'floor'] as const, round)) {
        progress(`throughput ${inFlight} in flight, round ${round + 1}/${rounds}: ${which}`);
        samples[which].push(await measure(which, inFlight, requests));
      }
    }
    const m = (which: Contestant, key: keyof Sample) => median(samples[which].map((s) => s[key]));
    const label = `throughput (${inFlight} in flight)`;
    rows.push(
      { benchmark: label, metric: 'requests/s', ours: m('ours', 'perSecond'), original: m('original', 'perSecond'), floor: m('floor', 'perSecond'), goal: inFlight === 64 ? '≥ 100k, ≥ 6× original' : '' },
      { benchmark: label, metric: 'p50 µs', ours: m('ours', 'p50'), original: m('original', 'p50'), floor: m('floor', 'p50'), goal: inFlight === 1 ? '≤ 100 µs' : '' },
      { benchmark: label, metric: 'p99 µs', ours: m('ours', 'p99'), original: m('original', 'p99'), floor: m('floor', 'p99') },
      { benchmark: label, metric: 'max µs', ours: m('ours', 'max'), original: m('original', 'max'), floor: m('floor', 'max') },
    );
  }
  return rows;
}
