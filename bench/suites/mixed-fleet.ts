/**
 * Mixed fleet: 3 of our servers and 2 of Codex 0.171's app-servers on one CODEX_HOME, refreshing
 * round after round against a loopback endpoint that rotates the refresh token on every use and
 * answers 401 refresh_token_reused to any reuse (test/support/codex-0171-fleet.ts; the test
 * test/codex-0171-fleet.test.ts asserts the turn-taking mode). Two ways, measured, not asserted:
 *   - turn-taking: our 3 servers × 3 callers force a refresh together, then each 0.171 takes its
 *     turn alone. Expected: no reuse at all.
 *   - all-at-once: our burst and both 0.171 turns start together. 0.171 sends its refresh before
 *     taking any lock, so it collides with whatever else is refreshing, ours included.
 * Figures per mode: rounds, rotations, reuse errors split by who got them, wall time, and whether
 * every process ended on the newest tokens (after settling: 0.171 rereads auth.json with one
 * forced read, ours watch it).
 *
 * In the rows, the `ours` column is our three servers and the `original` column is the two 0.171
 * app-servers (not codex 0.25: it has no part in this suite); whole-fleet figures are in `ours`.
 */
import { median, progress, rotate, type Row } from '../lib/report.js';
import { Fleet, type FleetMode, type FleetOptions } from '../../test/support/codex-0171-fleet.js';
import { requireCodex0171 } from '../../test/support/codex-0171-offline.js';

export interface MixedFleetFigures {
  readonly mode: FleetMode;
  readonly rounds: number;
  /** Refresh requests the endpoint got, and how many of them rotated. */
  readonly requests: number;
  readonly rotations: number;
  /** Requests answered refresh_token_reused, by the kind of process that sent them. */
  readonly reuseErrors: { readonly ours: number; readonly codex0171: number };
  /** Requests with a token the endpoint never issued (should stay 0 in both modes). */
  readonly unknownTokens: number;
  /** Our callers' answers that carried an authError (e.g. refresh_token_reused). */
  readonly oursAuthErrors: number;
  /** 0.171 forced reads answered `account: null` (how it shows a failed refresh). */
  readonly codexAccountNull: number;
  /** The rounds only (not start-up or settling), and per round. */
  readonly wallMs: number;
  readonly perRoundMs: number;
  /** After settling: every process serves the newest tokens. */
  readonly agreement: boolean;
  readonly oursAgreeing: number;
  readonly codexAgreeing: number;
}

/** One fleet, `rounds` rounds in `mode`; everything it started is stopped before it returns. */
export async function runMixedFleet(mode: FleetMode, rounds: number, options: FleetOptions = {}): Promise<MixedFleetFigures> {
  requireCodex0171();
  const undo: (() => unknown)[] = [];
  try {
    const fleet = await Fleet.start(options, (step) => undo.push(step));
    let oursAuthErrors = 0;
    let codexAccountNull = 0;
    const started = process.hrtime.bigint();
    for (let round = 0; round < rounds; round++) {
      const result = await fleet.round(mode, round);
      oursAuthErrors += result.oursErrors.length;
      codexAccountNull += result.codexTurns.reduce((sum, turn) => sum + turn.accountNull, 0);
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const settled = await fleet.settle();
    const { endpoint } = fleet;
    return {
      mode,
      rounds,
      requests: endpoint.records.length,
      rotations: endpoint.rotations,
      reuseErrors: { ours: endpoint.reuseBy('ours'), codex0171: endpoint.reuseBy('codex0171') },
      unknownTokens: endpoint.unknownTokens,
      oursAuthErrors,
      codexAccountNull,
      wallMs,
      perRoundMs: wallMs / rounds,
      agreement: settled.all,
      oursAgreeing: settled.ours.filter((o) => o.matches).length,
      codexAgreeing: settled.codex.filter((c) => c.matches && c.email !== null).length,
    };
  } finally {
    for (const step of undo.reverse()) await Promise.resolve(step()).catch(() => undefined);
  }
}

const MODES: readonly FleetMode[] = ['turn-taking', 'all-at-once'];

export async function benchMixedFleet({ rounds, quick }: { rounds: number; quick: boolean }): Promise<Row[]> {
  const fleetRounds = quick ? 5 : 20;
  const runs: Record<FleetMode, MixedFleetFigures[]> = { 'turn-taking': [], 'all-at-once': [] };
  for (let run = 0; run < rounds; run++) {
    for (const mode of rotate(MODES, run)) {
      progress(`mixed-fleet run ${run + 1}/${rounds}: ${mode}, ${fleetRounds} rounds`);
      runs[mode].push(await runMixedFleet(mode, fleetRounds));
    }
  }
  const rows: Row[] = [];
  for (const mode of MODES) {
    const samples = runs[mode];
    // Counts as strings: the table would print 0 as "0.00" and divide ours by 0.171's.
    const total = (pick: (f: MixedFleetFigures) => number) => String(samples.reduce((sum, f) => sum + pick(f), 0));
    const benchmark = `mixed fleet, ${mode} (3 ours + 2 codex 0.171 in "original"; ${fleetRounds} rounds × ${samples.length})`;
    const whole = 'n/a (whole fleet)';
    rows.push(
      { benchmark, metric: 'refresh requests / rotations (total)', ours: `${total((f) => f.requests)} / ${total((f) => f.rotations)}`, original: whole },
      { benchmark, metric: 'refresh_token_reused answers (total)', ours: total((f) => f.reuseErrors.ours), original: total((f) => f.reuseErrors.codex0171), ...(mode === 'turn-taking' && { goal: '0' }) },
      { benchmark, metric: 'callers answered with authError / 0.171 reads with account:null', ours: total((f) => f.oursAuthErrors), original: total((f) => f.codexAccountNull) },
      { benchmark, metric: 'tokens never issued presented (total)', ours: total((f) => f.unknownTokens), original: whole, goal: '0' },
      { benchmark, metric: 'wall time per round ms (median)', ours: median(samples.map((f) => f.perRoundMs)), original: whole },
      { benchmark, metric: 'processes on the newest tokens after settling', ours: `${total((f) => f.oursAgreeing)} of ${3 * samples.length}`, original: `${total((f) => f.codexAgreeing)} of ${2 * samples.length}`, goal: 'all' },
    );
  }
  return rows;
}
