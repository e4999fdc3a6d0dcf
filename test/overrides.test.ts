/**
 * `-c key=value` parsing, as codex's `CliConfigOverrides::parse_overrides` does it: split on the
 * first '=', trim, parse the value as TOML (wrapped as `value = …`), else take the literal with
 * every leading and trailing quote stripped; dotted keys address nested tables.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyOverrides, OverrideError, parseOverride, parseOverrideValue } from '../src/config/overrides.js';

test("codex's own override tests: 42, a bare word, an array, an inline table", () => {
  assert.equal(parseOverride('model_context_window=42').value, 42);
  // codex's `fails_on_unquoted_string` is about the TOML parse; the override still falls back to the string.
  assert.equal(parseOverride('model=hello').value, 'hello');
  assert.deepEqual(parseOverride('x=[1, 2, 3]').value, [1, 2, 3]);
  assert.deepEqual({ ...(parseOverride('t={a = 1, b = "two"}').value as object) }, { a: 1, b: 'two' });
});

test('TOML scalars of every kind', () => {
  const cases: [string, unknown][] = [
    ['true', true],
    ['false', false],
    ['-7', -7],
    ['1_000', 1000],
    ['0x10', 16],
    ['1.5', 1.5],
    ['1e3', 1000],
    ["'literal'", 'literal'],
    ['"basic \\u00e9"', 'basic é'],
    ['"""multi"""', 'multi'],
    ['[]', []],
    ['["a", 1]', ['a', 1]],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseOverrideValue(text), expected, text);
  assert.equal((parseOverrideValue('1979-05-27T07:32:00Z') as Date).toISOString(), '1979-05-27T07:32:00.000Z');
});

test('what is not a TOML value is the literal string, quotes stripped like trim_matches', () => {
  const cases: [string, string][] = [
    ['apikey', 'apikey'],
    ['', ''],
    ['two words', 'two words'],
    ['"unterminated', 'unterminated'],
    ['\'mismatched"', 'mismatched'],
    ['""x""y', 'x""y'],
    ['http://127.0.0.1:4444/', 'http://127.0.0.1:4444/'],
    ['a=b', 'a=b'],
  ];
  for (const [text, expected] of cases) assert.equal(parseOverrideValue(text), expected, text);
});

test('split on the first =, both sides trimmed', () => {
  assert.deepEqual(parseOverride('  auth_issuer  =  http://x/?a=b  '), {
    raw: '  auth_issuer  =  http://x/?a=b  ',
    path: ['auth_issuer'],
    value: 'http://x/?a=b',
  });
  assert.deepEqual(parseOverride('a.b.c=1').path, ['a', 'b', 'c']);
  assert.equal(parseOverride('key=').value, '');
});

test('refused: no =, an empty key, an empty part of a dotted key; the message quotes the argument', () => {
  const cases: [string, RegExp][] = [
    ['preferred_auth_method', /invalid override 'preferred_auth_method': expected key=value/],
    ['', /invalid override '': expected key=value/],
    ['=apikey', /invalid override '=apikey': the key is empty/],
    ['   = x', /the key is empty/],
    ['a..b=1', /'a\.\.b' has an empty part/],
    ['.a=1', /empty part/],
    ['a.=1', /empty part/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(
      () => parseOverride(raw),
      (error: unknown) => error instanceof OverrideError && message.test(error.message),
      JSON.stringify(raw),
    );
  }
});

test('applyOverrides: later overrides win; scalars in the way become tables; arrays are replaced, not indexed', () => {
  const table = { a: 1, b: [1, 2], keep: { x: 1 } };
  const result = applyOverrides(table, ['a=2', 'a=3', 'a.deep=4', 'b.0=9', 'c.d.e=true', 'keep.y=2'].map(parseOverride));
  assert.deepEqual(result, { a: { deep: 4 }, b: { 0: 9 }, c: { d: { e: true } }, keep: { x: 1, y: 2 } });
  assert.deepEqual(table, { a: 1, b: [1, 2], keep: { x: 1 } }, 'the input table is untouched');
});

test('applyOverrides: names like __proto__ stay plain keys', () => {
  const result = applyOverrides({}, [parseOverride('__proto__.polluted=1'), parseOverride('constructor.prototype.polluted=1')]);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.deepEqual(Object.keys(result), ['__proto__', 'constructor']);
  assert.equal((Object.getOwnPropertyDescriptor(result, '__proto__')!.value as Record<string, unknown>)['polluted'], 1);
});

test('property: an override of a basic TOML string gives back exactly that string', () => {
  // Printable characters; JSON.stringify escapes are TOML escapes for these.
  const text = fc.string({ unit: fc.constantFrom(...Array.from('abcXYZ019 _-./:=#[]{}\'"\\é€😀\t')), maxLength: 30 });
  const key = fc.array(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(key, text, (path, value) => {
      const override = parseOverride(`${path.join('.')}=${JSON.stringify(value)}`);
      assert.deepEqual(override.path, path);
      assert.equal(override.value, value);
      let cursor: any = applyOverrides({}, [override]);
      for (const part of path) cursor = cursor[part];
      assert.equal(cursor, value);
    }),
    { numRuns: 300, seed: 11 },
  );
});

test('property: integers round-trip as numbers', () => {
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => {
      assert.equal(parseOverride(`n=${n}`).value, n);
    }),
    { numRuns: 200, seed: 12 },
  );
});
