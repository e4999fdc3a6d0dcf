/**
 * With nothing stored (file mode, no auth.json) the main thread answers the validation itself and
 * starts no token-service thread (src/auth/nothing-stored.ts); anything stored still goes to the
 * token service. The shortcut's answer must be the token service's own for a missing record.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuthState } from '../src/auth/auth-state.js';
import { NOTHING_STORED, nothingStored } from '../src/auth/nothing-stored.js';
import type { TokenService } from '../src/auth/token-service-client.js';
import type { Logger } from '../src/log.js';
import type { AuthSnapshot } from '../src/protocol/snapshot.js';
import type { StoreOptions } from '../src/protocol/storage.js';
import { resolveSnapshot } from '../workers/token-service/resolve-snapshot.js';
import { tempHome } from './support/temp-home.js';

const silent = () => undefined;
const log = { trace: silent, debug: silent, info: silent, warn: silent, error: silent } as unknown as Logger;

/** A token service that records what it was asked and answers an API-key snapshot. */
function recordingTokenService() {
  const asked: StoreOptions[] = [];
  const answer: AuthSnapshot = { authMethod: 'apikey', accountType: 'apiKey', authToken: 'sk-stored', storage: 'file', source: 'file', fingerprint: 'fp' };
  const tokens = { run: async (_name: 'validate', task: { store: StoreOptions }) => (asked.push(task.store), answer) } as unknown as TokenService;
  return { tokens, asked };
}

test('the shortcut answers exactly what the token service answers for a missing record in file mode', () => {
  assert.deepEqual(NOTHING_STORED, resolveSnapshot({ kind: 'missing' }, { storage: 'file' }));
});

test('no auth.json: the status is signed out and the token service is never asked; once one is written, it is', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const { tokens, asked } = recordingTokenService();
  const auth = new AuthState(tokens, { store: { codexHome: home.path, mode: 'file' } }, log);
  t.after(() => auth.close());
  assert.deepEqual(await auth.ready, NOTHING_STORED);
  assert.equal(asked.length, 0, 'no token-service task for nothing stored');

  await home.writeAuth({ OPENAI_API_KEY: 'sk-stored' });
  assert.equal((await auth.revalidate()).authMethod, 'apikey');
  assert.equal(asked.length, 1, 'a stored record is read by the token service');
});

test('only a missing file is answered here: a directory, a dangling symlink and other modes go to the token service', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const file = { codexHome: home.path, mode: 'file' } as const;
  assert.deepEqual(await nothingStored(file), NOTHING_STORED);
  assert.deepEqual(await nothingStored({ codexHome: join(home.path, 'not-yet'), mode: 'file' }), NOTHING_STORED, 'no CODEX_HOME yet');
  await writeFile(join(home.path, 'plain'), '');
  assert.deepEqual(await nothingStored({ codexHome: join(home.path, 'plain'), mode: 'file' }), NOTHING_STORED, 'CODEX_HOME a file (ENOTDIR), as auth-file.ts reads it');
  for (const mode of ['keyring', 'auto'] as const) assert.equal(await nothingStored({ codexHome: home.path, mode }), undefined, `${mode} mode`);

  await symlink(join(home.path, 'elsewhere.json'), home.authFile);
  assert.equal(await nothingStored(file), undefined, 'a dangling symlink is the token service’s to judge');
  const other = await tempHome();
  t.after(() => other.remove());
  await mkdir(other.authFile);
  assert.equal(await nothingStored({ codexHome: other.path, mode: 'file' }), undefined, 'a directory named auth.json');
});
