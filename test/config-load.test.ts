import assert from 'node:assert/strict';
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
