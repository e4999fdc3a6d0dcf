/**
 * Several accounts seeded straight into a CODEX_HOME (auth.json and the account store), and the
 * judgement the durability tests and the accounts-chaos bench make of it: every account the
 * issuer still honours has its live refresh token somewhere on disk.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountsIssuer } from '../../dev/fakes/accounts-issuer.js';
import { SESSIONS_FILE_NAME } from '../../src/auth/store/session-vault.js';

export const sessionIdOf = (userId: string) => `session-${createHash('sha256').update(userId).digest('hex').slice(0, 16)}`;
export const storePath = (home: string) => join(home, SESSIONS_FILE_NAME);

/** auth.json holds `active` (if any), the account store holds `inactive`. */
export async function seedAccounts(home: string, issuer: AccountsIssuer, active: string | undefined, inactive: string[]): Promise<void> {
  if (active) await writeFile(join(home, 'auth.json'), JSON.stringify(await issuer.record(active), null, 2), { mode: 0o600 });
  await writeFile(storePath(home), JSON.stringify(await accountStoreHolding(issuer, inactive), null, 2), { mode: 0o600 });
}

/** The account store's contents with `inactive` in it, each with its current tokens. */
export async function accountStoreHolding(issuer: AccountsIssuer, inactive: string[]) {
  const sessions = [];
  for (const email of inactive) {
    const account = issuer.accounts.find((a) => a.email === email)!;
    sessions.push({
      sessionId: sessionIdOf(account.userId),
      userId: account.userId,
      email,
      displayName: null,
      planType: account.planType,
      lastUsedAt: Math.floor(Date.now() / 1000) - 60,
      selectedWorkspaceAccountId: account.accountId,
      workspaces: [{ accountId: account.accountId, name: null, kind: 'personal' }],
      record: await issuer.record(email),
    });
  }
  return { version: 1, sessions };
}

const readJson = async (path: string): Promise<any> => JSON.parse(await readFile(path, 'utf8'));

/** Every refresh token on disk, with where it is (auth.json or the account store). */
export async function refreshTokensOnDisk(home: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const auth = await readJson(join(home, 'auth.json')).catch(() => undefined);
  if (auth?.tokens?.refresh_token) found.set(auth.tokens.refresh_token, 'auth.json');
  const vault = await readJson(storePath(home)).catch(() => ({ sessions: [] }));
  for (const session of vault.sessions ?? []) if (session.record?.tokens?.refresh_token) found.set(session.record.tokens.refresh_token, `store:${session.email}`);
  return found;
}

/** The accounts the issuer still honours whose live refresh token is nowhere on disk. */
export async function lostAccounts(home: string, issuer: AccountsIssuer): Promise<string[]> {
  const onDisk = await refreshTokensOnDisk(home);
  return issuer.accounts.filter((a) => !issuer.isRevoked(a.email) && !onDisk.has(issuer.live(a.email)!)).map((a) => a.email);
}

/** The email of the account auth.json holds, if any. */
export async function activeEmailOf(home: string): Promise<string | undefined> {
  const auth = await readJson(join(home, 'auth.json')).catch(() => undefined);
  const idToken = auth?.tokens?.id_token;
  return idToken ? JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).email : undefined;
}
