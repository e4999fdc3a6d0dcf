import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, locateKey } from '../src/config/load.js';
import { applyOverrides, parseOverride, parseOverrideValue } from '../src/config/overrides.js';
import { tempHome } from './support/temp-home.js';

test('-c values are read as TOML, falling back to the literal string', () => {
  assert.equal(parseOverrideValue('42'), 42);
  assert.equal(parseOverrideValue('true'), true);
  assert.equal(parseOverrideValue('"x"'), 'x');
  assert.deepEqual(parseOverrideValue('[1,2]'), [1, 2]);
  assert.deepEqual({ ...(parseOverrideValue('{a=1}') as object) }, { a: 1 });
  assert.equal(parseOverrideValue('apikey'), 'apikey');
  // Not valid TOML: quotes around the literal are stripped, as codex's trim_matches does.
  assert.equal(parseOverrideValue('"unterminated'), 'unterminated');
});

test('-c splits on the first = and trims both sides', () => {
  const override = parseOverride(' a.b.c = x=y ');
  assert.deepEqual(override.path, ['a', 'b', 'c']);
  assert.equal(override.value, 'x=y');
});

test('-c without = or with an empty key is refused', () => {
  assert.throws(() => parseOverride('preferred_auth_method'), /expected key=value/);
  assert.throws(() => parseOverride('=apikey'), /the key is empty/);
  assert.throws(() => parseOverride('a..b=1'), /empty part/);
});

test('dotted overrides set nested tables without touching siblings', () => {
  const table = { profiles: { work: { x: 1 } }, top: 'kept' };
  const result = applyOverrides(table, [parseOverride('profiles.work.y=2'), parseOverride('new.deep.key="v"')]);
  assert.deepEqual(result, { profiles: { work: { x: 1, y: 2 } }, top: 'kept', new: { deep: { key: 'v' } } });
  assert.deepEqual(table, { profiles: { work: { x: 1 } }, top: 'kept' }, 'the input is not modified');
});

test('a missing config.toml is an empty config with every default', async (t) => {
  const home = await tempHome({ create: false });
  t.after(() => home.remove());
  const { config } = loadConfig(home.path, []);
  assert.equal(config.preferred_auth_method, 'chatgpt');
  assert.equal(config.auth_issuer, 'https://auth.openai.com');
  assert.equal(config.login_callback_port, 1455);
  assert.equal(config.login_timeout_secs, 600);
  assert.ok(Object.isFrozen(config));
});

test('unknown keys of a real Codex config are ignored, never rejected', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeConfig('model = "o3"\napproval_policy = "never"\n[mcp_servers.x]\ncommand = "y"\n');
  const { config } = loadConfig(home.path, ['some.unknown.key=1']);
  assert.equal(config.preferred_auth_method, 'chatgpt');
});

test('overrides beat the file, and a profile beats the top level', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeConfig(
    'preferred_auth_method = "chatgpt"\nlogin_timeout_secs = 30\n[profiles.work]\npreferred_auth_method = "apikey"\n',
  );
  assert.equal(loadConfig(home.path, ['preferred_auth_method=apikey']).config.preferred_auth_method, 'apikey');
  assert.equal(loadConfig(home.path, ['profile=work']).config.preferred_auth_method, 'apikey');
  assert.equal(loadConfig(home.path, ['profile=work']).config.login_timeout_secs, 30);
  assert.equal(
    loadConfig(home.path, ['profile=work', 'preferred_auth_method=chatgpt']).config.preferred_auth_method,
    'chatgpt',
  );
});

test('config errors name the file, key, line and column', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeConfig('model = "o3"\n\n  preferred_auth_method = "both"\n');
  assert.throws(
    () => loadConfig(home.path, []),
    (error: Error) =>
      error instanceof ConfigError &&
      error.message.includes(`${home.path}/config.toml:3:3`) &&
      error.message.includes('preferred_auth_method') &&
      error.message.includes('"chatgpt"') &&
      error.message.includes('"apikey"'),
  );
});

test('malformed TOML names the file, line and column', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeConfig('a = 1\nb = = 2\n');
  assert.throws(() => loadConfig(home.path, []), (error: Error) => /config\.toml:2:\d+: malformed TOML/.test(error.message));
});

test('a wrongly typed override names the argument and the key', async (t) => {
  const home = await tempHome({ create: false });
  t.after(() => home.remove());
  assert.throws(
    () => loadConfig(home.path, ['login_callback_port=high']),
    (error: Error) => error.message.includes('-c login_callback_port=high') && error.message.includes('login_callback_port'),
  );
});

test('an unknown profile is an error', async (t) => {
  const home = await tempHome({ create: false });
  t.after(() => home.remove());
  assert.throws(() => loadConfig(home.path, ['profile=nope']), /profile 'nope' not found/);
});

test('a key inside a profile table is located for messages', () => {
  const text = 'a = 1\n[profiles.work]\n  preferred_auth_method = "x"\n';
  assert.deepEqual(locateKey(text, ['profiles', 'work', 'preferred_auth_method']), { line: 3, column: 3 });
  assert.equal(locateKey(text, ['preferred_auth_method']), undefined);
});

// ---------- the layers 0.171 reads (the system folder is a temp folder here; the binary's own
// answers for /etc/codex are in codex-0171-restrictions.test.ts) ----------

