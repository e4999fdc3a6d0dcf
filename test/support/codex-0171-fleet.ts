/**
 * A mixed fleet on one CODEX_HOME: N of our servers and M of Codex 0.171's app-servers, all
 * refreshing against one rotating endpoint (dev/fakes/rotating-endpoint.ts) that answers 401
 * refresh_token_reused to any reuse. Used by test/codex-0171-fleet.test.ts (which asserts) and
 * bench/suites/mixed-fleet.ts (which measures); neither decides anything here, they read the
 * figures.
 *
 * How each side is made to refresh:
 *   - ours: `getAuthStatus {includeToken:true, refreshToken:true}`, from several callers at once.
 *   - 0.171: `account/read {refreshToken:true}`. Before it refreshes, 0.171 reloads auth.json, and
 *     when the file holds other tokens than it has, it adopts them and SKIPS the request. So after
 *     anyone else refreshed, its first forced read only adopts; a turn therefore repeats the forced
 *     read (at most 3 times) until the endpoint has seen a request from it (its clientInfo.name is
 *     the `originator` header). 0.171 never rereads auth.json for getAuthStatus or a plain
 *     account/read, which is why settle() uses one more forced read to bring a stale one up to date.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppServerClient } from './codex-app-server.js';
import { offlineEnv, sharedConfigToml, startCodex0171, startRefusingProxy, startStubBackend, type RefusingProxy } from './codex-0171-offline.js';
import { chatgptAuthJson, startRotatingEndpoint, type RefreshRecord, type RotatingEndpoint } from '../../dev/fakes/rotating-endpoint.js';
import type { RpcClient } from '../../dev/rpc-client.js';
import { spawnServer } from './spawn-server.js';

export type FleetMode = 'turn-taking' | 'all-at-once';

export interface FleetOptions {
  /** Our servers (default 3). */
  ours?: number;
  /** 0.171 app-servers (default 2). */
  codex?: number;
  /** Concurrent forced getAuthStatus calls per server of ours in a burst (default 3). */
  callers?: number;
  /** The endpoint answers this long after a request arrives (default 40 ms, a real issuer's order of magnitude). */
  delayMs?: number;
}

export interface CodexMember {
  readonly name: string;
  readonly app: AppServerClient;
}

export interface TurnResult {
  readonly name: string;
  /** Forced account/reads it took until a request of its own reached the endpoint (≤ MAX_TURN_READS). */
  readonly reads: number;
  /** Its requests in this turn, as the endpoint judged them. */
  readonly sent: readonly RefreshRecord[];
  /** Forced reads answered with `account: null` (how 0.171 shows a failed refresh). */
  readonly accountNull: number;
  readonly rpcErrors: readonly string[];
}

export interface RoundResult {
  /** authError codes our callers got (empty: every answer was clean). */
  readonly oursErrors: readonly string[];
  /** The endpoint generation of the token each of our callers got (see oursBurst). */
  readonly oursGenerations: readonly (number | undefined)[];
  /** The generation on disk when the round started. */
  readonly diskGenerationBefore: number | undefined;
  readonly codexTurns: readonly TurnResult[];
  /** Endpoint requests and rotations in this round. */
  readonly requests: number;
  readonly rotations: number;
}

export interface Agreement {
  /** Every process serves the access token on disk, the disk holds the endpoint's newest tokens, 0.171 reads an account. */
  readonly all: boolean;
  readonly diskAccessToken: string;
  readonly diskIsNewest: boolean;
  readonly ours: readonly { name: string; matches: boolean; authError?: string }[];
  readonly codex: readonly {
    name: string;
    matches: boolean;
    /** settle() had to make it reread auth.json (it was not the last to refresh). */
    adopted: boolean;
    /** …and that forced read sent a request after all (it should have adopted instead). */
    adoptSentRequest: boolean;
    email: string | null;
  }[];
}

export const MAX_TURN_READS = 3;
const RPC_TIMEOUT_MS = 30_000;
/** How long settle() waits for our servers to notice the last write (they watch auth.json). */
const SETTLE_MS = 5_000;

export class Fleet {
  private constructor(
    readonly home: string,
    readonly endpoint: RotatingEndpoint,
    readonly proxy: RefusingProxy,
    readonly ours: readonly RpcClient[],
    readonly codex: readonly CodexMember[],
    private readonly callers: number,
  ) {}

