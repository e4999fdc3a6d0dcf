/**
 * `npm run load -- STREAM [--clients N] [--speed X] [--duration S]`: N clients, each with its own
 * server process, replay a recorded stream on tinypool workers. Reports throughput, latency
 * percentiles, mismatches, errors and RSS growth per server; exits non-zero on any mismatch.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import hdr from 'hdr-histogram-js';
import Tinypool from 'tinypool';
import type { ReplayResult, ReplayTask } from './replay-worker.js';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const streamArg = process.argv.slice(2).find((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (!streamArg) {
  process.stderr.write('usage: npm run load -- STREAM.jsonl [--clients N] [--speed X] [--duration S]\n');
  process.exit(2);
}
const clients = flag('clients', 4);
const task: ReplayTask = { stream: resolve(streamArg), speed: flag('speed', 1), durationMs: flag('duration', 0) * 1000 };

const pool = new Tinypool({
  filename: fileURLToPath(new URL('./replay-worker.js', import.meta.url)),
  minThreads: clients,
  maxThreads: clients,
  // Replays keep child processes and timers alive inside the worker between awaits.
  useAtomics: false,
});
process.stderr.write(`load: ${clients} client(s) replaying ${streamArg} at ${task.speed}× for ${task.durationMs / 1000 || 'one pass of'} s…\n`);
const started = Date.now();
const results: ReplayResult[] = await Promise.all(
  Array.from({ length: clients }, () => pool.run(task, { signal: AbortSignal.timeout(task.durationMs + 120_000) })),
);
await pool.destroy();
const seconds = (Date.now() - started) / 1000;

const merged = hdr.build();
for (const r of results) merged.add(hdr.decodeFromCompressedBase64(r.histogram));
const requests = results.reduce((n, r) => n + r.requests, 0);
const mismatches = results.flatMap((r) => r.mismatches);
const errors = results.flatMap((r) => r.errors);
const report = {
  stream: streamArg,
  clients,
  passes: results.map((r) => r.passes),
  requests,
  requestsPerSecond: Math.round(requests / seconds),
  latencyUs: { p50: merged.getValueAtPercentile(50), p99: merged.getValueAtPercentile(99), max: merged.maxValue },
  rssGrowthMb: results.map((r) => Number((r.rssEndMb - r.rssStartMb).toFixed(1))),
  mismatches: mismatches.slice(0, 20),
  mismatchCount: mismatches.length,
  errors,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(mismatches.length > 0 || errors.length > 0 ? 1 : 0);
