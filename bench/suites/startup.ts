/**
 * What a client that spawns the server pays before its first answers, under each Node version our
 * users run (bench/lib/node-versions.ts), each beside the floor under the same Node: spawn →
 * initialize; spawn → the first getAuthStatus (signed out, an API key, ChatGPT tokens: each home
 * read afresh) and RSS 1 s after it; spawn → the first `tools/call auth_status` (an MCP host's
 * first question); RSS with the login worker started; and the `status` command against a bare
 * Node script that reads and parses auth.json and prints one line (floor-status.ts). The floor (a
 * bare Node process answering a constant) shows what any Node server pays to start; the goals are
 * set against it (issue "Start-up and memory on the Node our users run").
 *
 * The original does not depend on Node: it runs once a round, and its figures stand beside each
 * version's. Before the rounds, one start of ours per version fills Node's compile cache (what a
 * person's second start finds: it is kept across starts).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chatgptAuthRecord } from '../../dev/jwt.js';
import { median, progress, rotate, type Row } from '../lib/report.js';
import { benchClient } from '../lib/bench-client.js';
import type { NodeBinary } from '../lib/node-versions.js';
import { FLOOR_STATUS, OURS, rssMb, spawnContestant, type Contestant } from '../lib/servers.js';

type Home = 'signed out' | 'API key' | 'ChatGPT tokens';
const HOMES: readonly Home[] = ['signed out', 'API key', 'ChatGPT tokens'];

interface Sample {
  initializeMs: number;
  firstStatusMs: Record<Home, number>;
  idleRss: Record<Home, number>;
  firstToolMs: number | undefined;
  loginRss?: number;
  statusCommandMs?: number;
}

/** One contestant under one Node (the original under none). */
interface Entrant {
  key: string;
  which: Contestant;
  node?: NodeBinary;
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
async function timeFirstAnswers(entrant: Entrant, home: Home, then: 'status' | 'tool', keep?: (pipe: ReturnType<typeof benchClient>) => Promise<void>) {
  const path = await seededHome(home);
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  const pipe = benchClient(spawnContestant(entrant.which, path, { args: ['-c', 'login_callback_port=0'], ...(entrant.node && { node: entrant.node.path }) }));
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

/** Spawn → exit of `status` (ours) or of the script that only reads auth.json (the floor), with an API key; ms. */
async function timeStatusCommand(entrant: Entrant): Promise<number> {
  const path = await seededHome('API key');
  const args = entrant.which === 'ours' ? [OURS, 'status'] : [FLOOR_STATUS];
  try {
    const started = process.hrtime.bigint();
    const child = spawn(entrant.node!.path, args, { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', CODEX_HOME: path }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (code !== 0 || !out.startsWith('Signed in with an API key.')) throw new Error(`${entrant.key}: status exited ${code}: ${out}`);
    return ms;
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}

async function measure(entrant: Entrant): Promise<Sample> {
  const idleRss = {} as Record<Home, number>;
  const firstStatusMs = {} as Record<Home, number>;
  let initializeMs = 0;
  let loginRss: number | undefined;
  for (const home of HOMES) {
    const answers = await timeFirstAnswers(entrant, home, 'status', async (pipe) => {
      await delay(1_000); // "idle after 1 s" is the measurement itself, not a wait for an event
      idleRss[home] = rssMb(pipe.child.pid!);
      if (entrant.which !== 'ours' || home !== 'signed out') return;
      // The answer to loginChatGpt comes from the login worker, so it is running by now.
      const { result } = await pipe.request('loginChatGpt', {});
      if (!result?.loginId) throw new Error('loginChatGpt did not start a login');
      loginRss = rssMb(pipe.child.pid!);
    });
    firstStatusMs[home] = answers.answerMs;
    if (home === 'signed out') initializeMs = answers.initializeMs;
  }
  // The original has no auth_status tool (its one tool is `codex`), and its `status` is not Node's.
  const firstToolMs = entrant.which === 'original' ? undefined : (await timeFirstAnswers(entrant, 'ChatGPT tokens', 'tool')).answerMs;
  const statusCommandMs = entrant.which === 'original' ? undefined : await timeStatusCommand(entrant);
  return { initializeMs, firstStatusMs, idleRss, firstToolMs, ...(loginRss !== undefined && { loginRss }), ...(statusCommandMs !== undefined && { statusCommandMs }) };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** `≤ 75.3 ms (floor + 30): met` */
function goal(value: number | string, bound: number, unit: string, how: string): string {
  const verdict = typeof value === 'number' ? (value <= bound ? 'met' : 'NOT met') : '';
  return `≤ ${round1(bound)} ${unit} (${how})${verdict && `: ${verdict}`}`;
}

export async function benchStartup({ rounds, nodes }: { rounds: number; nodes: NodeBinary[] }): Promise<Row[]> {
  const entrants: Entrant[] = [{ key: 'original', which: 'original' }];
  for (const node of nodes) entrants.push({ key: `ours ${node.label}`, which: 'ours', node }, { key: `floor ${node.label}`, which: 'floor', node });
  for (const node of nodes) await timeStatusCommand({ key: `warm-up ${node.label}`, which: 'ours', node });
  const samples = new Map<string, Sample[]>(entrants.map((e) => [e.key, []]));
  const total = Math.max(rounds, 3);
  for (let round = 0; round < total; round++) {
    progress(`startup round ${round + 1}/${total}`);
    for (const entrant of rotate(entrants, round)) samples.get(entrant.key)!.push(await measure(entrant));
  }
  const m = (key: string, pick: (s: Sample) => number | undefined): number | string => {
    const values = samples.get(key)!.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? median(values) : 'n/a';
  };
  const rows: Row[] = [];
  for (const node of nodes) {
    const ours = (pick: (s: Sample) => number | undefined) => m(`ours ${node.label}`, pick);
    const floor = (pick: (s: Sample) => number | undefined) => m(`floor ${node.label}`, pick);
    const original = (pick: (s: Sample) => number | undefined) => m('original', pick);
    const row = (metric: string, pick: (s: Sample) => number | undefined, bound: (floor: number) => number, unit: string, how: string, originalValue: number | string = original(pick)): Row => {
      const [o, f] = [ours(pick), floor(pick)];
      return { benchmark: `startup (${node.label})`, metric, ours: o, original: originalValue, floor: f, goal: typeof f === 'number' ? goal(o, bound(f), unit, how) : '' };
    };
    const floorIdleSignedOut = floor((s) => s.idleRss['signed out']);
    rows.push(
      row('spawn → initialize answered, ms', (s) => s.initializeMs, (f) => f + 25, 'ms', 'floor + 25'),
      ...HOMES.map((home) => row(`spawn → first getAuthStatus answered (${home}), ms`, (s) => s.firstStatusMs[home], (f) => f + 30, 'ms', 'floor + 30')),
      row('spawn → first tools/call auth_status answered (ChatGPT tokens), ms', (s) => s.firstToolMs, (f) => f + 30, 'ms', 'floor + 30', 'n/a (no such tool)'),
      ...HOMES.map((home) => row(`RSS 1 s after the first getAuthStatus (${home}), MB`, (s) => s.idleRss[home], (f) => f + 12, 'MB', 'floor + 12')),
      {
        benchmark: `startup (${node.label})`,
        metric: 'RSS with the login worker started (signed out), MB',
        ours: ours((s) => s.loginRss),
        original: 'n/a (no worker)',
        floor: floorIdleSignedOut,
        goal: typeof floorIdleSignedOut === 'number' ? goal(ours((s) => s.loginRss), floorIdleSignedOut + 30, 'MB', 'floor idle + 30') : '',
      },
      row('`status` (API key), spawn → exit, ms; floor: read + parse auth.json, print a line', (s) => s.statusCommandMs, (f) => f + 40, 'ms', 'floor + 40', 'n/a'),
    );
  }
  return rows;
}
