/**
 * One replaying client, run on a tinypool worker: spawns its own server (and issuer when the
 * stream needs one), replays the stream (again and again until the duration is over), and checks
 * every response and every notification against the recording.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import hdr from 'hdr-histogram-js';
import { startEmbeddedIssuer, type EmbeddedIssuer } from '../../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../../dev/issuer/scripted-sign-in.js';
import type { RpcMessage } from '../../dev/rpc-client.js';
import { benchClient, newHistogram, type BenchClient } from '../lib/bench-client.js';
import { rssMb } from '../lib/servers.js';
import { mismatch, readStream, substitute, type StreamStep } from './stream.js';

// The embedded issuer (oidc-provider) prints notices with console.info; stdout carries the report.
console.log = console.info = console.warn;

const SERVER = fileURLToPath(new URL('../../bundle/main.js', import.meta.url));
/** Steps that open a session; a later pass on the same server leaves them out. */
const SESSION_SETUP = new Set(['initialize', 'notifications/initialized']);
/** How often an `eventually` step asks again. */
const RETRY_EVERY_MS = 20;

export interface ReplayTask {
  stream: string;
  speed: number;
  durationMs: number;
}

export interface ReplayResult {
  requests: number;
  notifications: number;
  mismatches: string[];
  errors: string[];
  /** hdr-histogram-js, compressed: latency (µs) of every request sent once the server was up. */
  histogram: string;
  /** Spawn → the first answer, ms: requests sent before then wait for start-up, and are not in the histogram. */
  startupMs: number;
  /** RSS after the first answer, after the first pass, after the first pass past half the duration, and at the end. */
  rssMb: { start: number; afterFirstPass: number; halfway: number; end: number };
  passes: number;
}

