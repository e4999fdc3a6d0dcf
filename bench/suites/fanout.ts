/**
 * Fan-out: several servers share one CODEX_HOME while another process (this one) changes
 * auth.json in a loop, alternating between an API key and signed out so every change is a change
 * of method. Each change waits until every server has announced it (or a timeout), so the figures
 * are the servers' own: announcements delivered per second, and change → announcement latency.
 * The original is put through the same loop, shorter: it does not watch auth.json.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, progress, type Row } from '../lib/report.js';
import type { RpcMessage } from '../../dev/rpc-client.js';
import { benchClient, newHistogram, type BenchClient } from '../lib/bench-client.js';
import { spawnContestant } from '../lib/servers.js';

const SERVERS = 4;
const LIMIT_MS = 20_000;

interface Sample {
  changes: number;
  delivered: number;
  expected: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Resolves with the µs from `t0` to the next matching notification, or undefined after `timeoutMs`. */
function nextAnnouncement(pipe: BenchClient, authMethod: string | undefined, t0: bigint, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, timeoutMs);
    const stop = pipe.onNotification((message: RpcMessage) => {
      if (message.method !== 'codex/event/auth_status_change' || message.params?.authMethod !== authMethod) return;
      clearTimeout(timer);
      stop();
      resolve(Number((process.hrtime.bigint() - t0) / 1000n));
    });
  });
}

async function measure(which: 'ours' | 'original', changes: number, timeoutMs: number): Promise<Sample> {
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const authFile = join(home, 'auth.json');
  const pipes = Array.from({ length: SERVERS }, () => benchClient(spawnContestant(which, home)));
  const histogram = newHistogram();
  let delivered = 0;
  let made = 0;
  try {
    await Promise.all(
      pipes.map(async (pipe) => {
        await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
        await pipe.request('getAuthStatus', {});
      }),
    );
    const started = process.hrtime.bigint();
    const end = Date.now() + LIMIT_MS;
    for (; made < changes && Date.now() < end; made++) {
      const authMethod = made % 2 === 0 ? 'apikey' : undefined;
      const t0 = process.hrtime.bigint();
      const announced = Promise.all(pipes.map((pipe) => nextAnnouncement(pipe, authMethod, t0, timeoutMs)));
      if (authMethod) {
        // Written whole and renamed into place, so no server can read a half-written file.
        await writeFile(`${authFile}.tmp`, JSON.stringify({ OPENAI_API_KEY: `sk-fanout-${made}` }), { mode: 0o600 });
        await rename(`${authFile}.tmp`, authFile);
      } else {
        await rm(authFile);
      }
      for (const latency of await announced) {
        if (latency === undefined) continue;
        delivered++;
        histogram.recordValue(latency);
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const ms = (percentile: number) => (delivered ? histogram.getValueAtPercentile(percentile) / 1000 : NaN);
    return { changes: made, delivered, expected: made * SERVERS, perSecond: delivered / seconds, p50: ms(50), p99: ms(99) };
  } finally {
    await Promise.all(pipes.map((pipe) => pipe.close()));
    await rm(home, { recursive: true, force: true });
  }
}

export async function benchFanout({ rounds, quick }: { rounds: number; quick: boolean }): Promise<Row[]> {
  const ours: Sample[] = [];
  const original: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    progress(`fanout round ${round + 1}/${rounds}: ours`);
    ours.push(await measure('ours', quick ? 20 : 100, 2_000));
    progress(`fanout round ${round + 1}/${rounds}: original`);
    original.push(await measure('original', 4, 500));
  }
  const show = (value: number) => (Number.isNaN(value) ? 'none delivered' : value);
  const delivered = (samples: Sample[]) => `${median(samples.map((s) => s.delivered))} of ${median(samples.map((s) => s.expected))}`;
  const label = `fanout (${SERVERS} servers, one CODEX_HOME)`;
  return [
    { benchmark: label, metric: 'auth_status_change delivered / expected', ours: delivered(ours), original: delivered(original), goal: 'all' },
    { benchmark: label, metric: 'notifications delivered per s', ours: median(ours.map((s) => s.perSecond)), original: median(original.map((s) => s.perSecond)) },
    { benchmark: label, metric: 'change → notification p50 ms', ours: show(median(ours.map((s) => s.p50))), original: show(median(original.map((s) => s.p50))) },
    { benchmark: label, metric: 'change → notification p99 ms', ours: show(median(ours.map((s) => s.p99))), original: show(median(original.map((s) => s.p99))), goal: '≤ 200 ms' },
  ];
}
