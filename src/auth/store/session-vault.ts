/**
 * Where the signed-in accounts that are not active keep their tokens (the "vault"). The active
 * account stays exactly what auth.json (or the keyring entry, or memory) holds, so Codex and every
 * sibling server see it as today; the others live beside it under the same storage choice:
 *
 *  - `file`: `$CODEX_HOME/codex-auth-mcp-accounts.json`, 0600, replaced atomically like auth.json
 *    (named after this project: `account-sessions.json`, our earlier name, is what a closed
 *    upstream pull request (openai/codex#25383) and two forks name their own multi-login store,
 *    in another layout; a file of ours by that name is adopted once, see adoptLegacyFile).
 *  - `keyring`: one more entry of the "Codex Auth" service, account `cli|<hash>|sessions`.
 *  - `auto`: that keyring entry when the keyring works, else the file (said in `warning`).
 *  - `ephemeral`: the process's shared memory (StoreOptions.sessionMemory); gone with it.
 *
 * Every read-modify-write happens under the credential store's lock (Codex's auth.lock and
 * auth.json.lock), the same one every writer of auth.json takes, so a switch, a sign-in and a
 * refresh never interleave. The vault also remembers metadata of the active account (when it was
 * last used, its workspaces) with `record: null`: its tokens are only ever in the store.
 * Each storage mode's vault is opened through the backend table (store.ts: BACKENDS, openSessionVault).
 * Runs on the workers that write credentials (login worker, token service).
 */
import { link, lstat, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '../../protocol/zod.js';
import type { StoreOptions } from '../../protocol/storage.js';
import { writePrivateFile } from './auth-file.js';
import { callKeyring, KEYRING_SERVICE, keyringAccount } from './keyring-entry.js';
import { announceKeyringWrite } from './locks.js';
import { assertPrivateFolder, UnsafeFolderError } from './private-folder.js';
import { NotRegularFileError, readRegularFile } from './regular-file.js';
import { sharedText } from './memory.js';
import { AuthRecordSchema } from './record.js';

export const SESSIONS_FILE_NAME = 'codex-auth-mcp-accounts.json';
/** Where this project kept the vault before (a name others use too: see the top of this file). */
export const LEGACY_SESSIONS_FILE_NAME = 'account-sessions.json';

export const VaultWorkspaceSchema = z.object({
  accountId: z.string(),
  name: z.nullable(z.string()),
  kind: z.nullable(z.enum(['personal', 'workspace'])),
});
export type VaultWorkspace = z.infer<typeof VaultWorkspaceSchema>;

export const VaultSessionSchema = z.looseObject({
  sessionId: z.string(),
  userId: z.nullable(z.string()),
  email: z.nullable(z.string()),
  displayName: z.nullable(z.string()),
  planType: z.nullable(z.string()),
  /** Epoch seconds of the last time this account was made (or was) the active one. */
  lastUsedAt: z.number(),
  selectedWorkspaceAccountId: z.nullable(z.string()),
  workspaces: z.array(VaultWorkspaceSchema),
  /** The tokens of an inactive account; null while it is the active one (then they are in the store). */
  record: z.nullable(AuthRecordSchema),
  /** Set when the issuer refused this session's refresh token: only a new sign-in brings it back. */
  needsSignIn: z.optional(z.boolean()),
});
export type VaultSession = z.infer<typeof VaultSessionSchema>;

export const VaultSchema = z.looseObject({ version: z.literal(1), sessions: z.array(VaultSessionSchema) });
export type Vault = z.infer<typeof VaultSchema>;

export const emptyVault = (): Vault => ({ version: 1, sessions: [] });

export interface SessionVault {
  /** Where the vault is (for messages); never its contents. */
  readonly where: string;
  /** Throws when the vault exists but cannot be read or parsed: it is never silently emptied. */
  read(): Promise<Vault>;
  write(vault: Vault): Promise<void>;
  /**
   * Moves an unreadable vault file out of the way, kept for repair, and says where it went
   * (the file vault only; a keyring entry cannot be set aside).
   */
  setAside?(): Promise<string>;
}

/** A vault that is there but holds no vault: not JSON, not our shape, or not a regular file. */
export class UnreadableVaultError extends Error {
  override readonly name = 'UnreadableVaultError';
}

const FILE_REMEDY = '; repair it, or move it aside and sign in to those accounts again (a new sign-in sets it aside itself)';
const ENTRY_REMEDY = '; delete that keyring entry and sign in to those accounts again';

function parseVault(text: string, where: string, remedy = ''): Vault {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UnreadableVaultError(`${where} is not valid JSON; the inactive accounts in it cannot be read${remedy}`);
  }
  const parsed = VaultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UnreadableVaultError(`${where}: ${issue.path.join('.') || 'vault'}: ${issue.message}${remedy}`);
  }
  return parsed.data;
}

