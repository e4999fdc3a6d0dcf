/**
 * One replaying client, run on a tinypool worker: spawns its own server (and issuer when the
 * stream needs one), replays the stream in a loop for the given duration, and checks every
 * response against the recording.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import hdr from 'hdr-histogram-js';
import { startEmbeddedIssuer } from '../../src/issuer/embedded-issuer.js';
import { newHistogram, RpcPipe } from '../lib/rpc-pipe.js';
import { rssMb } from '../lib/servers.js';
import { mismatch, readStream, substitute } from './stream.js';

const SERVER = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ReplayTask {
  stream: string;
  speed: number;
  durationMs: number;
}

export interface ReplayResult {
  requests: number;
  mismatches: string[];
  errors: string[];
  histogram: string;
  rssStartMb: number;
  rssEndMb: number;
  passes: number;
}

export default async function replay(task: ReplayTask): Promise<ReplayResult> {
  const { header, steps } = readStream(task.stream);
  const issuer = header.issuer ? await startEmbeddedIssuer() : undefined;
  const home = await mkdtemp(join(tmpdir(), 'replay-'));
  const authFile = join(home, 'auth.json');
  if (header.auth !== undefined) await writeFile(authFile, JSON.stringify(header.auth), { mode: 0o600 });
  const args = header.args.map((arg) => arg.replace('${ISSUER}', issuer?.url ?? ''));
  const child = spawn(process.execPath, [SERVER, 'mcp', ...args], { env: { PATH: process.env['PATH'] ?? '', CODEX_HOME: home, ...header.env } });
  const pipe = new RpcPipe(child);
  const histogram = newHistogram();
  const result: ReplayResult = { requests: 0, mismatches: [], errors: [], histogram: '', rssStartMb: 0, rssEndMb: 0, passes: 0 };
  pipe.onNotification((message) => {
    if (header.notifications.length > 0 && !header.notifications.some((pattern) => !mismatch(pattern, message))) {
      result.mismatches.push(`unexpected notification ${JSON.stringify(message).slice(0, 200)}`);
    }
  });
  try {
    const deadline = Date.now() + task.durationMs;
    do {
      const results = new Map<unknown, Record<string, unknown>>();
      const started = Date.now();
      const pending: Promise<void>[] = [];
      for (const [index, step] of steps.entries()) {
        const wait = started + step.t / task.speed - Date.now();
        if (wait > 0) await delay(wait); // the stream's own timing is the workload
        if (step.action) {
          if ('writeAuth' in step.action) await writeFile(authFile, JSON.stringify(step.action.writeAuth), { mode: 0o600 });
          else await rm(authFile, { force: true });
          continue;
        }
        if (!step.send) continue;
        const message = substitute(step.send, results) as Record<string, unknown>;
        if (message['id'] === undefined) {
          child.stdin.write(`${JSON.stringify(message)}\n`);
          continue;
        }
        result.requests++;
        const t0 = process.hrtime.bigint();
        const answered = pipe.request(String(message['method']), message['params']).then((response) => {
          histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
          if (response.result && typeof response.result === 'object') results.set(message['id'], response.result);
          const { id: _id, jsonrpc: _v, ...body } = response;
          const difference = step.expect === undefined ? undefined : mismatch(step.expect, body);
          if (difference) result.mismatches.push(`step ${index + 2} (${String(message['method'])}): ${difference}`);
          if (result.rssStartMb === 0) result.rssStartMb = rssMb(child.pid!);
        });
        // Requests that later steps refer to must be answered first; the rest overlap freely.
        if (steps.slice(index + 1).some((later) => JSON.stringify(later.send ?? {}).includes(`\${result:${String(message['id'])}.`))) await answered;
        else pending.push(answered);
      }
      await Promise.all(pending);
      result.passes++;
    } while (Date.now() < deadline);
    result.rssEndMb = rssMb(child.pid!);
  } catch (error) {
    result.errors.push((error as Error).message);
  } finally {
    await pipe.close();
    await issuer?.close();
    await rm(home, { recursive: true, force: true });
  }
  result.histogram = hdr.encodeIntoCompressedBase64(histogram);
  return result;
}
