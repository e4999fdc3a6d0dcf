/**
 * Kill a writer at random points, many times: auth.json must always parse and hold either the old
 * or the new tokens, never a mix, a truncation or an empty file, and keep mode 0600. A reader
 * running alongside the writer must never see anything else either.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { tempHome } from './support/temp-home.js';

const writerSource = fileURLToPath(new URL('./support/auth-writer.js', import.meta.url));
const KILLS = 200;

/** Asserts that `text` is one whole record, A or B; returns which. */
function wholeRecord(text: string): 'A' | 'B' {
  const record = JSON.parse(text);
  const which = record.tokens.id_token.slice(3);
  assert.ok(which === 'A' || which === 'B', `id_token ${record.tokens.id_token}`);
  assert.equal(record.tokens.access_token, `access-${which}`.repeat(2_000), 'never a mix of two records');
  assert.equal(record.tokens.refresh_token, `refresh-${which}`);
  return which;
}

/**
 * The kills run in LANES parallel lanes, each on a CODEX_HOME of its own: the same 200 kills at
 * random points of the write loop, in a third of the time (most of a round is a process start).
 */
const LANES = 4;

/**
 * The writer, bundled into one file as the package's threads are (scripts/bundle.mjs): most of
 * a round is the writer's start, and one file starts in three quarters of the time of ~60.
 */
async function bundledWriter(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'auth-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { zodEnglishOnly } = await import(new URL('../../scripts/zod-english-only.mjs', import.meta.url).href);
  const outfile = join(dir, 'auth-writer.mjs');
  await build({
    entryPoints: [writerSource],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    plugins: [zodEnglishOnly],
    // Loaded from this checkout's node_modules, as the package loads them from its own.
    external: ['koffi', 'pino', 'piscina', '@napi-rs/keyring'],
    nodePaths: [fileURLToPath(new URL('../../node_modules', import.meta.url))],
    banner: { js: `import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(${JSON.stringify(writerSource)});` },
    logLevel: 'warning',
  });
  return outfile;
}

test(`auth.json survives ${KILLS} SIGKILLs of its writer`, { timeout: 600_000 }, async (t) => {
  const writer = await bundledWriter(t);
  const seen = { A: 0, B: 0 };
  let concurrentReads = 0;
  const lane = async (kills: number) => {
    const home = await tempHome();
    t.after(() => home.remove());
    for (let i = 0; i < kills; i++) {
      const child = spawn(process.execPath, [writer, home.path], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      try {
        await once(child.stdout, 'data'); // the first write is done; the loop is running
        // Read while it writes, then kill it at a random moment of the loop.
        const killAt = Date.now() + Math.random() * 20;
        do {
          wholeRecord(await readFile(home.authFile, 'utf8'));
          concurrentReads++;
        } while (Date.now() < killAt);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      seen[wholeRecord(await readFile(home.authFile, 'utf8'))]++;
      assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane(Math.floor(KILLS / LANES) + (i < KILLS % LANES ? 1 : 0))));
  assert.equal(seen.A + seen.B, KILLS, 'every kill was checked');
  t.diagnostic(`after the kills: ${seen.A}× record A, ${seen.B}× record B; ${concurrentReads} reads during writes`);
  assert.ok(seen.A > 0 && seen.B > 0, 'kills landed at different points of the loop');
});
