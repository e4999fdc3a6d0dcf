/**
 * The bench's side of the shared JSON-RPC client (dev/rpc-client.ts): the client with
 * BENCH_OPTIONS (nothing recorded, no timers, one write per turn, so it is not the bottleneck it
 * measures), a closed-loop load generator, and the HDR histogram latencies (microseconds) go in.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import hdr from 'hdr-histogram-js';
import { BENCH_OPTIONS, RpcClient } from '../../dev/rpc-client.js';

export type Histogram = ReturnType<typeof hdr.build>;
export const newHistogram = (): Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

export type BenchClient = RpcClient<ChildProcessWithoutNullStreams>;

export function benchClient(child: ChildProcessWithoutNullStreams): BenchClient {
  return new RpcClient(child, BENCH_OPTIONS);
}

/** Sends `total` requests keeping `inFlight` outstanding; returns requests/s, the latency histogram and the error answers. */
export async function load(
  client: RpcClient,
  method: string,
  params: unknown,
  total: number,
  inFlight: number,
): Promise<{ perSecond: number; histogram: Histogram; errors: number }> {
  const histogram = newHistogram();
  let sent = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const lane = async () => {
    while (sent < total) {
      sent++;
      const t0 = process.hrtime.bigint();
      const answer = await client.request(method, params);
      histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
      if (answer.error) errors++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: total / seconds, histogram, errors };
}
