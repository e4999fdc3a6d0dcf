/**
 * The credential record codex stores in `$CODEX_HOME/auth.json` (or the keyring, or memory), what
 * reading one copy of it gives (`StoredAuth`), and the fingerprint that tells two copies apart.
 * Unknown fields are kept (looseObject) so a rewrite never drops what a newer Codex wrote.
 * Runs on every thread that reads or writes credentials: main, login worker, token service.
 */
import { createHash } from 'node:crypto';

// The record's schema is part of the protocol (auth.json is Codex's on-disk wire format).
export { AuthRecordSchema, TokenDataSchema, type AuthRecord, type TokenData } from '../../protocol/auth-record.js';
import { AuthRecordSchema, type AuthRecord, type TokenData } from '../../protocol/auth-record.js';

/** What reading the store gave: nothing, a usable record, or something that cannot be used. */
export type StoredAuth =
  | { kind: 'missing' }
  | { kind: 'present'; record: AuthRecord; fingerprint: string }
  | { kind: 'unusable'; reason: string; fingerprint: string; code?: string };

/**
 * A fresh record for a new ChatGPT sign-in: nothing of a previous account is carried over.
 * `auth_mode` goes first, where Codex 0.171 puts it, so a file either of us writes reads the same.
 */
export function chatgptRecord(tokens: TokenData, apiKey: string | null, now = new Date()): AuthRecord {
  return { auth_mode: 'chatgpt', OPENAI_API_KEY: apiKey, tokens, last_refresh: now.toISOString() };
}

export function apiKeyRecord(apiKey: string): AuthRecord {
  return { auth_mode: 'apikey', OPENAI_API_KEY: apiKey };
}

/** Names one stored text: equal texts, equal fingerprints (16 hex characters of its SHA-256). */
export const fingerprintOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * Where JSON.parse stopped, as "(at line L, column C)" when its message gives a position. Its
 * message itself is never passed on: it quotes the text, which may hold a token, and the reason
 * reaches a model through the status tool.
 */
function whereInText(text: string, parseMessage: string): string {
  const position = /position (\d+)/.exec(parseMessage)?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  return ` (at line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

/** Parses stored text into a StoredAuth; never throws. */
export function parseStoredAuth(text: string, fingerprint: string): StoredAuth {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: 'unusable', reason: `not valid JSON${whereInText(text, (error as Error).message)}`, fingerprint };
  }
  const parsed = AuthRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: 'unusable', reason: `${issue.path.join('.') || 'record'}: ${issue.message}`, fingerprint };
  }
  return { kind: 'present', record: parsed.data, fingerprint };
}