  /**
   * Starts everything; each piece is handed to `defer` as soon as it exists (undo in reverse
   * order), so a failure half-way still cleans up. auth.json starts with the endpoint's
   * generation-0 tokens, valid for an hour: nobody refreshes unless told to.
   */
  static async start(options: FleetOptions, defer: (undo: () => unknown) => void): Promise<Fleet> {
    const proxy = await startRefusingProxy();
    defer(() => proxy.close());
    const backend = await startStubBackend();
    defer(() => backend.close());
    const endpoint = await startRotatingEndpoint({ delayMs: options.delayMs ?? 40 });
    defer(() => endpoint.close());
    const home = await mkdtemp(join(tmpdir(), 'codex-0171-fleet-'));
    defer(() => rm(home, { recursive: true, force: true }));
    await writeFile(join(home, 'config.toml'), sharedConfigToml(backend));
    await writeFile(join(home, 'auth.json'), JSON.stringify(chatgptAuthJson(await endpoint.initialTokens()), null, 2), { mode: 0o600 });
    const env = offlineEnv(proxy.url);

    const ours = Array.from({ length: options.ours ?? 3 }, () => {
      const client = spawnServer({ codexHome: home, args: ['-c', `auth_issuer=${endpoint.url}`], env });
      defer(async () => {
        client.kill();
        await client.exited;
      });
      return client;
    });
    const names = Array.from({ length: options.codex ?? 2 }, (_, i) => `codex0171-${String.fromCharCode(97 + i)}`);
    const [, codexApps] = await Promise.all([
      Promise.all(ours.map((client) => client.initialize())),
      Promise.all(
        names.map((name) =>
          startCodex0171({ codexHome: home, name, env: { ...env, CODEX_REFRESH_TOKEN_URL_OVERRIDE: endpoint.tokenUrl } }, (app) => defer(() => app.close())),
        ),
      ),
    ]);
    const codex = codexApps.map((app, i) => ({ name: names[i]!, app }));
    return new Fleet(home, endpoint, proxy, ours, codex, options.callers ?? 3);
  }

  get authFile(): string {
    return join(this.home, 'auth.json');
  }

  async disk(): Promise<{ access_token: string; refresh_token: string }> {
    return JSON.parse(await readFile(this.authFile, 'utf8')).tokens;
  }

  /**
   * Every caller of every server of ours forces a refresh, all at once. Returns the authError
   * codes (and RPC errors) they got, and which generation of the endpoint's tokens each answer
   * carried (undefined: no token, or one the endpoint never issued).
   */
  async oursBurst(): Promise<{ errors: string[]; generations: (number | undefined)[] }> {
    const answers = await Promise.all(
      this.ours.flatMap((client) =>
        Array.from({ length: this.callers }, () => client.request('getAuthStatus', { includeToken: true, refreshToken: true }, undefined, RPC_TIMEOUT_MS)),
      ),
    );
    return {
      errors: answers.flatMap((answer) =>
        answer.error ? [`rpc ${answer.error.code} ${answer.error.message}`] : answer.result?.authError ? [String(answer.result.authError.code)] : [],
      ),
      generations: answers.map((answer) => this.endpoint.generationOf(answer.result?.authToken)),
    };
  }

