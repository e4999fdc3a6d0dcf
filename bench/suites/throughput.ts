/**
 * getAuthStatus with API-key auth, 1 and 64 in flight: requests/s and latency percentiles. Ours
 * and the floor under each Node version (bench/lib/node-versions.ts), the original once a round.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, progress, rotate, type Row } from '../lib/report.js';
import { benchClient, load } from '../lib/bench-client.js';
import type { NodeBinary } from '../lib/node-versions.js';
import { spawnContestant, type Contestant } from '../lib/servers.js';

interface Sample {
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

async function measure(which: Contestant, node: NodeBinary | undefined, inFlight: number, requests: number): Promise<Sample> {
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  await writeFile(join(home, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-bench' }), { mode: 0o600 });
  const pipe = benchClient(spawnContestant(which, home, node && { node: node.path }));
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

export async function benchThroughput({ rounds, requests, nodes }: { rounds: number; requests: number; nodes: NodeBinary[] }): Promise<Row[]> {
  const rows: Row[] = [];
  const entrants: { key: string; which: Contestant; node?: NodeBinary }[] = [{ key: 'original', which: 'original' }];
  for (const node of nodes) entrants.push({ key: `ours ${node.label}`, which: 'ours', node }, { key: `floor ${node.label}`, which: 'floor', node });
  for (const inFlight of [64, 1]) {
    const samples = new Map<string, Sample[]>(entrants.map((e) => [e.key, []]));
    for (let round = 0; round < rounds; round++) {
      for (const { key, which, node } of rotate(entrants, round)) {
        progress(`throughput ${inFlight} in flight, round ${round + 1}/${rounds}: ${key}`);
        samples.get(key)!.push(await measure(which, node, inFlight, requests));
      }
    }
    const m = (key: string, field: keyof Sample) => median(samples.get(key)!.map((s) => s[field]));
    for (const node of nodes) {
      const label = `throughput (${inFlight} in flight, ${node.label})`;
      const [ours, floor] = [`ours ${node.label}`, `floor ${node.label}`];
      const share = m(ours, 'perSecond') / m(floor, 'perSecond');
      const p99Ratio = m(ours, 'p99') / m(floor, 'p99');
      rows.push(
        {
          benchmark: label,
          metric: 'requests/s',
          ours: m(ours, 'perSecond'),
          original: m('original', 'perSecond'),
          floor: m(floor, 'perSecond'),
          goal: inFlight === 64 ? `≥ 85 % of the floor (${Math.round(share * 100)} %: ${share >= 0.85 ? 'met' : 'NOT met'}), ≥ 100k, ≥ 6× original` : '',
        },
        { benchmark: label, metric: 'p50 µs', ours: m(ours, 'p50'), original: m('original', 'p50'), floor: m(floor, 'p50'), goal: inFlight === 1 ? '≤ 100 µs' : '' },
        { benchmark: label, metric: 'p99 µs', ours: m(ours, 'p99'), original: m('original', 'p99'), floor: m(floor, 'p99'), goal: inFlight === 64 ? `≤ 1.5× the floor's (${p99Ratio.toFixed(2)}×: ${p99Ratio <= 1.5 ? 'met' : 'NOT met'})` : '' },
        { benchmark: label, metric: 'max µs', ours: m(ours, 'max'), original: m('original', 'max'), floor: m(floor, 'max') },
      );
    }
  }
  return rows;
}
