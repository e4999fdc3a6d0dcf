/**
 * The folder rules (docs/architecture.md), read from the TypeScript sources' imports: the
 * protocol depends on nothing of ours, a worker on nothing of the main thread's server, dev code
 * is not borrowed from what ships, and no import circle anywhere. What ships holds no test hook.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { importCircles, importGraph, wrongWayImports, type ImportGraph } from './support/import-graph.js';
import { projectRoot, serverEntry } from './support/paths.js';

const FOLDERS = ['src', 'workers', 'dev', 'bench', 'test'];

test('every import goes the right way between folders, and no import circle anywhere', () => {
  const graph = importGraph(projectRoot, FOLDERS);
  assert.ok(graph.size > 150, `${graph.size} source files read`);
  assert.ok([...graph.values()].some((imports) => imports.size > 5), 'imports are found');
  assert.deepEqual(wrongWayImports(graph), []);
  assert.deepEqual(importCircles(graph), []);
});

/**
 * The imports the tree had before these rules (commit d3d30de), each of which the rules must
 * catch: put back into today's graph, every one is reported.
 */
const EARLIER_WRONG_WAY: [from: string, to: string][] = [
  ['src/protocol/snapshot.ts', 'src/auth/store/record.ts'],
  ['workers/shared/account-sessions.ts', 'src/server/account-shapes.ts'],
  ['workers/token-service/refresh-request.ts', 'src/auth/refresh-policy.ts'],
  ['workers/token-service/refresh-task.ts', 'src/auth/refresh-control.ts'],
  ['workers/token-service/refresh-task.ts', 'src/auth/refresh-policy.ts'],
  ['workers/token-service/session-tasks.ts', 'src/auth/refresh-policy.ts'],
  ['dev/issuer/device-codes.ts', 'workers/login/pages.ts'],
];
const EARLIER_CIRCLES: [from: string, to: string][] = [
  ['src/auth/store/file.ts', 'src/auth/store/store.ts'], // the backends took CredentialStore from the table that opens them
  ['src/server/tools/account.ts', 'src/server/tools/index.ts'], // the account tools (then account-tools.ts) took ToolCall from the list that lists them (then tools.ts)
];

const withEdge = (graph: ImportGraph, from: string, to: string): ImportGraph => {
  const copy = new Map([...graph].map(([file, imports]) => [file, new Set(imports)]));
  for (const file of [from, to]) if (!copy.has(file)) copy.set(file, new Set());
  copy.get(from)!.add(to);
  return copy;
};

test('the rules catch each wrong-way import and circle the tree had before them', () => {
  const graph = importGraph(projectRoot, FOLDERS);
  for (const [from, to] of EARLIER_WRONG_WAY) {
    assert.ok(wrongWayImports(withEdge(graph, from, to)).some((found) => found.startsWith(`${from} -> ${to} `)), `${from} -> ${to} is caught`);
  }
  for (const [from, to] of EARLIER_CIRCLES) {
    assert.ok(graph.get(to)?.has(from), `${to} imports ${from} today`);
    const circles = importCircles(withEdge(graph, from, to));
    assert.ok(circles.some((circle) => circle.includes(from) && circle.includes(to)), `${from} <-> ${to} is caught`);
  }
});

test('what ships has no test hook: no module taken from the environment, every dynamic import a fixed name', async () => {
  const bundle = dirname(serverEntry);
  // worker.js is piscina's thread entry: it imports the file its pool names (ours: token-service.js beside it).
  const files = (await readdir(bundle)).filter((file) => file.endsWith('.js') && file !== 'worker.js');
  assert.ok(files.includes('keyring.js') && files.includes('main.js'), files.join(' '));
  for (const file of files) {
    const text = await readFile(join(bundle, file), 'utf8');
    assert.doesNotMatch(text, /CODEX_AUTH_MCP_KEYRING_MODULE/, file);
    for (const call of text.matchAll(/\bimport\(\s*([^)\s][^)]*)\)/g)) assert.match(call[1]!, /^["'][^"']+["']$/, `${file}: import(${call[1]})`);
  }
});
