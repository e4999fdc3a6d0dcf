/**
 * The config schema and loader: every key's default and validation, profiles, and error messages
 * that point at the file (with line and column) or at the `-c` argument the bad value came from.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { ConfigSchema, DEFAULT_ISSUER, KNOWN_KEYS } from '../src/config/schema.js';
import { tempHome, type TempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void };

async function home(t: TestContext, toml?: string): Promise<TempHome> {
  const h = await tempHome();
  t.after(() => h.remove());
  if (toml !== undefined) await h.writeConfig(toml);
  return h;
}

/** The ConfigError message loadConfig throws (fails the test when it does not throw one). */
function configError(codexHome: string, overrides: string[] = []): string {
  try {
    loadConfig(codexHome, overrides);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    return error.message;
  }
  assert.fail(`no error for ${JSON.stringify(overrides)}`);
}

const DEFAULTS = {
  preferred_auth_method: 'chatgpt',
  auth_issuer: DEFAULT_ISSUER,
  login_callback_port: 1455,
  login_timeout_secs: 600,
  refresh_timeout_secs: 20,
  device_code_timeout_secs: 900,
  cli_auth_credentials_store: 'file',
  keyring_poll_secs: 15,
  logout_revokes_tokens: true,
  revoke_timeout_secs: 10,
  account_sessions_refresh_after_secs: 604800,
};

test('an empty or comment-only config.toml gives every default; forced_login_method stays unset', async (t) => {
  for (const toml of ['', '# nothing here\n\n']) {
    const { config } = loadConfig((await home(t, toml)).path, []);
    assert.deepEqual({ ...config }, DEFAULTS);
    assert.equal('forced_login_method' in config, false);
  }
});

test('KNOWN_KEYS is exactly the schema (adding a key is one line in ConfigSchema)', () => {
  assert.deepEqual([...KNOWN_KEYS].sort(), Object.keys(ConfigSchema.shape).sort());
  assert.deepEqual([...KNOWN_KEYS].sort(), [...Object.keys(DEFAULTS), 'forced_login_method', 'forced_chatgpt_workspace_id'].sort());
});

test('the config object is frozen, so nothing can change it after start-up', async (t) => {
  const { config } = loadConfig((await home(t)).path, []);
  assert.ok(Object.isFrozen(config));
  assert.throws(() => {
    (config as { preferred_auth_method: string }).preferred_auth_method = 'apikey';
  }, TypeError);
});

test('valid values of every key are accepted and normalised', async (t) => {
  const h = await home(
    t,
    [
      'preferred_auth_method = "apikey"',
      'auth_issuer = "http://127.0.0.1:4444///"',
      'login_callback_port = 0',
      'login_timeout_secs = 0.5',
      'refresh_timeout_secs = 86400',
      'device_code_timeout_secs = 60',
      'forced_login_method = "api"',
      'cli_auth_credentials_store = "auto"',
      'keyring_poll_secs = 2.5',
      'logout_revokes_tokens = false',
      'revoke_timeout_secs = 3',
      'account_sessions_refresh_after_secs = 0',
    ].join('\n'),
  );
  assert.deepEqual(
    { ...loadConfig(h.path, []).config },
    {
      preferred_auth_method: 'apikey',
      auth_issuer: 'http://127.0.0.1:4444', // trailing slashes removed, so paths can be appended
      login_callback_port: 0,
      login_timeout_secs: 0.5,
      refresh_timeout_secs: 86400,
      device_code_timeout_secs: 60,
      forced_login_method: 'api',
      cli_auth_credentials_store: 'auto',
      keyring_poll_secs: 2.5,
      logout_revokes_tokens: false,
      revoke_timeout_secs: 3,
      account_sessions_refresh_after_secs: 0,
    },
  );
});

test('invalid values of every key name the key, and enums name every allowed value', async (t) => {
  const h = await home(t);
  const cases: [override: string, ...expected: RegExp[]][] = [
    ['preferred_auth_method=both', /preferred_auth_method/, /"chatgpt"/, /"apikey"/],
    ['preferred_auth_method=1', /preferred_auth_method/, /"chatgpt"/],
    ['forced_login_method=apikey', /forced_login_method/, /"chatgpt"/, /"api"/],
    ['cli_auth_credentials_store=disk', /cli_auth_credentials_store/, /"file"/, /"keyring"/, /"auto"/],
    ['auth_issuer=ftp://example.com', /auth_issuer/],
    ['auth_issuer=not a url', /auth_issuer/],
    ['login_callback_port=65536', /login_callback_port/],
    ['login_callback_port=-1', /login_callback_port/],
    ['login_callback_port=1455.5', /login_callback_port/],
    ['login_callback_port="1455"', /login_callback_port/, /number/],
    ['login_timeout_secs=0', /login_timeout_secs/],
    ['refresh_timeout_secs=-5', /refresh_timeout_secs/],
    ['device_code_timeout_secs=86401', /device_code_timeout_secs/],
    ['revoke_timeout_secs=true', /revoke_timeout_secs/],
    ['logout_revokes_tokens=yes', /logout_revokes_tokens/, /boolean/],
  ];
  for (const [override, ...expected] of cases) {
    const message = configError(h.path, [override]);
    assert.ok(message.startsWith(`config error: -c ${override}: `), message);
    for (const pattern of expected) assert.match(message, pattern, override);
  }
});

