/** Ours only: callback request → login_chat_gpt_complete, against the embedded issuer. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedIssuer } from '../../src/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../../src/issuer/scripted-sign-in.js';
import { median, progress, type Row } from '../lib/report.js';
import { RpcPipe } from '../lib/rpc-pipe.js';
import { spawnContestant } from '../lib/servers.js';

export async function benchLogin({ rounds }: { rounds: number }): Promise<Row[]> {
  const issuer = await startEmbeddedIssuer();
  const home = await mkdtemp(join(tmpdir(), 'bench-'));
  const pipe = new RpcPipe(spawnContestant('ours', home, { args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'] }));
  const times: number[] = [];
  try {
    await pipe.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    for (let i = 0; i < Math.max(5, rounds * 5); i++) {
      progress(`login ${i + 1}`);
      const { result } = await pipe.request('loginChatGpt');
      const callback = await signInAtIssuer(result.authUrl);
      const completed = new Promise<void>((resolve) =>
        pipe.onNotification((m) => m.method === 'codex/event/login_chat_gpt_complete' && m.params.loginId === result.loginId && resolve()),
      );
      const t0 = process.hrtime.bigint();
      await fetch(callback, { redirect: 'manual' });
      await completed;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    await pipe.close();
    await issuer.close();
    await rm(home, { recursive: true, force: true });
  }
  return [{ benchmark: 'login', metric: 'callback → completion notification, ms', ours: median(times), original: 'n/a (cannot use a local issuer)' }];
}
