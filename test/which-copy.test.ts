/**
 * Which copy wins when the OS keyring and auth.json both may hold credentials (keyring and auto
 * modes), unit-tested on the pure functions of src/auth/store/which-copy.ts: one row per case,
 * every branch, with the warnings written out as the README quotes them. The stores that call
 * these are driven end to end in storage-keyring.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeyringReply } from '../src/protocol/keyring.js';
import { fingerprintOf, type AuthRecord, type StoredAuth } from '../src/auth/store/record.js';
import {
  chooseInAutoMode,
  chooseInKeyringMode,
  keyringCopy,
  keyringUnavailable,
  refreshedLater,
  sameRecord,
  type Choice,
  type KeyringCopy,
} from '../src/auth/store/which-copy.js';

const PATH = '/home/someone/.codex/auth.json';
const EARLIER = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';

const record = (last_refresh: string | null | undefined, refresh_token = 'rt'): AuthRecord => ({
  auth_mode: 'chatgpt',
  OPENAI_API_KEY: null,
  tokens: { id_token: 'id', access_token: 'at', refresh_token },
  ...(last_refresh !== undefined && { last_refresh }),
});
const present = (value: AuthRecord, fingerprint: string): StoredAuth => ({ kind: 'present', record: value, fingerprint });

// What a load may read from auth.json.
const fileMissing: StoredAuth = { kind: 'missing' };
const fileUnusable: StoredAuth = { kind: 'unusable', reason: 'not valid JSON (Unexpected end of JSON input)', fingerprint: 'bad' };
const fileSame = present(record(EARLIER), 'same');
const fileNewer = present(record(LATER, 'rotated'), 'newer');
const fileOlder = present(record('2025-12-31T00:00:00.000Z', 'old'), 'older');
const fileUndated = present(record(undefined, 'undated'), 'undated');

// What a load may read from the keyring.
const keyringDown: KeyringCopy = { ok: false, message: 'the OS keyring did not answer within 3 s' };
const noEntry: KeyringCopy = { ok: true, stored: { kind: 'missing' } };
const entry = present(record(EARLIER), 'keyring:entry');
const withEntry: KeyringCopy = { ok: true, stored: entry };
const entryUnusable: StoredAuth = { kind: 'unusable', reason: 'tokens.id_token: Invalid input', fingerprint: 'keyring:broken' };
const withUnusableEntry: KeyringCopy = { ok: true, stored: entryUnusable };

const unavailable = keyringUnavailable(keyringDown.ok ? '' : keyringDown.message);

const notUsed = `a plaintext ${PATH} is present; it is not used in keyring mode`;
const ignored = `a plaintext ${PATH} is still present next to the OS keyring entry and is ignored; remove it`;
const leftOver = `the credentials are still in plaintext ${PATH}, not in the OS keyring; they move there at the next sign-in or token refresh`;
const refreshed = `the refreshed credentials are in plaintext ${PATH} because the OS keyring refused them; they move to the keyring at the next save`;
const fellBack = `the OS keyring is not usable (the OS keyring did not answer within 3 s); the credentials are kept in plaintext ${PATH}`;
const inForce = `the credentials are in plaintext ${PATH}; they move to the OS keyring at the next sign-in or token refresh`;
const copy = `a plaintext copy of the OS keyring entry is still at ${PATH}; remove it`;
const unusableIgnored = `${PATH} cannot be used (not valid JSON (Unexpected end of JSON input)) and is ignored; remove it`;

type Expect = [use: Choice['use'], auth: StoredAuth, warning: string | undefined];
const choice = ([use, auth, warning]: Expect): Choice => ({ use, auth, warning });

/** One row per pair of copies a load can read: what keyring mode uses, and what auto mode uses. */
const rows: Array<[name: string, keyring: KeyringCopy, file: StoredAuth, keyringMode: Expect, autoMode: Expect]> = [
  ['keyring unusable, no file', keyringDown, fileMissing, ['keyring', unavailable, undefined], ['file', fileMissing, fellBack]],
  ['keyring unusable, a file', keyringDown, fileSame, ['keyring', unavailable, notUsed], ['file', fileSame, fellBack]],
  ['keyring unusable, an unusable file', keyringDown, fileUnusable, ['keyring', unavailable, notUsed], ['file', fileUnusable, fellBack]],
  ['no entry, no file', noEntry, fileMissing, ['keyring', fileMissing, undefined], ['keyring', fileMissing, undefined]],
  ['no entry, a file (left from file mode / an auto fallback)', noEntry, fileSame, ['file', fileSame, leftOver], ['file', fileSame, inForce]],
  ['no entry, an unusable file (its error shows)', noEntry, fileUnusable, ['file', fileUnusable, leftOver], ['file', fileUnusable, inForce]],
  ['an entry, no file', withEntry, fileMissing, ['keyring', entry, undefined], ['keyring', entry, undefined]],
  ['an entry, a file refreshed later (rotated tokens the keyring refused)', withEntry, fileNewer, ['file', fileNewer, refreshed], ['file', fileNewer, inForce]],
  ['an entry, a different file refreshed earlier', withEntry, fileOlder, ['keyring', entry, ignored], ['file', fileOlder, inForce]],
  ['an entry, the same record in the file', withEntry, fileSame, ['keyring', entry, ignored], ['keyring', entry, copy]],
  ['an entry, a different file without last_refresh', withEntry, fileUndated, ['keyring', entry, ignored], ['file', fileUndated, inForce]],
  ['an entry, an unusable file', withEntry, fileUnusable, ['keyring', entry, ignored], ['keyring', entry, unusableIgnored]],
  ['an unusable entry, no file (its error shows)', withUnusableEntry, fileMissing, ['keyring', entryUnusable, undefined], ['keyring', entryUnusable, undefined]],
  ['an unusable entry, a newer file', withUnusableEntry, fileNewer, ['keyring', entryUnusable, ignored], ['file', fileNewer, inForce]],
  ['an unusable entry, an unusable file', withUnusableEntry, fileUnusable, ['keyring', entryUnusable, ignored], ['file', fileUnusable, inForce]],
];

