/**
 * The storage backend table (src/auth/store/store.ts): one entry per `cli_auth_credentials_store`
 * mode, demanded by its type, and no fallback: a mode outside the table opens nothing (it used to
 * become file storage silently).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StorageModeSchema, type StorageMode } from '../src/protocol/storage.js';
import { BACKENDS, openCredentialStore, openSessionVault, storeOptionsFor, type Backend } from '../src/auth/store/store.js';

// @ts-expect-error a table without an entry for every mode does not compile
export const incomplete: { readonly [M in StorageMode]: Backend } = { file: BACKENDS.file };

test('every storage mode has its backend, opened by mode; a mode outside the table is refused, never made file storage', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'backends-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  assert.deepEqual(Object.keys(BACKENDS).sort(), [...StorageModeSchema.options].sort());
  const kinds: Record<string, string> = {};
  for (const mode of StorageModeSchema.options) {
    const options = storeOptionsFor(home, mode);
    assert.equal(options.mode, mode);
    kinds[mode] = openCredentialStore(options).kind;
    assert.equal(typeof openSessionVault(options).where, 'string');
  }
  assert.deepEqual(kinds, { file: 'file', keyring: 'keyring', auto: 'keyring', ephemeral: 'memory' });
  assert.equal(BACKENDS.file.recordFile(storeOptionsFor(home, 'file')), join(home, 'auth.json'), 'only the file backend can be seen to be empty without a worker');
  for (const mode of ['keyring', 'auto', 'ephemeral'] as const) assert.equal(BACKENDS[mode].recordFile(storeOptionsFor(home, mode)), undefined, mode);
  assert.throws(() => openCredentialStore({ codexHome: home, mode: 'cloud' as StorageMode }), TypeError);
  assert.throws(() => openSessionVault({ codexHome: home, mode: 'cloud' as StorageMode }), TypeError);
});
