/**
 * The mixed fleet: 3 of our servers and 2 of Codex 0.171's app-servers on one CODEX_HOME, all
 * forced to refresh round after round against an endpoint that rotates the refresh token on every
 * use and answers 401 refresh_token_reused to any reuse. Not one reuse may happen, and at the end
 * every process serves the newest tokens.
 *
 * Why the rounds are shaped the way they are — our three servers refresh together, with several
 * callers each, and the 0.171 app-servers take turns, one at a time, between our bursts:
 *
 *   Our server takes flock on auth.lock and then auth.json.lock BEFORE it reads the refresh token
 *   and holds both until the new tokens are written, so our refreshes are serialised among
 *   themselves, and each one starts from the tokens the previous one wrote. 0.171 does it the
 *   other way round: it reads auth.json and SENDS its refresh request holding no lock at all, and
 *   only takes the locks afterwards, to write. No lock of ours can stop a request that is sent
 *   without asking for it. So whenever a 0.171 refresh overlaps any other refresh — one of ours,
 *   which is holding the locks and has already sent the same refresh token, or the other 0.171's
 *   — both present the same token, the endpoint rotates it for the first and answers the second
 *   refresh_token_reused. Whatever we do, that collision is 0.171's to avoid, so the test only
 *   lets a 0.171 refresh when nothing else is refreshing: after our burst has been answered, and
 *   after the previous 0.171 turn has been answered. What the test does prove is the part that is
 *   ours: any number of our refreshes at once, interleaved with 0.171's writes, never reuse a
 *   token, and everyone — ours by watching auth.json, 0.171 by rereading it — ends on the
 *   newest tokens. bench/suites/mixed-fleet.ts measures (and does not assert) the all-at-once
 *   variant, where the collisions above do happen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanupStack, requireCodex0171 } from './support/codex-0171-offline.js';
import { Fleet, MAX_TURN_READS } from './support/codex-0171-fleet.js';

const ROUNDS = 6;

test('3 of ours + 2 of 0.171 on one CODEX_HOME: forced refreshes, zero reuse, everyone ends on the newest tokens', { timeout: 180_000 }, async (t) => {
  requireCodex0171(); // a missing binary fails here, it never skips
  const defer = cleanupStack(t);
  const fleet = await Fleet.start({ ours: 3, codex: 2, callers: 3, delayMs: 40 }, defer);
  const { endpoint } = fleet;

  for (let round = 0; round < ROUNDS; round++) {
    const where = `round ${round + 1}`;
    // In every other round our servers first notice 0.171's last write (they watch auth.json), so
    // their burst has to go to the network. In the others the burst starts at once, while they may
    // still hold the tokens from before that write: then a forced refresh that finds newer tokens
    // on disk under the lock adopts them and sends nothing (as 0.171 does), or sends the newer
    // refresh token. Either way no caller may get a token older than the one on disk.
    const caughtUp = round % 2 === 0;
    if (caughtUp) assert.equal(await fleet.oursCatchUp(), true, `${where}: our servers noticed 0.171's write`);
    const result = await fleet.turnTakingRound(round);
    assert.deepEqual(result.oursErrors, [], `${where}: every one of our callers got a clean answer`);
    for (const generation of result.oursGenerations) {
      assert.ok(generation !== undefined && generation >= result.diskGenerationBefore!, `${where}: a caller of ours got generation ${generation}, disk had ${result.diskGenerationBefore}`);
    }
    assert.equal(result.requests, result.rotations, `${where}: every request presented the current refresh token`);
    assert.ok(result.rotations >= (caughtUp ? 1 : 0) + fleet.codex.length, `${where}: ${result.rotations} rotations`);
    for (const turn of result.codexTurns) {
      assert.deepEqual(turn.rpcErrors, [], `${where}, ${turn.name}`);
      assert.equal(turn.accountNull, 0, `${where}, ${turn.name}: every forced read kept the account`);
      assert.equal(turn.sent.length, 1, `${where}, ${turn.name}: one refresh of its own within ${MAX_TURN_READS} forced reads`);
      assert.equal(turn.sent[0]!.outcome, 'rotated', `${where}, ${turn.name}`);
      assert.equal(turn.sent[0]!.refreshReason, 'forced');
    }
  }

  assert.equal(endpoint.reuseErrors, 0, 'no refresh token was ever presented twice');
  assert.equal(endpoint.unknownTokens, 0, 'no process presented a token the endpoint never issued');
  assert.equal(endpoint.records.length, endpoint.rotations);
  assert.ok(endpoint.requestsBy('ours') >= ROUNDS / 2, `ours refreshed ${endpoint.requestsBy('ours')} times`);
  assert.equal(endpoint.requestsBy('codex0171'), ROUNDS * fleet.codex.length);

  const agreement = await fleet.settle();
  assert.equal(agreement.diskIsNewest, true, 'auth.json holds the newest tokens the endpoint issued');
  for (const ours of agreement.ours) assert.deepEqual(ours, { name: ours.name, matches: true }, `${ours.name} serves the newest access token, with no authError`);
  for (const codex of agreement.codex) {
    assert.equal(codex.matches, true, `${codex.name}: getAuthStatus {includeToken:true} serves the newest access token`);
    assert.equal(codex.email, 'demo@example.com', `${codex.name}: a final account/read reads the account`);
    assert.equal(codex.adoptSentRequest, false, `${codex.name}: caught up by rereading auth.json, not by refreshing`);
  }
  // Whoever refreshed last already had the newest tokens; every other 0.171 had to reread them.
  assert.equal(agreement.codex.filter((c) => c.adopted).length, fleet.codex.length - 1);
  assert.equal(agreement.all, true);
  assert.equal(endpoint.reuseErrors, 0);
  assert.deepEqual(fleet.proxy.seen, [], 'nothing tried to leave the machine');
});
