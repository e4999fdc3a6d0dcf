/**
 * What an account session is, read from the tokens: who a record belongs to (its session id is a
 * hash of the ChatGPT user id, so the same person always gets the same id, whichever process saw
 * them first), the vault entry that remembers them, and the token-free list built from the vault
 * and the active record. Runs in the workers that decode JWTs (login worker, token service).
 */
import { createHash } from 'node:crypto';
import type { AccountSession, AccountSessionsResponse } from '../../src/protocol/account-wire.js';
import { v2PlanType } from '../../src/protocol/account-wire.js';
import type { AuthRecord, StoredAuth } from '../../src/auth/store/record.js';
import { emptyVault, UnreadableVaultError, type Vault, type VaultSession, type VaultWorkspace } from '../../src/auth/store/session-vault.js';
import { openSessionVault, type CredentialStore } from '../../src/auth/store/store.js';
import type { StoreOptions } from '../../src/protocol/storage.js';
import { tryReadTokenClaims } from './jwt-claims.js';

export interface Identity {
  readonly sessionId: string;
  readonly userId: string | null;
  readonly email: string | null;
  readonly planType: string | null;
  /** The workspace (ChatGPT account) the tokens are for. */
  readonly accountId: string | null;
}

/** Plans a person holds alone; any other plan belongs to a shared workspace (team, business, edu…). */
const PERSONAL_PLANS = new Set(['free', 'go', 'plus', 'pro', 'prolite', 'promax']);

export const nowSeconds = (now = Date.now()) => Math.floor(now / 1000);

/** The ChatGPT record in force in what the store holds, if any (an API key is not an account session). */
export function activeChatGptRecord(stored: StoredAuth): AuthRecord | undefined {
  if (stored.kind !== 'present' || !stored.record.tokens) return undefined;
  const mode = stored.record.auth_mode ?? (stored.record.OPENAI_API_KEY != null ? 'apikey' : 'chatgpt');
  return mode === 'apikey' ? undefined : stored.record;
}

/** Who the record's id token names; undefined when it names nobody we can tell apart. */
export function identityOf(record: AuthRecord): Identity | undefined {
  const tokens = record.tokens;
  if (!tokens) return undefined;
  const claims = tryReadTokenClaims(tokens.id_token);
  const person = claims?.userId ?? claims?.email?.toLowerCase();
  if (!person) return undefined;
  return {
    sessionId: `session-${createHash('sha256').update(person).digest('hex').slice(0, 16)}`,
    userId: claims?.userId ?? null,
    email: claims?.email ?? null,
    planType: claims?.planType ?? null,
    accountId: tokens.account_id ?? claims?.accountId ?? null,
  };
}

function workspaceOf(identity: Identity): VaultWorkspace | undefined {
  if (!identity.accountId) return undefined;
  return { accountId: identity.accountId, name: null, kind: identity.planType ? (PERSONAL_PLANS.has(identity.planType) ? 'personal' : 'workspace') : null };
}

/**
 * Records `identity` in the vault: with `record` as an inactive session holding those tokens,
 * with null as the active one (its tokens are in the store). Workspaces it was seen in are kept.
 */
export function upsertSession(vault: Vault, identity: Identity, record: AuthRecord | null, now = Date.now()): VaultSession {
  let entry = vault.sessions.find((session) => session.sessionId === identity.sessionId);
  if (!entry) {
    entry = { sessionId: identity.sessionId, userId: null, email: null, displayName: null, planType: null, lastUsedAt: nowSeconds(now), selectedWorkspaceAccountId: null, workspaces: [], record: null };
    vault.sessions.push(entry);
  }
  entry.userId = identity.userId;
  entry.email = identity.email;
  entry.planType = identity.planType;
  entry.selectedWorkspaceAccountId = identity.accountId;
  const workspace = workspaceOf(identity);
  if (workspace) entry.workspaces = [...entry.workspaces.filter((known) => known.accountId !== workspace.accountId), workspace];
  // It is (or until now was) the one in use.
  entry.lastUsedAt = nowSeconds(now);
  entry.record = record;
  delete entry.needsSignIn;
  return entry;
}

/**
 * Before a new ChatGPT sign-in replaces the active record: keeps the account being replaced as an
 * inactive session (unless it is the same person signing in again, whose tokens are replaced), and
 * records the new one as active. Returns whether the vault changed.
 */
export function noteSignIn(vault: Vault, active: AuthRecord | undefined, incoming: AuthRecord, now = Date.now()): boolean {
  const next = identityOf(incoming);
  const previous = active && identityOf(active);
  let changed = false;
  if (previous && previous.sessionId !== next?.sessionId) {
    upsertSession(vault, previous, active!, now);
    changed = true;
  } else if (previous) {
    upsertSession(vault, previous, null, now); // its workspace stays listed
  }
  if (next) {
    upsertSession(vault, next, null, now);
    changed = true;
  }
  return changed;
}

