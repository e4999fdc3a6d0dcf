/**
 * A writer process for the crash test: rewrites auth.json in a tight loop through the real store
 * code, alternating two complete records, until it is killed. argv: CODEX_HOME.
 */
import { writeAuthFile } from '../../src/auth/file-store.js';

const home = process.argv[2]!;
const record = (n: 'A' | 'B') => ({
  OPENAI_API_KEY: null,
  tokens: { id_token: `id-${n}`, access_token: `access-${n}`.repeat(200), refresh_token: `refresh-${n}`, account_id: 'acct' },
  last_refresh: new Date().toISOString(),
});
process.stdout.write('ready\n');
for (let i = 0; ; i++) await writeAuthFile(home, record(i % 2 === 0 ? 'A' : 'B'));
