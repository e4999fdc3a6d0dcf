/**
 * The `keyring` backend, and the frame it shares with `auto` (auto.ts): both read the OS keyring
 * entry and auth.json side by side and let which-copy.ts say which is in force; both save to the
 * entry, then remove the plaintext file and touch the commit lock so sibling servers look again.
 * What differs is passed in as `KeyringRules`.
 *
 * `keyring` itself: a keyring that cannot be used is an error (`keyring_unavailable`), never a
 * silent file. The one exception: a record that cannot be got again (tokens a refresh just
 * rotated; the old refresh token is spent) that the keyring refuses is written to auth.json,
 * reported, rather than lost.
 * Runs on all three threads: main, login worker, token service.
 */
import type { StorageKind } from '../../protocol/storage.js';
import { authFilePath, deleteAuthFile, readAuthFile, writeAuthFile } from './auth-file.js';
import { keyringEntry, type KeyringEntry } from './keyring-entry.js';
import { announceKeyringWrite, withAuthLock } from './locks.js';
import type { StoredAuth } from './record.js';
import type { CredentialStore, SaveOptions } from './credential-store.js';
import { watchKeyring } from './watch.js';
import { chooseInKeyringMode, keyringCopy, warnings, type Choice, type KeyringCopy } from './which-copy.js';

/** What the keyring-backed modes do differently. */
export interface KeyringRules {
  /** Which copy a load uses (which-copy.ts). */
  readonly choose: (keyring: KeyringCopy, file: StoredAuth, path: string) => Choice;
  /** The keyring refused a save: throws to refuse it, or returns the warning for keeping it in auth.json instead. */
  readonly refusedSave: (reason: string, path: string, options: SaveOptions | undefined) => string;
  /** Removes the entry and auth.json; whether anything was removed. */
  readonly remove: (entry: KeyringEntry) => Promise<boolean>;
}

export function keyringStore(codexHome: string, pollMs?: number): CredentialStore {
  return keyringBackedStore(codexHome, pollMs, {
    choose: chooseInKeyringMode,
    refusedSave(reason, path, options) {
      if (!options?.irreplaceable) throw new Error(`cannot store the credentials in the OS keyring (${reason})`);
      // Losing these would sign the person out for good; a reported plaintext copy is the lesser harm.
      return warnings.keyringRefusedRefresh(path, reason);
    },
    async remove(entry) {
      const answer = await entry.remove();
      const removedFile = await deleteAuthFile(codexHome);
      if (!answer.ok) throw new Error(`cannot remove the credentials from the OS keyring (${answer.message})`);
      return answer.removed === true || removedFile;
    },
  });
}

/** A store over the keyring entry and auth.json of `codexHome`; after `load` or `save`, `kind` says where the credentials are. */
export function keyringBackedStore(codexHome: string, pollMs: number | undefined, rules: KeyringRules): CredentialStore {
  const entry = keyringEntry(codexHome);
  const path = authFilePath(codexHome);
  let kind: StorageKind = 'keyring';
  let warning: string | undefined;
  return {
    get kind() {
      return kind;
    },
    get warning() {
      return warning;
    },
    async load() {
      const [answer, onDisk] = await Promise.all([entry.get(), readAuthFile(codexHome)]);
      const choice = rules.choose(keyringCopy(answer), onDisk, path);
      kind = choice.use;
      warning = choice.warning;
      return choice.auth;
    },
    async save(record, options) {
      const answer = await entry.set(JSON.stringify(record));
      if (!answer.ok) {
        const refused = rules.refusedSave(answer.message, path, options);
        await writeAuthFile(codexHome, record);
        kind = 'file';
        warning = refused;
        return;
      }
      kind = 'keyring';
      warning = await removePlaintext(codexHome);
      await announceKeyringWrite(codexHome);
    },
    delete: () => rules.remove(entry),
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
    watch: (onChange) => watchKeyring(entry, codexHome, onChange, pollMs),
  };
}

/** After a keyring save: the plaintext copy must go; if it cannot, that is reported, not hidden. */
async function removePlaintext(codexHome: string): Promise<string | undefined> {
  try {
    await deleteAuthFile(codexHome);
    return undefined;
  } catch (error) {
    return warnings.plaintextNotRemoved(authFilePath(codexHome), (error as NodeJS.ErrnoException).code ?? 'error');
  }
}
