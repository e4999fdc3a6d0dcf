/**
 * The `requestState` of a multi round-trip request (2026-07-28, SEP-2322): an opaque string the
 * client hands back on its retry. It decides which sign-in a retry waits for, so it is signed
 * (HMAC-SHA256 with a key made at start-up, never written anywhere) and carries an expiry; state
 * from another server process, a changed byte or a lapsed expiry is refused. No secret goes in it:
 * it holds a login id and the URL already shown to the person.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as z from '../../protocol/zod.js';

// Made at the first state sealed or opened, not as the module loads: a start that never sees a
// multi round-trip request does not load node:crypto for it (scripts/bundle.mjs loads it lazily).
let key: Buffer | undefined;

const sign = (body: string) => createHmac('sha256', (key ??= randomBytes(32))).update(body).digest();

export function sealState(payload: object, ttlMs: number): string {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: Date.now() + ttlMs })).toString('base64url');
  return `${body}.${sign(body).toString('base64url')}`;
}

/** The payload, or undefined when the state is not ours, was changed, or has expired. */
export function openState<S extends z.ZodMiniType>(state: string, schema: S): z.infer<S> | undefined {
  const [body, mac, extra] = state.split('.');
  if (!body || !mac || extra !== undefined) return undefined;
  const expected = sign(body);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const exp = (payload as { exp?: unknown } | null)?.exp;
  if (typeof exp !== 'number' || exp < Date.now()) return undefined;
  const parsed = schema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}
