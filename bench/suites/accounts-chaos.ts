/**
 * Accounts chaos: 3 of our servers on one CODEX_HOME with 6 accounts, random forced refreshes,
 * switches and logouts while one server is SIGKILLed and restarted about every 1.5 s, against a
 * strict rotating issuer (any reuse → 401). The load itself is test/support/accounts-chaos.ts
 * (test/accounts-chaos.test.ts asserts it); here its figures are summed over the runs: what was
 * done, and what was lost — accounts live at the issuer with their token nowhere on disk, and
 * reuse answers. Codex 0.25 has no several accounts: the `original` column is n/a.
 */
import { progress, type Row } from '../lib/report.js';
import { runAccountsChaos, type ChaosFigures } from '../../test/support/accounts-chaos.js';

export async function benchAccountsChaos({ rounds, quick }: { rounds: number; quick: boolean }): Promise<Row[]> {
  const durationMs = quick ? 10_000 : 25_000;
  const runs = quick ? 1 : Math.min(rounds, 3);
  const samples: ChaosFigures[] = [];
  for (let run = 0; run < runs; run++) {
    progress(`accounts-chaos run ${run + 1}/${runs}: ${durationMs / 1000} s`);
    samples.push(await runAccountsChaos({ durationMs, seed: 26 + run }));
  }
  // Counts as strings: the table would print 0 as "0.00".
  const total = (pick: (f: ChaosFigures) => number) => String(samples.reduce((sum, f) => sum + pick(f), 0));
  const benchmark = `accounts chaos (3 servers, 6 accounts, ${durationMs / 1000} s × ${runs}; SIGKILL ~1.5 s)`;
  const na = 'n/a (no several accounts)';
  return [
    { benchmark, metric: 'forced refreshes / switches / logouts asked (total)', ours: `${total((f) => f.refreshes)} / ${total((f) => f.switches)} / ${total((f) => f.logouts)}`, original: na },
    { benchmark, metric: 'SIGKILLs (total) / of them first waiting for a rotation to reach the disk', ours: `${total((f) => f.kills)} / ${total((f) => f.killsAfterWait)}`, original: na },
    { benchmark, metric: 'issuer refreshes / rotations / revocations (total)', ours: `${total((f) => f.issuerRefreshes)} / ${total((f) => f.rotations)} / ${total((f) => f.revocations)}`, original: na },
    { benchmark, metric: 'refresh_token_reused answers (total)', ours: total((f) => f.reuseAnswers), original: na, goal: '0' },
    { benchmark, metric: 'live accounts with no token on disk at the end (total)', ours: total((f) => f.lost.length), original: na, goal: '0' },
    { benchmark, metric: 'accounts at the end: revoked / live on disk', ours: `${total((f) => f.revoked)} / ${total((f) => f.accounts - f.revoked - f.lost.length)}`, original: na },
  ];
}
