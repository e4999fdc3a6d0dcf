/**
 * A third client nobody here wrote: the MCP Inspector's CLI (`@modelcontextprotocol/inspector`
 * 2.x), spawning the built server over stdio in each of its protocol eras. Its package declares
 * Node >= 22.19, but its CLI runs on Node 20 (this suite runs it on 20 and on 24). A result of the
 * modern era carries our serverInfo in `_meta`; one of the initialize era does not.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { serverEntry } from './support/paths.js';
import { tempHome, type TempHome } from './support/temp-home.js';

const run = promisify(execFile);
// The package exports no subpaths; its launcher is found beside its package.json.
const inspectorRoot = dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector/package.json'));
const launcher = join(inspectorRoot, 'clients/launcher/build/index.js');

async function inspect(home: TempHome, era: 'legacy' | 'auto' | 'modern', ...args: string[]): Promise<any> {
  const { stdout } = await run(
    process.execPath,
    [launcher, '--cli', '--protocol-era', era, '--format', 'json', '-q', '-e', `CODEX_HOME=${home.path}`, process.execPath, serverEntry, 'mcp', ...args],
    // HOME: the Inspector's catalog file (~/.mcp-inspector) goes to the throwaway home, not the real one.
    { env: { PATH: process.env['PATH'] ?? '', HOME: home.path, CODEX_HOME: home.path }, timeout: 60_000 },
  );
  return JSON.parse(stdout).result;
}

const SERVER_INFO = { name: 'codex-auth-mcp', title: 'Codex Auth', version: (await import('../src/server/package-info.js')).packageInfo.version };

for (const era of ['legacy', 'auto', 'modern'] as const) {
  test(`MCP Inspector CLI (--protocol-era ${era}): tools/list, auth_status and the status resource`, async (t) => {
    const home = await tempHome();
    t.after(() => home.remove());
    await home.writeAuth(await chatgptAuthRecord({ email: 'inspector@example.com', planType: 'team', accountId: 'acc-i' }));
    const modern = era !== 'legacy';

    const list = await inspect(home, era, '--method', 'tools/list');
    assert.deepEqual(list.tools.map((tool: any) => [tool.name, tool.annotations.destructiveHint ?? false]), [['auth_status', false], ['login', true], ['logout', true], ['list_accounts', false], ['switch_account', false]]);

    const status = await inspect(home, era, '--method', 'tools/call', '--tool-name', 'auth_status');
    assert.equal(status.content[0].text, 'Signed in with ChatGPT as inspector@example.com (plan: team).');
    assert.deepEqual(status._meta?.['io.modelcontextprotocol/serverInfo'], modern ? SERVER_INFO : undefined);

    const read = await inspect(home, era, '--method', 'resources/read', '--uri', 'codex-auth://status');
    assert.equal(JSON.parse(read.contents[0].text).account.email, 'inspector@example.com');
    assert.deepEqual([read.ttlMs, read.cacheScope], modern ? [0, 'private'] : [undefined, undefined]);
  });
}