/** The token-free list: every inactive session with tokens, and the active account (first). */
export function listSessions(vault: Vault, active: AuthRecord | undefined): AccountSessionsResponse {
  const activeIdentity = active && identityOf(active);
  const sessions: AccountSession[] = [];
  if (activeIdentity) {
    const entry = vault.sessions.find((session) => session.sessionId === activeIdentity.sessionId);
    const workspace = workspaceOf(activeIdentity);
    const workspaces = [...(entry?.workspaces ?? []).filter((known) => known.accountId !== workspace?.accountId), ...(workspace ? [workspace] : [])];
    sessions.push(toWire({ ...activeIdentity, displayName: entry?.displayName ?? null, lastUsedAt: entry?.lastUsedAt ?? nowSeconds(), workspaces, isActive: true }));
  }
  const inactive = vault.sessions
    .filter((session) => session.record && session.sessionId !== activeIdentity?.sessionId)
    .sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  for (const session of inactive) {
    const identity = identityOf(session.record!);
    sessions.push(
      toWire({
        sessionId: session.sessionId,
        userId: identity?.userId ?? session.userId,
        email: identity?.email ?? session.email,
        planType: identity?.planType ?? session.planType,
        accountId: identity?.accountId ?? session.selectedWorkspaceAccountId,
        displayName: session.displayName,
        lastUsedAt: session.lastUsedAt,
        workspaces: session.workspaces,
        isActive: false,
        needsSignIn: session.needsSignIn === true,
      }),
    );
  }
  return { activeSessionId: activeIdentity?.sessionId ?? null, sessions };
}

/** Field by field, so nothing else (a record, a token) can ride along onto the wire. */
function toWire(session: Identity & { displayName: string | null; lastUsedAt: number; workspaces: VaultWorkspace[]; isActive: boolean; needsSignIn?: boolean }): AccountSession {
  return {
    sessionId: session.sessionId,
    email: session.email,
    userId: session.userId,
    displayName: session.displayName,
    imageUrl: null,
    lastUsedAt: session.lastUsedAt,
    isActive: session.isActive,
    selectedWorkspaceAccountId: session.accountId,
    workspaces: session.workspaces.map(({ accountId, name, kind }) => ({ accountId, name, imageUrl: null, kind })),
    planType: session.planType ? v2PlanType(session.planType) : null,
    ...(session.needsSignIn && { needsSignIn: true }),
  };
}

/**
 * Called by a ChatGPT sign-in holding the store's lock, before it writes `incoming`: the account
 * it replaces is kept in the vault first, so a crash between the two writes loses nothing. A vault
 * that cannot be read or written fails the sign-in only when an account would otherwise be lost.
 * A vault file that holds no vault (corrupt, or not a regular file) does not stop the sign-in,
 * whose code was already exchanged: it is set aside for repair and a new one started; the
 * returned warning names both files.
 */
export async function keepReplacedAccount(options: StoreOptions, store: CredentialStore, incoming: AuthRecord): Promise<string | undefined> {
  const active = activeChatGptRecord(await store.load());
  const [previous, next] = [active && identityOf(active), identityOf(incoming)];
  const mustKeep = previous !== undefined && previous.sessionId !== next?.sessionId;
  // The same login in another workspace: the workspace it leaves is remembered in the list.
  const otherWorkspace = previous !== undefined && previous.sessionId === next?.sessionId && previous.accountId !== next.accountId;
  const vault = openSessionVault(options);
  let warning: string | undefined;
  try {
    let contents: Vault;
    try {
      contents = await vault.read();
    } catch (error) {
      if (!(error instanceof UnreadableVaultError) || !vault.setAside || (!mustKeep && !otherWorkspace)) throw error;
      const aside = await vault.setAside();
      warning = `${vault.where} could not be read (${error.message.split(';')[0]}); it was set aside as ${aside} and a new one started: the accounts it held must sign in again, or repair ${aside} and move it back while this server is stopped`;
      contents = emptyVault();
    }
    // One account and nothing remembered yet: no vault is made (auth.json alone, as before).
    if (!mustKeep && !otherWorkspace && contents.sessions.length === 0) return warning;
    if (noteSignIn(contents, active, incoming)) await vault.write(contents);
  } catch (error) {
    if (mustKeep) throw new Error(`the account signed in until now could not be kept (${(error as Error).message}); nothing was changed`);
  }
  return warning;
}