export default async function replay(task: ReplayTask): Promise<ReplayResult> {
  const { header, steps } = readStream(task.stream);
  const result: ReplayResult = {
    requests: 0,
    notifications: 0,
    mismatches: [],
    errors: [],
    histogram: '',
    startupMs: 0,
    rssMb: { start: 0, afterFirstPass: 0, halfway: 0, end: 0 },
    passes: 0,
  };
  const histogram = newHistogram();
  let issuer: EmbeddedIssuer | undefined;
  let pipe: BenchClient | undefined;
  const home = await mkdtemp(join(tmpdir(), 'replay-'));
  try {
    issuer = header.issuer ? await startEmbeddedIssuer() : undefined;
    const authFile = join(home, 'auth.json');
    if (header.auth !== undefined) await writeFile(authFile, JSON.stringify(header.auth), { mode: 0o600 });
    const args = header.args.map((arg) => arg.replace('${ISSUER}', issuer?.url ?? ''));
    const spawnedAt = process.hrtime.bigint();
    const child = spawn(process.execPath, [SERVER, 'mcp', ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home, CODEX_HOME: home, ...header.env },
    });
    const server = (pipe = benchClient(child));
    server.onNotification((message) => {
      result.notifications++;
      if (!header.notifications.some((pattern) => !mismatch(pattern, message))) {
        result.mismatches.push(`unexpected notification ${JSON.stringify(message).slice(0, 300)}`);
      }
    });
    let retries = 0;

    /** Sends one step's request (again, with a fresh id, for `eventually`) and checks the answer. */
    const exchange = async (index: number, step: StreamStep, message: RpcMessage) => {
      const until = step.eventually === undefined ? 0 : Date.now() + step.eventually;
      let attempt = message;
      for (;;) {
        result.requests++;
        const serverUp = result.startupMs > 0;
        const sentAt = Date.now();
        const t0 = process.hrtime.bigint();
        const response = await server.exchange(attempt);
        const now = process.hrtime.bigint();
        if (serverUp) histogram.recordValue(Number((now - t0) / 1000n));
        if (result.startupMs === 0) {
          result.startupMs = Number(now - spawnedAt) / 1e6;
          result.rssMb.start = rssMb(child.pid!);
        }
        const { id: _id, jsonrpc: _v, ...body } = response;
        const difference = step.expect === undefined ? undefined : mismatch(step.expect, body);
        // Only an answer to a request sent once the bound had passed shows that the state did not
        // settle in time: a slow answer to an earlier ask is asked again, not judged.
        if (!difference || sentAt >= until) {
          if (difference) result.mismatches.push(`step ${index + 2} (${String(message.method)})${until ? `, for ${step.eventually} ms` : ''}: ${difference}`);
          return response;
        }
        await delay(RETRY_EVERY_MS); // `eventually` is a bounded poll, as a client would do
        attempt = { ...message, id: `retry-${++retries}` };
      }
    };

    // Ids whose answers later steps take fields from.
    const referenced = new Set([...JSON.stringify(steps).matchAll(/\$\{result:([^.}]+)\./g)].map((match) => match[1]!));
    const deadline = Date.now() + task.durationMs;
    do {
      const results = new Map<unknown, Record<string, unknown>>();
      const started = Date.now();
      const pending: Promise<unknown>[] = [];
      const answers = new Map<unknown, Promise<unknown>>();
      for (const [index, step] of steps.entries()) {
        const wait = started + step.t / task.speed - Date.now();
        if (wait > 0) await delay(wait); // the stream's own timing is the workload
        // Causality as recorded: what the client had seen before sending this, it sees here too.
        if (step.after) await Promise.all(step.after.map((id) => answers.get(id)));
        if (step.action) {
          if ('writeAuth' in step.action) {
            // Another process writes the file whole and renames it into place, as codex does.
            await writeFile(`${authFile}.replay`, JSON.stringify(step.action.writeAuth), { mode: 0o600 });
            await rename(`${authFile}.replay`, authFile);
          } else if ('removeAuth' in step.action) {
            await rm(authFile, { force: true });
          } else {
            const authUrl = String(substitute(step.action.signIn, results));
            const callback = await signInAtIssuer(authUrl);
            const answer = await fetch(callback, { redirect: 'manual' });
            await answer.arrayBuffer();
            if (answer.status >= 400) result.mismatches.push(`step ${index + 2} (signIn): the callback answered ${answer.status}`);
          }
          continue;
        }
        // Later passes continue the same session: the handshake is not repeated.
        if (result.passes > 0 && SESSION_SETUP.has(String(step.send!['method']))) continue;
        const message = substitute(step.send, results) as RpcMessage;
        if (message.id === undefined) {
          server.send(message);
          continue;
        }
        const answered = exchange(index, step, message).then((response) => {
          if (response.result && typeof response.result === 'object') results.set(message.id, response.result);
        });
        answered.catch(() => undefined); // a server that died fails the Promise.all below, not the worker
        answers.set(message.id, answered);
        // A checkpoint (`eventually`), and a request that later steps refer to, is answered before
        // the stream goes on; the rest overlap freely.
        if (step.eventually !== undefined || referenced.has(String(message.id))) await answered;
        else pending.push(answered);
      }
      await Promise.all(pending);
      result.passes++;
      if (result.passes === 1) result.rssMb.afterFirstPass = rssMb(child.pid!);
      if (result.rssMb.halfway === 0 && Date.now() >= deadline - task.durationMs / 2) result.rssMb.halfway = rssMb(child.pid!);
    } while (Date.now() < deadline);
    result.rssMb.end = rssMb(child.pid!);
  } catch (error) {
    result.errors.push((error as Error).message);
  } finally {
    if (pipe) {
      await pipe.close();
      const { code, signal } = await pipe.exited;
      if (code !== 0) result.errors.push(`the server did not exit cleanly at the end of its input: ${signal ?? code}`);
    }
    await issuer?.close();
    await rm(home, { recursive: true, force: true });
  }
  result.histogram = hdr.encodeIntoCompressedBase64(histogram);
  return result;
}