test('keyring mode: the entry is the credentials; auth.json counts only when there is no entry, or as refused rotated tokens', () => {
  for (const [name, keyring, file, expected] of rows) assert.deepEqual(chooseInKeyringMode(keyring, file, PATH), choice(expected), name);
});

test('auto mode: the keyring when it works, else the file; a file beside an entry is the newer copy unless unusable or the same', () => {
  for (const [name, keyring, file, , expected] of rows) assert.deepEqual(chooseInAutoMode(keyring, file, PATH), choice(expected), name);
});

test('a keyring reply becomes a copy: an error, no entry (null or absent), or the text parsed under a keyring fingerprint', () => {
  const text = JSON.stringify(record(EARLIER));
  const rows: Array<[string, KeyringReply, KeyringCopy]> = [
    ['an error', { ok: false, message: 'locked' }, { ok: false, message: 'locked' }],
    ['no entry (null)', { ok: true, value: null }, { ok: true, stored: { kind: 'missing' } }],
    ['no entry (no value)', { ok: true }, { ok: true, stored: { kind: 'missing' } }],
    ['a record', { ok: true, value: text }, { ok: true, stored: present(record(EARLIER), `keyring:${fingerprintOf(text)}`) }],
  ];
  for (const [name, reply, expected] of rows) assert.deepEqual(keyringCopy(reply), expected, name);
  const broken = keyringCopy({ ok: true, value: '{' });
  assert.ok(broken.ok && broken.stored.kind === 'unusable' && broken.stored.fingerprint === `keyring:${fingerprintOf('{')}`, 'unparsable text is an unusable copy');
});

test('refreshedLater: only a readable last_refresh after the other one (or after none) is later', () => {
  const rows: Array<[string, string | null | undefined, string | null | undefined, boolean]> = [
    ['later', LATER, EARLIER, true],
    ['earlier', EARLIER, LATER, false],
    ['the same time', EARLIER, EARLIER, false],
    ['dated against undated', EARLIER, undefined, true],
    ['dated against null', EARLIER, null, true],
    ['dated against unreadable', EARLIER, 'yesterday-ish', true],
    ['undated against dated', undefined, EARLIER, false],
    ['unreadable against dated', 'yesterday-ish', EARLIER, false],
    ['both undated', undefined, undefined, false],
  ];
  for (const [name, a, b, expected] of rows) assert.equal(refreshedLater(record(a), record(b)), expected, name);
});

test('sameRecord compares whole records; keyringUnavailable is the keyring_unavailable error', () => {
  assert.equal(sameRecord(record(EARLIER), record(EARLIER)), true);
  assert.equal(sameRecord(record(EARLIER), record(EARLIER, 'other')), false);
  assert.equal(sameRecord(record(EARLIER), record(LATER)), false);
  assert.deepEqual(keyringUnavailable('no secret service'), {
    kind: 'unusable',
    code: 'keyring_unavailable',
    reason: 'the OS keyring is not usable (no secret service)',
    fingerprint: 'keyring-unavailable',
  });
});
