/**
 * What a client that spawns the server pays before its first answers: spawn → initialize; spawn
 * → the first getAuthStatus (signed out, an API key, ChatGPT tokens: each home read afresh);
 * spawn → the first `tools/call auth_status` (an MCP host's first question); idle RSS after 1 s,
 * and ours with the login worker started. The floor (a bare Node process answering a constant)
 * shows what any Node server pays to start; the goals are set against it (issue "Start-up,
 * memory and the hot path").
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chatgptAuthRecord } from '../../dev/jwt.js';
import { median, progress, rotate, type Row } from '../lib/report.js';
import { benchClient } from '../lib/bench-client.js';
import { rssMb, spawnContestant, type Contestant } from '../lib/servers.js';

type Home = 'signed out' | 'API key' | 'ChatGPT tokens';
const HOMES: readonly Home[] = ['signed out', 'API key', 'ChatGPT tokens'];

interface Sample {
  initializeMs: number;
  firstStatusMs: Record<Home, number>;
  firstToolMs: number | undefined;
  idleRss: number;
  loginRss?: number;
}

const INITIALIZE = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } };

async function seededHome(home: Home): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'bench-'));
  if (home === 'API key') await writeFile(join(path, 'auth.json'), JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-bench' }), { mode: 0o600 });
  if (home === 'ChatGPT tokens') {
    const record = await chatgptAuthRecord({ email: 'bench@example.com', planType: 'plus', accountId: 'acct-bench', exp: Math.floor(Date.now() / 1000) + 3600 });
    await writeFile(join(path, 'auth.json'), JSON.stringify(record), { mode: 0o600 });
  }
  return path;
}

/** One spawn: initialize, then `then` (a status or a tool call); ms from spawn to each answer. */
async function timeFirstAnswers(which: Contestant, home: Home, then: 'status' | 'tool', keep?: (pipe: ReturnType<typeof benchClient>) => Promise<void>) {
  const path = await seededHome(home);
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  const pipe = benchClient(spawnContestant(which, path, { args: ['-c', 'login_callback_port=0'] }));
  try {
    await pipe.request('initialize', INITIALIZE);
    const initializeMs = elapsed();
    if (then === 'status') await pipe.request('getAuthStatus', {});
    else await pipe.request('tools/call', { name: 'auth_status', arguments: {} });
    const answerMs = elapsed();
    await keep?.(pipe);
    return { initializeMs, answerMs };
  } finally {
    await pipe.close();
    await rm(path, { recursive: true, force: true });
  }
}

async function measure(which: Contestant): Promise<Sample> {
  let idleRss = 0;
  let loginRss: number | undefined;
  const signedOut = await timeFirstAnswers(which, 'signed out', 'status', async (pipe) => {
    await delay(1_000); // "idle after 1 s" is the measurement itself, not a wait for an event
    idleRss = rssMb(pipe.child.pid!);
    if (which !== 'ours') return;
    // The answer to loginChatGpt comes from the login worker, so it is running by now.
    const { result } = await pipe.request('loginChatGpt', {});
    if (!result?.loginId) throw new Error('loginChatGpt did not start a login');
    loginRss = rssMb(pipe.child.pid!);
  });
  const firstStatusMs = { 'signed out': signedOut.answerMs } as Record<Home, number>;
  for (const home of HOMES.slice(1)) firstStatusMs[home] = (await timeFirstAnswers(which, home, 'status')).answerMs;
  // The original has no auth_status tool (its one tool is `codex`).
  const firstToolMs = which === 'original' ? undefined : (await timeFirstAnswers(which, 'ChatGPT tokens', 'tool')).answerMs;
  return { initializeMs: signedOut.initializeMs, firstStatusMs, firstToolMs, idleRss, ...(loginRss !== undefined && { loginRss }) };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export async function benchStartup({ rounds }: { rounds: number }): Promise<Row[]> {
  const samples: Record<Contestant, Sample[]> = { ours: [], original: [], floor: [] };
  const total = Math.max(rounds * 2, 3);
  for (let round = 0; round < total; round++) {
    progress(`startup round ${round + 1}/${total}`);
    for (const which of rotate(['ours', 'original', 'floor'] as const, round)) samples[which].push(await measure(which));
  }
  const m = (which: Contestant, pick: (s: Sample) => number | undefined) => {
    const values = samples[which].map(pick).filter((v): v is number => v !== undefined);
    return values.length ? median(values) : 'n/a';
  };
  const floorInit = m('floor', (s) => s.initializeMs) as number;
  const oursInit = m('ours', (s) => s.initializeMs) as number;
  const floorRss = m('floor', (s) => s.idleRss) as number;
  const statusRow = (home: Home): Row => ({
    benchmark: 'startup',
    metric: `spawn → first getAuthStatus answered (${home}), ms`,
    ours: m('ours', (s) => s.firstStatusMs[home]),
    original: m('original', (s) => s.firstStatusMs[home]),
    floor: m('floor', (s) => s.firstStatusMs[home]),
    goal: `≤ ${round1(oursInit + 10)} ms (our initialize + 10)`,
  });
  return [
    { benchmark: 'startup', metric: 'spawn → initialize answered, ms', ours: oursInit, original: m('original', (s) => s.initializeMs), floor: floorInit, goal: `≤ ${round1(floorInit + 25)} ms (floor + 25)` },
    ...HOMES.map(statusRow),
    { benchmark: 'startup', metric: 'spawn → first tools/call auth_status answered (ChatGPT tokens), ms', ours: m('ours', (s) => s.firstToolMs), original: 'n/a (no such tool)', floor: m('floor', (s) => s.firstToolMs), goal: `≤ ${round1(oursInit + 10)} ms (our initialize + 10)` },
    { benchmark: 'startup', metric: 'idle RSS after 1 s, MB', ours: m('ours', (s) => s.idleRss), original: m('original', (s) => s.idleRss), floor: floorRss, goal: `≤ ${round1(floorRss + 12)} MB (floor + 12)` },
    { benchmark: 'startup', metric: 'RSS with the login worker started, MB', ours: m('ours', (s) => s.loginRss), original: 'n/a (no worker)', goal: `≤ ${round1(floorRss + 35)} MB (floor + 35)` },
  ];
}