async function layeredHome(t: { after(fn: () => unknown): void }, files: { user?: string; profile?: [string, string]; system?: Record<string, string> }) {
  const home = await tempHome();
  t.after(() => home.remove());
  if (files.user !== undefined) await home.writeConfig(files.user);
  if (files.profile) await writeFile(join(home.path, `${files.profile[0]}.config.toml`), files.profile[1]);
  const systemDir = await mkdtemp(join(tmpdir(), 'etc-codex-'));
  t.after(() => rm(systemDir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files.system ?? {})) await writeFile(join(systemDir, name), text);
  return { home: home.path, systemDir };
}

test('layers, lowest first: /etc/codex/config.toml < config.toml < --profile <name>.config.toml < -c < managed_config.toml', async (t) => {
  const key = (value: string) => `login_timeout_secs = ${value}\n`;
  const timeout = (files: Parameters<typeof layeredHome>[1], overrides: string[] = [], profile?: string) =>
    layeredHome(t, files).then(({ home, systemDir }) => loadConfig(home, overrides, { systemDir, profile }).config.login_timeout_secs);
  assert.equal(await timeout({ system: { 'config.toml': key('1') } }), 1);
  assert.equal(await timeout({ system: { 'config.toml': key('1') }, user: key('2') }), 2);
  assert.equal(await timeout({ user: key('2'), profile: ['work', key('3')] }, [], 'work'), 3);
  assert.equal(await timeout({ user: key('2'), profile: ['work', key('3')] }), 2, 'a profile file counts only with --profile');
  assert.equal(await timeout({ user: key('2'), profile: ['work', key('3')] }, ['login_timeout_secs=4'], 'work'), 4);
  assert.equal(await timeout({ user: key('2'), system: { 'managed_config.toml': key('5') } }, ['login_timeout_secs=4']), 5, 'the admin wins over -c');
  assert.equal(await timeout({ user: key('2') }, [], 'missing'), 2, 'a --profile whose file is missing adds nothing (as 0.171)');
});

test('--profile refuses a legacy [profiles.<name>] or profile = "<name>" of the same name, as 0.171 does', async (t) => {
  for (const user of ['[profiles.work]\nlogin_timeout_secs = 9\n', 'profile = "work"\n[profiles.work]\n']) {
    const { home, systemDir } = await layeredHome(t, { user });
    assert.throws(() => loadConfig(home, [], { systemDir, profile: 'work' }), /--profile `work` cannot be used while .*config\.toml contains legacy `profile = "work"` or `\[profiles\.work\]`/);
  }
  const { home, systemDir } = await layeredHome(t, {});
  assert.throws(() => loadConfig(home, [], { systemDir, profile: '../x' }), /invalid --profile value/);
});

test('a bad value is reported in the file it came from', async (t) => {
  const { home, systemDir } = await layeredHome(t, { system: { 'managed_config.toml': '\nforced_login_method = "sso"\n' } });
  assert.throws(() => loadConfig(home, [], { systemDir }), (error: Error) => error.message.startsWith(`config error: ${join(systemDir, 'managed_config.toml')}:2:1: forced_login_method`));
});

test('requirements.toml narrows the config: methods and workspaces intersect; no method left is an error, no workspace left refuses ChatGPT', async (t) => {
  const restrictions = async (user: string, requirements: string) => {
    const { home, systemDir } = await layeredHome(t, { user, system: { 'requirements.toml': requirements } });
    return loadConfig(home, [], { systemDir }).restrictions;
  };
  assert.deepEqual(await restrictions('', ''), {});
  assert.equal((await restrictions('', 'allowed_login_methods = ["api"]\n')).forcedLoginMethod, 'api');
  assert.equal((await restrictions('forced_login_method = "chatgpt"\n', 'allowed_login_methods = ["chatgpt", "api"]\n')).forcedLoginMethod, 'chatgpt');
  await assert.rejects(restrictions('forced_login_method = "chatgpt"\n', 'allowed_login_methods = ["api"]\n'), /authentication requirements do not permit any usable login method/);
  await assert.rejects(restrictions('', 'allowed_login_methods = []\n'), /do not permit any usable login method/);
  await assert.rejects(restrictions('', 'allowed_chatgpt_workspaces = "ws"\n'), /failed to parse requirements layer .*requirements\.toml/);
  assert.deepEqual((await restrictions('', 'allowed_chatgpt_workspaces = ["r1", "r2"]\n')).allowedWorkspaceIds, ['r1', 'r2']);
  assert.deepEqual((await restrictions('forced_chatgpt_workspace_id = ["r2", "x"]\n', 'allowed_chatgpt_workspaces = ["r1", "r2"]\n')).allowedWorkspaceIds, ['r2']);
  assert.deepEqual((await restrictions('forced_chatgpt_workspace_id = "x"\n', 'allowed_chatgpt_workspaces = ["r1"]\n')).allowedWorkspaceIds, []);
});

test('forced_chatgpt_workspace_id: a string or a list; empty means none; a comma is refused with 0.171’s words', async (t) => {
  const ids = async (user: string) => {
    const { home, systemDir } = await layeredHome(t, { user });
    return loadConfig(home, [], { systemDir }).config.forced_chatgpt_workspace_id;
  };
  assert.deepEqual(await ids('forced_chatgpt_workspace_id = "ws"\n'), ['ws']);
  assert.deepEqual(await ids('forced_chatgpt_workspace_id = ["a", "b"]\n'), ['a', 'b']);
  assert.equal(await ids('forced_chatgpt_workspace_id = ""\n'), undefined);
  assert.equal(await ids('forced_chatgpt_workspace_id = []\n'), undefined);
  await assert.rejects(ids('forced_chatgpt_workspace_id = "a,b"\n'), /comma-separated strings are not supported/);
});