/**
 * The store file's text, undefined when it is not there, under the rules of auth.json
 * (auth-file.ts): a private CODEX_HOME, a regular file, never a blocked read.
 */
async function readVaultFile(codexHome: string, path: string): Promise<string | undefined> {
  return assertPrivateFolder(codexHome)
    .then(() => readRegularFile(path, `remove it (rm ${path}); the accounts in it must sign in again`))
    .catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      // Nothing stored is nothing planted (a write there is refused with this same message).
      if (error instanceof UnsafeFolderError && !(await lstat(path).then(() => true, () => false))) return undefined;
      if (error instanceof NotRegularFileError) throw new UnreadableVaultError(error.message);
      if (error instanceof UnsafeFolderError) throw error;
      throw new Error(`cannot read ${path} (${error.code ?? 'error'})`);
    });
}

/**
 * Moves our old `account-sessions.json` to the new name, once, losing no session: only a file in
 * our own layout (a multi-login store of another program by that name is left alone), and only
 * while the new file does not exist — link() fails rather than replace it, so two processes
 * adopting at once, or one adopting after the other has written the new file, lose nothing. The
 * old name goes once the new one holds it. Returns the text adopted, if any.
 */
async function adoptLegacyFile(codexHome: string): Promise<string | undefined> {
  const legacy = join(codexHome, LEGACY_SESSIONS_FILE_NAME);
  const text = await readVaultFile(codexHome, legacy).catch((error: unknown) => {
    if (error instanceof UnsafeFolderError) throw error;
    return undefined; // unreadable: not adopted, left where it is
  });
  if (text === undefined) return undefined;
  try {
    parseVault(text, legacy);
  } catch {
    return undefined; // not ours
  }
  try {
    await link(legacy, join(codexHome, SESSIONS_FILE_NAME));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return text; // cannot link here: read it where it is
    return undefined; // someone adopted it (or wrote the new file) first: theirs is the one
  }
  await unlink(legacy).catch(() => undefined);
  return text;
}

export function fileVault(codexHome: string): SessionVault {
  const path = join(codexHome, SESSIONS_FILE_NAME);
  return {
    where: path,
    async read() {
      const text = (await readVaultFile(codexHome, path)) ?? (await adoptLegacyFile(codexHome)) ?? (await readVaultFile(codexHome, path));
      return text === undefined ? emptyVault() : parseVault(text, path, FILE_REMEDY);
    },
    write: (vault) => writePrivateFile(codexHome, SESSIONS_FILE_NAME, JSON.stringify(vault, null, 2)),
    async setAside() {
      const aside = `${path}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(path, aside);
      return aside;
    },
  };
}

export function keyringVault(codexHome: string): SessionVault {
  const key = { service: KEYRING_SERVICE, account: `${keyringAccount(codexHome)}|sessions` };
  const where = `the OS keyring (service "${KEYRING_SERVICE}", account ${key.account})`;
  return {
    where,
    async read() {
      const answer = await callKeyring({ ...key, op: 'get' });
      if (!answer.ok) throw new Error(`cannot read the inactive accounts from ${where} (${answer.message})`);
      return typeof answer.value === 'string' ? parseVault(answer.value, where, ENTRY_REMEDY) : emptyVault();
    },
    async write(vault) {
      const answer = await callKeyring({ ...key, op: 'set', value: JSON.stringify(vault) });
      if (!answer.ok) throw new Error(`cannot store the inactive accounts in ${where} (${answer.message})`);
      // A plaintext copy left from an `auto` fallback must not outlive the keyring copy.
      await rm(join(codexHome, SESSIONS_FILE_NAME), { force: true });
      await announceKeyringWrite(codexHome);
    },
  };
}

/** The keyring when it answers, else the file; a file that exists is the newer copy (as auth.json in auto mode). */
export function autoVault(codexHome: string): SessionVault {
  const keyring = keyringVault(codexHome);
  const file = fileVault(codexHome);
  let where = keyring.where;
  return {
    get where() {
      return where;
    },
    // Only the file can be unreadable without the keyring saying so (read() fails on it first).
    setAside: () => file.setAside!(),
    async read() {
      const onDisk = await file.read();
      if (onDisk.sessions.length > 0) return onDisk;
      return keyring.read().catch(() => onDisk);
    },
    async write(vault) {
      try {
        await keyring.write(vault);
        where = keyring.where;
      } catch {
        await file.write(vault);
        where = file.where;
      }
    },
  };
}

export function memoryVault(options: StoreOptions): SessionVault {
  if (!options.sessionMemory) throw new Error('ephemeral storage needs the session memory from storeOptionsFor');
  const text = sharedText(options.sessionMemory);
  return {
    where: 'memory',
    read: async () => {
      const stored = text.read();
      return stored === undefined ? emptyVault() : parseVault(stored, 'memory');
    },
    write: async (vault) => text.write(JSON.stringify(vault)),
  };
}
