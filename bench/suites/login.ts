/**
 * Ours only: the time from the browser's callback request to the `login_chat_gpt_complete`
 * notification, against the embedded issuer (the code exchange, writing auth.json, validating the
 * new tokens and announcing). The original cannot be pointed at a local issuer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedIssuer } from '../../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../../dev/issuer/scripted-sign-in.js';
import { progress, type Row } from '../lib/report.js';
import { benchClient, newHistogram } from '../lib/bench-client.js';
import { spawnContestant } from '../lib/servers.js';
import { within } from '../lib/within.js';

export async function benchLogin({ rounds }: { rounds: number }): Promise<Row[]> {
  const issuer = await startEmbeddedIssuer();
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const pipe = benchClient(spawnContestant('ours', home, { args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'] }));
  const histogram = newHistogram();
  const logins = Math.max(5, rounds * 5);
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    for (let i = 0; i < logins; i++) {
      progress(`login ${i + 1}/${logins}`);
      const { result } = await pipe.request('loginChatGpt', {});
      const callback = await signInAtIssuer(result.authUrl);
      let stop: () => void = () => undefined;
      const completed = new Promise<boolean>((resolve) => {
        stop = pipe.onNotification((m) => m.method === 'codex/event/login_chat_gpt_complete' && m.params.loginId === result.loginId && resolve(m.params.success));
      });
      const t0 = process.hrtime.bigint();
      await fetch(callback, { redirect: 'manual' }).then((response) => response.arrayBuffer());
      const success = await within(completed, 10_000, 'timeout' as const);
      stop();
      if (success !== true) throw new Error(`login ${i + 1} did not complete: ${success}`);
      histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
    }
  } finally {
    await pipe.close();
    await issuer.close();
    await rm(home, { recursive: true, force: true });
  }
  const ms = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000;
  const original = 'n/a (cannot use a local issuer)';
  return [
    { benchmark: `login (${logins} sign-ins)`, metric: 'callback → completion notification p50 ms', ours: ms(50), original },
    { benchmark: `login (${logins} sign-ins)`, metric: 'callback → completion notification max ms', ours: histogram.maxValue / 1000, original },
  ];
}
