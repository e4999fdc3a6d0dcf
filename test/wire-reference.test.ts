/** docs/wire-reference.md is generated from the wire table (dev/wire-reference.ts): it must say what the table says today. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Methods } from '../src/protocol/methods.js';
import { renderWireReference, WIRE_REFERENCE_PATH } from '../dev/wire-reference.js';

test('the committed wire reference is the one the method table generates (run `npm run docs:wire` after changing the table)', async () => {
  const generated = renderWireReference();
  for (const name of Object.keys(Methods)) assert.ok(generated.includes(`### \`${name}\``), `${name} is in the reference`);
  const committed = await readFile(WIRE_REFERENCE_PATH, 'utf8').catch(() => '(missing)');
  assert.ok(committed === generated, 'docs/wire-reference.md is stale: run `npm run docs:wire` and commit it');
});
