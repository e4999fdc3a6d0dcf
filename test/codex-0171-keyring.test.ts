/**
 * Keyring storage (`cli_auth_credentials_store = "keyring"`) against the real Codex 0.171.0 CLI,
 * on a real Secret Service: gnome-keyring in a private D-Bus session (support/secret-service.ts)
 * that both read and write, offline (every proxy variable at a refusing loopback proxy).
 *
 *  (a) `codex login --with-api-key` (key on stdin, the store given with -c) stores one entry that
 *      our server reads;
 *  (b) our loginApiKey (the store from config.toml, which both read) stores an entry that
 *      `codex login status` reads as "API key configured", and `codex logout` removes;
 *  (c) what 0.171 uses on Linux (the Secret Service itself: no file in CODEX_HOME, no fallback
 *      without one) and whether our entry is the same as its: value, key attributes, and the
 *      item as a Secret Service client sees it (label and attributes).
 *
 * A missing 0.171 binary or secret-service tool fails every test here; nothing is skipped.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { KEYRING_SERVICE, keyringAccount } from '../src/auth/store/keyring-entry.js';
import { cleanupStack, offlineEnv, requireCodex0171, runCodex0171, runOurCli, startRefusingProxy, type CliRun } from './support/codex-0171-offline.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { spawnServer } from './support/spawn-server.js';
import { startSecretService, type SecretItem } from './support/secret-service.js';
import { LOCK_FILES, tempHome, type TempHome } from './support/temp-home.js';

const KEYRING = ['-c', 'cli_auth_credentials_store=keyring'];
/** What both store for an API-key sign-in: the JSON auth record, compact, auth_mode first. */
const apiKeyRecord = (key: string) => JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: key });
/** How 0.171's `login status` shows a key: its first 8 and last 5 characters. */
const masked = (key: string) => `${key.slice(0, 8)}***${key.slice(-5)}`;
const output = (run: CliRun) => `${run.stdout}${run.stderr}`;
const describe = (item: SecretItem) => `${item.path}: label ${JSON.stringify(item.label)}, attributes ${JSON.stringify(item.attributes)}, secret ${JSON.stringify(item.secret)}`;

