/**
 * The request-stream format (JSONL), documented in bench/README.md. Line 1 is a header; every
 * other line is a client message to send `t` ms after the start, optionally with the response
 * it must get, or an action another party performs (another process rewriting or removing
 * auth.json, a person signing in at the issuer in a browser).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const StreamHeaderSchema = z.object({
  stream: z.string(),
  description: z.string().optional(),
  /** Extra server arguments; `${ISSUER}` becomes the embedded issuer's URL. */
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /** Start the embedded issuer for this stream. */
  issuer: z.boolean().default(false),
  /** auth.json to start from (absent: none). */
  auth: z.unknown().optional(),
  /** Patterns every notification must match one of (counts depend on timing, so only shapes are checked). */
  notifications: z.array(z.unknown()).default([]),
});
export type StreamHeader = z.infer<typeof StreamHeaderSchema>;

export const StreamStepSchema = z
  .object({
    t: z.number().nonnegative(),
    /** A client message, sent as written (its id included) after `${result:ID.field}` substitution. */
    send: z.record(z.string(), z.unknown()).optional(),
    /** The response without `id`/`jsonrpc`: exact, except `{"$match": regex}` and `{"$any": true}`. */
    expect: z.unknown().optional(),
    /**
     * The response must match `expect` within this many ms (not scaled by --speed): the request is
     * sent again, with fresh ids, until it does. For states that settle after outside changes.
     */
    eventually: z.number().positive().optional(),
    /**
     * Ids of earlier requests whose answers the client had when it sent this message (the
     * recorder writes it): the replay waits for those answers first, so a getAuthStatus sent after
     * a sign-in was answered is not sent before it.
     */
    after: z.array(z.union([z.string(), z.number()])).optional(),
    action: z
      .union([
        z.object({ writeAuth: z.unknown() }).strict(),
        z.object({ removeAuth: z.literal(true) }).strict(),
        /** Sign in at the embedded issuer as a browser would, then follow the redirect to the callback. */
        z.object({ signIn: z.string() }).strict(),
      ])
      .optional(),
  })
  .strict()
  .refine((step) => (step.send === undefined) !== (step.action === undefined), 'a step has exactly one of send and action')
  .refine((step) => step.eventually === undefined || step.expect !== undefined, 'eventually needs expect');
export type StreamStep = z.infer<typeof StreamStepSchema>;

export function readStream(path: string): { header: StreamHeader; steps: StreamStep[] } {
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '');
  const [first, ...rest] = lines;
  return {
    header: StreamHeaderSchema.parse(JSON.parse(first!)),
    steps: rest.map((line, i) => {
      const parsed = StreamStepSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${path}:${i + 2}: ${parsed.error.issues[0]!.message}`);
      return parsed.data;
    }),
  };
}

/**
 * Matches an actual value against an expected one: exact, except `{"$match": "regex"}` (a string
 * matching the pattern) and `{"$any": true}`. Returns the path of the first difference.
 */
export function mismatch(expected: unknown, actual: unknown, path = '$'): string | undefined {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    const pattern = expected as Record<string, unknown>;
    if (pattern['$any'] === true) return undefined;
    if (typeof pattern['$match'] === 'string') {
      return typeof actual === 'string' && new RegExp(pattern['$match']).test(actual) ? undefined : `${path}: ${JSON.stringify(actual)} does not match /${pattern['$match']}/`;
    }
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    const keys = new Set([...Object.keys(pattern), ...Object.keys(actual as object)]);
    for (const key of keys) {
      const difference = mismatch(pattern[key], (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (difference) return difference;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: expected ${expected.length} items`;
    for (const [i, item] of expected.entries()) {
      const difference = mismatch(item, actual[i], `${path}[${i}]`);
      if (difference) return difference;
    }
    return undefined;
  }
  return Object.is(expected, actual) ? undefined : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/** Replaces `${result:<id>.<field>}` in a message with a field of an earlier response. */
export function substitute(value: unknown, results: Map<unknown, Record<string, unknown>>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{result:([^.}]+)\.([^}]+)\}/g, (_, id: string, field: string) => {
      const result = results.get(id) ?? results.get(Number(id));
      return String(result?.[field] ?? '');
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, results));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, results)]));
  }
  return value;
}
