/**
 * `npm run load -- STREAM [--clients N] [--speed X] [--duration S]`: N clients, each with its own
 * server process, replay a recorded stream on tinypool workers. Reports throughput, latency
 * percentiles, mismatches, errors and RSS growth per server (JSON on stdout, a summary on
 * stderr); exits 1 on any mismatch or error, 2 on bad arguments.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import hdr from 'hdr-histogram-js';
import Tinypool from 'tinypool';
import type { ReplayResult, ReplayTask } from './replay-worker.js';

function usage(problem: string): never {
  process.stderr.write(`load: ${problem}\nusage: npm run load -- STREAM.jsonl [--clients N] [--speed X] [--duration S]\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const options = new Map<string, number>();
const positional: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  if (!arg.startsWith('--')) {
    positional.push(arg);
    continue;
  }
  const name = arg.slice(2);
  if (!['clients', 'speed', 'duration'].includes(name)) usage(`unknown option ${arg}`);
  const value = Number(argv[++i]);
  if (!Number.isFinite(value) || value < 0) usage(`${arg} needs a number`);
  options.set(name, value);
}
if (positional.length !== 1) usage('give exactly one stream file');
const clients = Math.floor(options.get('clients') ?? 4);
const speed = options.get('speed') ?? 1;
const durationS = options.get('duration') ?? 0;
if (clients < 1 || clients > 64) usage('--clients must be 1..64');
if (speed <= 0) usage('--speed must be above 0');
if (durationS > 3600) usage('--duration is at most 3600 s');

const task: ReplayTask = { stream: resolve(positional[0]!), speed, durationMs: durationS * 1000 };
const pool = new Tinypool({
  filename: fileURLToPath(new URL('./replay-worker.js', import.meta.url)),
  minThreads: clients,
  maxThreads: clients,
  // Replays keep child processes, sockets and timers alive inside the worker between awaits.
  useAtomics: false,
});
process.stderr.write(`load: ${clients} client(s) replaying ${positional[0]} at ${speed}× ${durationS ? `for ${durationS} s` : 'once'}…\n`);
const started = Date.now();
const settled = await Promise.allSettled(
  // A worker that dies leaves its task pending: the timeout turns that into an error.
  Array.from({ length: clients }, () => pool.run(task, { signal: AbortSignal.timeout(task.durationMs + 120_000) }) as Promise<ReplayResult>),
);
await pool.destroy();
const seconds = (Date.now() - started) / 1000;

const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
const workerErrors = settled.flatMap((s, i) => (s.status === 'rejected' ? [`client ${i + 1}: ${String(s.reason?.message ?? s.reason)}`] : []));
const merged = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
for (const r of results) merged.add(hdr.decodeFromCompressedBase64(r.histogram));
const requests = results.reduce((n, r) => n + r.requests, 0);
const mismatches = results.flatMap((r, i) => r.mismatches.map((m) => `client ${i + 1}: ${m}`));
const errors = [...workerErrors, ...results.flatMap((r, i) => r.errors.map((e) => `client ${i + 1}: ${e}`))];
const round1 = (value: number) => Number(value.toFixed(1));
const report = {
  stream: positional[0],
  clients,
  speed,
  durationS,
  seconds: round1(seconds),
  passes: results.map((r) => r.passes),
  requests,
  notifications: results.reduce((n, r) => n + r.notifications, 0),
  requestsPerSecond: Math.round(requests / seconds),
  startupMs: results.map((r) => round1(r.startupMs)),
  latencyUs: merged.totalCount ? { p50: merged.getValueAtPercentile(50), p90: merged.getValueAtPercentile(90), p99: merged.getValueAtPercentile(99), max: merged.maxValue } : null,
  // Per server: growth after the first pass (once everything is loaded); with one pass, since the first answer.
  rssGrowthMb: results.map((r) => round1(r.passes > 1 ? r.rssMb.end - r.rssMb.afterFirstPass : r.rssMb.end - r.rssMb.start)),
  // A leak keeps growing: compare the growth in the second half with the first.
  rssMb: results.map((r) => ({ start: round1(r.rssMb.start), afterFirstPass: round1(r.rssMb.afterFirstPass), halfway: round1(r.rssMb.halfway), end: round1(r.rssMb.end) })),
  mismatchCount: mismatches.length,
  mismatches: mismatches.slice(0, 20),
  errors,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const latency = report.latencyUs ? `startup ${report.startupMs.join(", ")} ms; then p50 ${report.latencyUs.p50} µs, p99 ${report.latencyUs.p99} µs, max ${report.latencyUs.max} µs` : 'no requests';
process.stderr.write(
  `load: ${requests} requests in ${report.seconds} s (${report.requestsPerSecond}/s), ${latency}; ` +
    `RSS growth per server ${report.rssGrowthMb.join(', ')} MB; ${mismatches.length} mismatch(es), ${errors.length} error(s)\n`,
);
process.exit(mismatches.length > 0 || errors.length > 0 ? 1 : 0);