/** Every file below `home` (relative paths, sorted), leaving out Codex's lock files. */
async function filesIn(home: string, below = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(home, below), { withFileTypes: true })) {
    const path = below ? `${below}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await filesIn(home, path)));
    else if (!(below === '' && LOCK_FILES.includes(entry.name))) files.push(path);
  }
  return files.sort();
}

/** Fails if any file below `home` holds `key` in plaintext. */
async function assertKeyInNoFile(home: string, key: string): Promise<void> {
  for (const file of await filesIn(home)) assert.ok(!(await readFile(join(home, file), 'utf8')).includes(key), `${file} holds the key`);
}

/**
 * One secret service and one refusing proxy per test, undone in reverse order when it ends
 * (servers first, the secret service last). `env` reaches both: offline, on this bus.
 */
async function setUp(t: { after(fn: () => unknown): void }) {
  requireCodex0171();
  const defer = cleanupStack(t);
  const session = await startSecretService();
  defer(() => session.close());
  const proxy = await startRefusingProxy();
  defer(() => proxy.close());
  const env = { ...offlineEnv(proxy.url), ...session.env };
  return {
    session,
    proxy,
    env,
    async newHome(configToml?: string): Promise<TempHome> {
      const home = await tempHome();
      defer(() => home.remove());
      if (configToml !== undefined) await home.writeConfig(configToml);
      return home;
    },
    async startOurs(home: TempHome, args: string[] = []): Promise<RpcClient> {
      const client = spawnServer({ codexHome: home.path, args, env });
      defer(async () => {
        client.kill();
        await client.exited;
      });
      await client.initialize();
      return client;
    },
  };
}

/** The one item for `home`'s account (found by its username attribute alone). */
async function entryOf(session: { items(match: Record<string, string>): Promise<SecretItem[]> }, home: TempHome): Promise<SecretItem> {
  const items = await session.items({ username: keyringAccount(home.path) });
  assert.equal(items.length, 1, `one entry for ${home.path}: ${items.map(describe).join('; ')}`);
  return items[0]!;
}

test('(a) 0.171 `codex login --with-api-key` in keyring mode stores one Secret Service entry, and our server reads it', { timeout: 120_000 }, async (t) => {
  const { session, proxy, env, newHome, startOurs } = await setUp(t);
  const home = await newHome();
  const key = 'sk-proj-stored-by-0171-0123456789abcdefXYZ';
  const login = await runCodex0171(['login', ...KEYRING, '--with-api-key'], { codexHome: home.path, env, input: key });
  assert.equal(login.code, 0, `codex login: ${output(login)}`);
  assert.match(output(login), /API key saved/);

  const all = await session.items({ service: KEYRING_SERVICE });
  assert.equal(all.length, 1, 'one entry under the service');
  const entry = all[0]!;
  t.diagnostic(`0.171 stored ${describe(entry)}`);
  assert.deepEqual({ service: entry.attributes['service'], username: entry.attributes['username'] }, { service: KEYRING_SERVICE, username: keyringAccount(home.path) }, 'service "Codex Auth", username cli|<16 hex of sha256(CODEX_HOME)>');
  assert.equal(entry.secret, apiKeyRecord(key), 'the JSON auth record');
  assert.equal(entry.locked, false);
  assert.equal(entry.collection, await session.defaultCollection(), 'in the default collection');
  assert.equal(await session.lookup({ service: KEYRING_SERVICE, username: keyringAccount(home.path) }), entry.secret, 'found by the two attributes our server searches with');
  // Nothing on disk holds it: no auth.json, no file of any kind but 0.171's log.
  assert.deepEqual(await filesIn(home.path), ['log/codex-login.log']);
  await assertKeyInNoFile(home.path, key);

  const ours = await startOurs(home, KEYRING);
  assert.deepEqual(await ours.call('getAuthStatus', { includeToken: true }), { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: key, storage: 'keyring' });
  assert.deepEqual((await ours.call('account/read', {})).account, { type: 'apiKey' });
  assert.deepEqual(proxy.seen, [], 'nothing tried to leave the machine');
});

test('(b) our loginApiKey in keyring mode: 0.171 `codex login status` reads "API key configured" from the entry, and `codex logout` removes it', { timeout: 120_000 }, async (t) => {
  const { session, proxy, env, newHome, startOurs } = await setUp(t);
  // The store comes from config.toml, read by both (no -c on either side).
  const home = await newHome('cli_auth_credentials_store = "keyring"\n');
  const key = 'sk-proj-stored-by-ours-0123456789abcdefXYZ';
  const ours = await startOurs(home);
  assert.deepEqual(await ours.call('loginApiKey', { apiKey: key }), {});
  assert.deepEqual(await filesIn(home.path), ['config.toml'], 'no auth.json');
  const entry = await entryOf(session, home);
  t.diagnostic(`ours stored ${describe(entry)}`);
  assert.equal(entry.secret, apiKeyRecord(key));

  const status = await runCodex0171(['login', 'status'], { codexHome: home.path, env });
  assert.equal(status.code, 0, `codex login status: ${output(status)}`);
  assert.ok(output(status).includes(`API key configured - ${masked(key)}`), output(status));
  // …from the keyring: in file mode the same home is signed out.
  const fileMode = await runCodex0171(['login', 'status', '-c', 'cli_auth_credentials_store=file'], { codexHome: home.path, env });
  assert.equal(fileMode.code, 1, output(fileMode));
  assert.match(output(fileMode), /Not logged in/);

  const logout = await runCodex0171(['logout'], { codexHome: home.path, env });
  assert.equal(logout.code, 0, `codex logout: ${output(logout)}`);
  assert.match(output(logout), /Successfully logged out/);
  assert.deepEqual(await session.items({ service: KEYRING_SERVICE }), [], '0.171 removed the entry ours stored');
  const ourCli = await runOurCli(['status', '--json'], { codexHome: home.path, env });
  assert.equal(ourCli.code, 1, `signed out: ${output(ourCli)}`);
  assert.equal(JSON.parse(ourCli.stdout).authMethod, null);
  assert.deepEqual(proxy.seen, [], 'nothing tried to leave the machine');
});

test('(c) 0.171 keeps keyring credentials in the Secret Service itself, and ours holds the same value under the same service and username', { timeout: 120_000 }, async (t) => {
  const { session, proxy, env, newHome, startOurs } = await setUp(t);
  const key = 'sk-proj-same-key-both-ways-0123456789abcdef';
  const [theirHome, ourHome, busless] = await Promise.all([newHome(), newHome(), newHome()]);
  const login = await runCodex0171(['login', ...KEYRING, '--with-api-key'], { codexHome: theirHome.path, env, input: key });
  assert.equal(login.code, 0, `codex login: ${output(login)}`);
  const ours = await startOurs(ourHome, KEYRING);
  assert.deepEqual(await ours.call('loginApiKey', { apiKey: key }), {});
  const [theirs, our] = [await entryOf(session, theirHome), await entryOf(session, ourHome)];
  t.diagnostic(`0.171: ${describe(theirs)}`);
  t.diagnostic(`ours:  ${describe(our)}`);

  await t.test('backend: the Secret Service (Direct, keyring-rs over D-Bus), no file in CODEX_HOME, and no fallback without it', async () => {
    const defaultCollection = await session.defaultCollection();
    assert.equal(theirs.collection, defaultCollection);
    assert.equal(our.collection, defaultCollection);
    assert.deepEqual(await filesIn(theirHome.path), ['log/codex-login.log'], 'no auth.json, no encrypted file');
    await assertKeyInNoFile(theirHome.path, key);
    // Keyring mode with no bus to reach: an error, and nothing written (no encrypted-file fallback).
    const failed = await runCodex0171(['login', ...KEYRING, '--with-api-key'], {
      codexHome: busless.path,
      env: { ...offlineEnv(proxy.url), DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(busless.path, 'no-bus')}` },
      input: key,
    });
    assert.equal(failed.code, 1, output(failed));
    assert.match(output(failed), /failed to write OAuth tokens to keyring: .*no secret service provider or dbus session found/);
    assert.deepEqual((await filesIn(busless.path)).filter((file) => !file.startsWith('log/')), [], 'nothing but the log');
    await assertKeyInNoFile(busless.path, key);
  });

  await t.test('value and key: the same bytes, under service "Codex Auth" and username cli|<16 hex>', () => {
    assert.equal(our.secret, theirs.secret);
    assert.equal(theirs.secret, apiKeyRecord(key));
    for (const [item, home] of [[theirs, theirHome], [our, ourHome]] as const) {
      assert.equal(item.attributes['service'], KEYRING_SERVICE);
      assert.equal(item.attributes['username'], keyringAccount(home.path));
    }
  });

  // Our entry is 0.171's: the same attributes and label (written through libsecret,
  // workers/keyring/libsecret.ts), so an account holds one item whoever wrote it.
  await t.test('the item as a Secret Service client sees it: the same label and attributes as 0.171 writes', () => {
    // The account differs by CODEX_HOME. Left out: gnome-keyring's own `xdg:schema` attribute.
    const seen = (item: SecretItem, home: TempHome) => {
      const account = keyringAccount(home.path);
      const attributes = Object.entries(item.attributes).filter(([name]) => name !== 'xdg:schema');
      return {
        label: item.label.replaceAll(account, '<account>'),
        attributes: Object.fromEntries(attributes.map(([name, value]) => [name, value === account ? '<account>' : value])),
      };
    };
    const expected = {
      label: '<account>@Codex Auth:default (keyring v3.6.3)',
      attributes: { application: 'rust-keyring', service: 'Codex Auth', target: 'default', username: '<account>' },
    };
    assert.deepEqual(seen(theirs, theirHome), expected);
    assert.deepEqual(seen(our, ourHome), expected);
  });
  assert.deepEqual(proxy.seen, [], 'nothing tried to leave the machine');
});