  /**
   * Waits (bounded by SETTLE_MS) until every server of ours serves the access token on disk, i.e.
   * has noticed the last write of a 0.171 app-server. Resolves with whether they all did.
   */
  async oursCatchUp(): Promise<boolean> {
    const disk = await this.disk();
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const tokens = await Promise.all(this.ours.map(async (client) => (await client.request('getAuthStatus', { includeToken: true }, undefined, RPC_TIMEOUT_MS)).result?.authToken));
      if (tokens.every((token) => token === disk.access_token)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25)); // no event for "a token changed": poll, bounded
    }
  }

  /** One 0.171 app-server forces refreshes until one of its own requests reached the endpoint. */
  async codexTurn(member: CodexMember): Promise<TurnResult> {
    const start = this.endpoint.records.length;
    const mine = () => this.endpoint.records.slice(start).filter((r) => r.originator === member.name);
    let reads = 0;
    let accountNull = 0;
    const rpcErrors: string[] = [];
    while (reads < MAX_TURN_READS && mine().length === 0) {
      reads++;
      const reply = await member.app.request('account/read', { refreshToken: true }, RPC_TIMEOUT_MS);
      if (reply.error) rpcErrors.push(`${reply.error.code} ${reply.error.message}`);
      else if (reply.result?.account == null) accountNull++;
    }
    return { name: member.name, reads, sent: mine(), accountNull, rpcErrors };
  }

  /**
   * Our servers refresh together; then each 0.171 app-server takes its turn alone (the order
   * rotates with `round`). Nothing of 0.171's overlaps any other refresh.
   */
  async turnTakingRound(round: number): Promise<RoundResult> {
    return this.measureRound(async () => {
      const burst = await this.oursBurst();
      const codexTurns: TurnResult[] = [];
      for (let i = 0; i < this.codex.length; i++) codexTurns.push(await this.codexTurn(this.codex[(i + round) % this.codex.length]!));
      return { burst, codexTurns };
    });
  }

  /** Everyone at once: our burst and every 0.171 turn start together. */
  async allAtOnceRound(): Promise<RoundResult> {
    return this.measureRound(async () => {
      const [burst, codexTurns] = await Promise.all([this.oursBurst(), Promise.all(this.codex.map((member) => this.codexTurn(member)))]);
      return { burst, codexTurns };
    });
  }

  round(mode: FleetMode, round: number): Promise<RoundResult> {
    return mode === 'turn-taking' ? this.turnTakingRound(round) : this.allAtOnceRound();
  }

  private async measureRound(run: () => Promise<{ burst: Awaited<ReturnType<Fleet['oursBurst']>>; codexTurns: TurnResult[] }>): Promise<RoundResult> {
    const [requests, rotations] = [this.endpoint.records.length, this.endpoint.rotations];
    const diskGenerationBefore = this.endpoint.generationOf((await this.disk()).access_token);
    const { burst, codexTurns } = await run();
    return {
      oursErrors: burst.errors,
      oursGenerations: burst.generations,
      diskGenerationBefore,
      codexTurns,
      requests: this.endpoint.records.length - requests,
      rotations: this.endpoint.rotations - rotations,
    };
  }

  /**
   * Brings every process to what is on disk without a refresh, and reports who agrees. A 0.171
   * app-server that does not serve the disk's token gets one forced read, which rereads the file
   * and adopts it (see the top); ours watch the file and are given SETTLE_MS to notice.
   */
  async settle(): Promise<Agreement> {
    const codex: { name: string; adopted: boolean; adoptSentRequest: boolean }[] = [];
    for (const member of this.codex) {
      const disk = await this.disk();
      const adopted = (await this.codexToken(member)) !== disk.access_token;
      const before = this.endpoint.records.length;
      if (adopted) await member.app.request('account/read', { refreshToken: true }, RPC_TIMEOUT_MS);
      codex.push({ name: member.name, adopted, adoptSentRequest: this.endpoint.records.length !== before });
    }
    const disk = await this.disk();
    const deadline = Date.now() + SETTLE_MS;
    let ours: { name: string; matches: boolean; authError?: string }[] = [];
    for (;;) {
      ours = await Promise.all(
        this.ours.map(async (client, i) => {
          const status = (await client.request('getAuthStatus', { includeToken: true }, undefined, RPC_TIMEOUT_MS)).result ?? {};
          return { name: `ours-${i + 1}`, matches: status.authToken === disk.access_token, ...(status.authError && { authError: String(status.authError.code) }) };
        }),
      );
      if (ours.every((o) => o.matches) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25)); // no event for "a token changed": poll, bounded
    }
    const codexFinal = await Promise.all(
      codex.map(async (entry, i) => {
        const member = this.codex[i]!;
        const read = await member.app.request('account/read', {}, RPC_TIMEOUT_MS);
        return { ...entry, matches: (await this.codexToken(member)) === disk.access_token, email: read.result?.account?.email ?? null };
      }),
    );
    const diskIsNewest = disk.refresh_token === this.endpoint.current && disk.access_token === this.endpoint.latest?.access_token;
    return {
      all: diskIsNewest && ours.every((o) => o.matches) && codexFinal.every((c) => c.matches && c.email !== null),
      diskAccessToken: disk.access_token,
      diskIsNewest,
      ours,
      codex: codexFinal,
    };
  }

  private async codexToken(member: CodexMember): Promise<string | undefined> {
    return (await member.app.request('getAuthStatus', { includeToken: true }, RPC_TIMEOUT_MS)).result?.authToken ?? undefined;
  }
}