test('a bad value in the file names the file, line and column of its key', async (t) => {
  const h = await home(t, '# comment\nmodel = "o3"\n\n[tui]\nx = 1\n\n[profiles.work]\n   login_callback_port = "high"\n');
  // The bad value sits in a profile that is not active: not read, not checked.
  assert.equal(loadConfig(h.path, []).config.login_callback_port, 1455);
  const message = configError(h.path, ['profile=work']);
  assert.ok(message.startsWith(`config error: ${join(h.path, 'config.toml')}:8:4: profiles.work.login_callback_port: `), message);

  const top = await home(t, 'a = 1\nrevoke_timeout_secs = "soon"\n');
  assert.ok(configError(top.path).startsWith(`config error: ${join(top.path, 'config.toml')}:2:1: revoke_timeout_secs: `));
});

test('malformed TOML names the file, line and column', async (t) => {
  const cases: [string, string][] = [
    ['a = 1\nb = = 2\n', ':2:'],
    ['a = 1\na = 2\n', ':2:'],
    ['[t]\nk = "unterminated\n', ':2:'],
    ['x = [1, 2\n', ':2:'], // arrays may span lines: the error is at the end
  ];
  for (const [toml, line] of cases) {
    const h = await home(t, toml);
    const message = configError(h.path);
    assert.ok(message.startsWith(`config error: ${join(h.path, 'config.toml')}${line}`), message);
    assert.match(message, /:\d+:\d+: malformed TOML: \S/);
  }
});

test('a config.toml that cannot be read is an error, not an empty config', async (t) => {
  const h = await home(t);
  await mkdir(join(h.path, 'config.toml'));
  assert.match(configError(h.path), /cannot read .*config\.toml/);
});

test('keys of a real Codex config are ignored whatever their type', async (t) => {
  const h = await home(
    t,
    'model = 5\napproval_policy = ["never"]\nprofile = "work"\n[profiles.work]\nmodel = true\nchatgpt_base_url = 1\n[mcp_servers.x]\ncommand = 3\n',
  );
  assert.equal(loadConfig(h.path, ['sandbox_mode=9', 'shell_environment_policy.inherit=[1]']).config.preferred_auth_method, 'chatgpt');
});

test('profile: from the file or -c (which wins); lends only the keys we read', async (t) => {
  const h = await home(
    t,
    [
      'profile = "a"',
      'preferred_auth_method = "chatgpt"',
      'login_timeout_secs = 30',
      '[profiles.a]',
      'preferred_auth_method = "apikey"',
      '[profiles.b]',
      'login_timeout_secs = 45',
      'model = "ignored"',
    ].join('\n'),
  );
  const fromFile = loadConfig(h.path, []).config;
  assert.equal(fromFile.preferred_auth_method, 'apikey');
  assert.equal(fromFile.login_timeout_secs, 30, 'what the profile does not set comes from the top level');
  const fromOverride = loadConfig(h.path, ['profile=b']).config;
  assert.equal(fromOverride.preferred_auth_method, 'chatgpt', 'profile b does not set it: the top level applies');
  assert.equal(fromOverride.login_timeout_secs, 45);
  assert.equal('model' in fromOverride, false);
  // -c of a key beats the profile; -c into the profile table changes what the profile lends.
  assert.equal(loadConfig(h.path, ['login_timeout_secs=5', 'profile=b']).config.login_timeout_secs, 5);
  assert.equal(loadConfig(h.path, ['profiles.b.login_timeout_secs=7', 'profile=b']).config.login_timeout_secs, 7);
});

test('profile errors: unknown, not a table, not a string', async (t) => {
  const h = await home(t, '[profiles]\nflat = 1\n[profiles.ok]\n');
  assert.match(configError(h.path, ['profile=ghost']), /profile 'ghost' not found in .*config\.toml/);
  assert.match(configError(h.path, ['profile=flat']), /profile 'flat' not found/);
  assert.match(configError(h.path, ['profile=5']), /^config error: -c profile=5: profile: expected a string$/);
  const inFile = await home(t, 'profile = 5\n');
  assert.match(configError(inFile.path), /config\.toml: profile: expected a string$/);
  const noProfiles = await home(t, 'profile = "x"\n');
  assert.match(configError(noProfiles.path), /profile 'x' not found/);
  assert.equal(loadConfig(h.path, ['profile=ok']).config.preferred_auth_method, 'chatgpt', 'an empty profile is fine');
});

test('a bad value that came from -c is blamed on the -c argument, even through a profile or a dotted key', async (t) => {
  const h = await home(t, 'preferred_auth_method = "chatgpt"\n[profiles.work]\npreferred_auth_method = "apikey"\n');
  assert.match(
    configError(h.path, ['profiles.work.preferred_auth_method=both', 'profile=work']),
    /^config error: -c profiles\.work\.preferred_auth_method=both: preferred_auth_method: /,
  );
  assert.match(configError(h.path, ['preferred_auth_method.x=1']), /^config error: -c preferred_auth_method\.x=1: preferred_auth_method: /);
  // A good override beats a bad file value of the same key.
  const bad = await home(t, 'login_callback_port = "x"\n');
  assert.equal(loadConfig(bad.path, ['login_callback_port=0']).config.login_callback_port, 0);
});

test('override errors are ConfigErrors that quote the argument', async (t) => {
  const h = await home(t);
  assert.match(configError(h.path, ['preferred_auth_method']), /^config error: invalid override 'preferred_auth_method': expected key=value/);
  assert.match(configError(h.path, ['=x']), /^config error: invalid override '=x': the key is empty$/);
});

test('a CODEX_HOME that does not exist is an empty config, and loading creates nothing', async (t) => {
  const h = await tempHome({ create: false });
  t.after(() => h.remove());
  assert.equal(loadConfig(h.path, ['preferred_auth_method=apikey']).config.preferred_auth_method, 'apikey');
  await assert.rejects(import('node:fs/promises').then((fs) => fs.stat(h.path)), { code: 'ENOENT' });
});
