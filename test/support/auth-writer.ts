/**
 * A writer process for the crash test: rewrites auth.json in a tight loop through the real
 * credential store (the code a refresh writes with, from dist), alternating two complete records,
 * until it is killed. argv: CODEX_HOME. Prints "ready" once the first write has finished, so the
 * kills land inside the write loop rather than while it loads.
 */
import { openCredentialStore } from '../../src/auth/store/store.js';

const store = openCredentialStore({ codexHome: process.argv[2]!, mode: 'file' });
/** Two records that differ in every token, with a long access token so a write takes a while. */
export const crashRecord = (which: 'A' | 'B') => ({
  OPENAI_API_KEY: null,
  tokens: { id_token: `id-${which}`, access_token: `access-${which}`.repeat(2_000), refresh_token: `refresh-${which}`, account_id: 'acct' },
  last_refresh: new Date().toISOString(),
});

if (process.argv[2]) {
  await store.save(crashRecord('A'));
  process.stdout.write('ready\n');
  for (let i = 1; ; i++) await store.save(crashRecord(i % 2 === 0 ? 'A' : 'B'));
}