test('(d) one item per account whoever wrote it: an entry an older version of ours wrote is adopted once as 0.171\'s; beside 0.171\'s, 0.171\'s wins and ours goes at the next write', { timeout: 120_000 }, async (t) => {
  const { session, env, newHome, startOurs } = await setUp(t);
  const home = await newHome();
  const account = keyringAccount(home.path);
  const older = { label: `keyring:${account}@${KEYRING_SERVICE}`, attributes: { service: KEYRING_SERVICE, username: account } };
  const items = async () => (await session.items({ service: KEYRING_SERVICE, username: account })).map((item) => ({ application: item.attributes['application'] ?? null, secret: item.secret }));

  // Only our older item: read, then adopted — one item, 0.171's kind, the same value.
  await session.store(older.label, older.attributes, apiKeyRecord('sk-older-ours'));
  const ours = await startOurs(home, KEYRING);
  assert.equal((await ours.call('getAuthStatus', { includeToken: true })).authToken, 'sk-older-ours');
  assert.deepEqual(await items(), [{ application: 'rust-keyring', secret: apiKeyRecord('sk-older-ours') }]);
  const status = await runCodex0171(['login', 'status', ...KEYRING], { codexHome: home.path, env });
  assert.match(output(status), /API key configured/, '0.171 reads the adopted item');
  // Our server goes first: its keyring poll, coming between the two stores below, would adopt the
  // older item again (a read of that moment) and leave one item where the test makes two.
  assert.equal((await ours.close()).code, 0);

  // An older item of ours beside 0.171's (both could exist before: 0.171 writing first, then an
  // older version of ours): 0.171's is the one read, and our next write leaves one.
  // (In this order: gnome-keyring replaces an item whose attributes include all of the new one's.)
  const [theirs] = await session.items({ service: KEYRING_SERVICE, username: account });
  await session.store(older.label, older.attributes, apiKeyRecord('sk-older-again'));
  await session.store(theirs!.label, theirs!.attributes, apiKeyRecord('sk-written-by-0171'));
  assert.equal((await items()).length, 2);
  const fresh = await startOurs(home, KEYRING);
  assert.equal((await fresh.call('getAuthStatus', { includeToken: true })).authToken, 'sk-written-by-0171', 'not ambiguous: 0.171\'s item is read');
  await fresh.call('loginApiKey', { apiKey: 'sk-written-by-ours' });
  assert.deepEqual(await items(), [{ application: 'rust-keyring', secret: apiKeyRecord('sk-written-by-ours') }]);
  const after = await runCodex0171(['login', 'status', ...KEYRING], { codexHome: home.path, env });
  assert.match(output(after), /API key configured - sk-writt\*\*\*-ours/);
});
