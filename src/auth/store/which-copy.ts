/**
 * Which copy of the credentials is in force when there can be two, the OS keyring entry and a
 * plaintext auth.json, and what the person is told about the other one (README, "Credential
 * storage and logout"). Pure functions of what one load read: no I/O, no clock. The keyring and
 * auto backends read both copies, then ask here. Every warning the two backends give is written
 * in `warnings`, naming the file.
 * Runs wherever a store loads: main thread, login worker, token service.
 */
import type { KeyringReply } from '../../protocol/keyring.js';
import type { StorageKind } from '../../protocol/storage.js';
import { fingerprintOf, parseStoredAuth, type AuthRecord, type StoredAuth } from './record.js';

/** What reading the keyring entry gave: the keyring could not be used, or the entry (`missing`: there is none). */
export type KeyringCopy = { readonly ok: false; readonly message: string } | { readonly ok: true; readonly stored: StoredAuth };

/** The credentials in force, where they were found, and what the person should know. */
export interface Choice {
  readonly use: Exclude<StorageKind, 'memory'>;
  readonly auth: StoredAuth;
  readonly warning: string | undefined;
}

export const warnings = {
  /** keyring mode, the keyring unusable. */
  fileNotUsedInKeyringMode: (file: string) => `a plaintext ${file} is present; it is not used in keyring mode`,
  /** keyring mode, no entry: the file is left from file mode. */
  leftFromFileMode: (file: string) =>
    `the credentials are still in plaintext ${file}, not in the OS keyring; they move there at the next sign-in or token refresh`,
  /** keyring mode: the file holds rotated tokens the keyring refused (see `keyringRefusedRefresh`). */
  refreshedInFile: (file: string) =>
    `the refreshed credentials are in plaintext ${file} because the OS keyring refused them; they move to the keyring at the next save`,
  /** keyring mode: a stale file beside the entry. */
  fileIgnored: (file: string) => `a plaintext ${file} is still present next to the OS keyring entry and is ignored; remove it`,
  /** keyring mode, saving: the keyring refused tokens that cannot be got again, so they went to the file. */
  keyringRefusedRefresh: (file: string, reason: string) =>
    `the OS keyring refused the refreshed credentials (${reason}); they are kept in plaintext ${file} so they are not lost, and move to the keyring at the next save`,
  /** auto mode, loading or saving: the keyring unusable. */
  autoFellBack: (file: string, reason: string) => `the OS keyring is not usable (${reason}); the credentials are kept in plaintext ${file}`,
  /** auto mode: an unusable file beside a usable entry. */
  unusableFileIgnored: (file: string, reason: string) => `${file} cannot be used (${reason}) and is ignored; remove it`,
  /** auto mode: the file holds what the entry holds. */
  plaintextCopy: (file: string) => `a plaintext copy of the OS keyring entry is still at ${file}; remove it`,
  /** auto mode: the file is newer than the entry (written while the keyring failed). */
  fileInForce: (file: string) => `the credentials are in plaintext ${file}; they move to the OS keyring at the next sign-in or token refresh`,
  /** Either mode, after a keyring save. */
  plaintextNotRemoved: (file: string, code: string) =>
    `the credentials are in the OS keyring, but the plaintext ${file} could not be removed (${code}); remove it`,
};

/** A keyring `get` reply as a copy: its text parsed, fingerprinted apart from a file of the same bytes. */
export function keyringCopy(answer: KeyringReply): KeyringCopy {
  if (!answer.ok) return { ok: false, message: answer.message };
  if (answer.value == null) return { ok: true, stored: { kind: 'missing' } };
  return { ok: true, stored: parseStoredAuth(answer.value, `keyring:${fingerprintOf(answer.value)}`) };
}

/**
 * `keyring`: the entry is the credentials. An unusable keyring is an error (`keyring_unavailable`),
 * never a silent file. With no entry, a file left from file mode is used (and moved by the next
 * save). Beside an entry, the file wins only when it was refreshed later: rotated tokens the
 * keyring refused, the only copy of the live refresh token; otherwise it is ignored, reported.
 */
export function chooseInKeyringMode(keyring: KeyringCopy, file: StoredAuth, path: string): Choice {
  const fileThere = file.kind !== 'missing';
  if (!keyring.ok) return { use: 'keyring', auth: keyringUnavailable(keyring.message), warning: fileThere ? warnings.fileNotUsedInKeyringMode(path) : undefined };
  const entry = keyring.stored;
  if (entry.kind === 'missing') return fileThere ? { use: 'file', auth: file, warning: warnings.leftFromFileMode(path) } : { use: 'keyring', auth: entry, warning: undefined };
  if (entry.kind === 'present' && file.kind === 'present' && refreshedLater(file.record, entry.record)) {
    return { use: 'file', auth: file, warning: warnings.refreshedInFile(path) };
  }
  return { use: 'keyring', auth: entry, warning: fileThere ? warnings.fileIgnored(path) : undefined };
}

/**
 * `auto`: the keyring when it works, else the file. auth.json is written only when the keyring
 * failed and removed after every keyring save, so when both exist the file is the newer copy and
 * wins, unless it cannot be used or only repeats the entry.
 */
export function chooseInAutoMode(keyring: KeyringCopy, file: StoredAuth, path: string): Choice {
  if (!keyring.ok) return { use: 'file', auth: file, warning: warnings.autoFellBack(path, keyring.message) };
  const entry = keyring.stored;
  if (file.kind === 'missing') return { use: 'keyring', auth: entry, warning: undefined };
  if (entry.kind === 'present' && file.kind === 'unusable') return { use: 'keyring', auth: entry, warning: warnings.unusableFileIgnored(path, file.reason) };
  if (entry.kind === 'present' && file.kind === 'present' && sameRecord(entry.record, file.record)) {
    return { use: 'keyring', auth: entry, warning: warnings.plaintextCopy(path) };
  }
  return { use: 'file', auth: file, warning: warnings.fileInForce(path) };
}

/** What a keyring-mode load answers when the keyring cannot be used. */
export function keyringUnavailable(reason: string): StoredAuth {
  return { kind: 'unusable', code: 'keyring_unavailable', reason: `the OS keyring is not usable (${reason})`, fingerprint: 'keyring-unavailable' };
}

export const sameRecord = (a: AuthRecord, b: AuthRecord) => JSON.stringify(a) === JSON.stringify(b);

/** Whether `a` was refreshed after `b` (a missing or unreadable `last_refresh` is never later). */
export function refreshedLater(a: AuthRecord, b: AuthRecord): boolean {
  const at = (record: AuthRecord) => (record.last_refresh ? Date.parse(record.last_refresh) : Number.NaN);
  const [ta, tb] = [at(a), at(b)];
  return Number.isFinite(ta) && (!Number.isFinite(tb) || ta > tb);
}
