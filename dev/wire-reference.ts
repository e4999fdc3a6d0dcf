/**
 * Generates docs/wire-reference.md from the wire table (src/protocol/methods.ts): every method
 * with its eras, its place in the request order, its caching hint and the JSON Schemas of its
 * params and result; every notification; every request the server sends. Run it after changing
 * the table: `npm run docs:wire` (test/wire-reference.test.ts fails while the committed file is
 * stale). Dev-only: nothing here ships.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from '../src/protocol/zod.js';
import { BY_TOOL, Methods, Notifications, ServerRequests, type Access, type MethodName, type ServerMethodEntry } from '../src/protocol/methods.js';

export const WIRE_REFERENCE_PATH = fileURLToPath(new URL('../../docs/wire-reference.md', import.meta.url));

const ERAS = { legacy: 'initialize era and codex clients only', modern: '2026-07-28 only', both: 'both' } as const;

function schema(type: z.ZodMiniType, io: 'input' | 'output'): string {
  const { $schema: _ignored, ...json } = z.toJSONSchema(type, { unrepresentable: 'any', io }) as Record<string, unknown>;
  return `\`\`\`json\n${JSON.stringify(json, null, 2)}\n\`\`\``;
}

const describeAccess = (access: Access | undefined) => {
  if (!access) return 'runs at once (touches no ordered state)';
  const parts = [access.reads && `reads ${access.reads.join(', ')}`, access.writes && `writes ${access.writes.join(', ')}`].filter(Boolean);
  return `${parts.join('; ')}${access.holdsLater === false ? ' (later requests do not wait for it)' : ''}`;
};

function order(entry: ServerMethodEntry): string {
  if (entry.access === BY_TOOL) return "the tool's own (each tool says what it reads or writes)";
  if (typeof entry.access === 'function') return entry.access.description;
  return describeAccess(entry.access);
}

const cache = (entry: ServerMethodEntry) => (entry.cache ? `ttlMs ${entry.cache.ttlMs}, cacheScope ${entry.cache.cacheScope}` : 'not cacheable');

export function renderWireReference(): string {
  const names = Object.keys(Methods) as MethodName[];
  const out: string[] = [
    '# Wire reference',
    '',
    '<!-- Generated from src/protocol/methods.ts by dev/wire-reference.ts (`npm run docs:wire`); do not edit by hand. test/wire-reference.test.ts fails when this file is stale. -->',
    '',
    'Every JSON-RPC method this server answers, every notification it sends and every request it sends, as listed in the wire table',
    '(`src/protocol/methods.ts`). **Eras**: which MCP eras serve the method (a 2026-07-28 request names its protocol version in `params._meta`;',
    'a request without one is an initialize-era or codex request). **Order**: what the request reads or changes, so that one client\'s answers',
    'fit the order of its requests ("auth": the credentials in force; "login": the pending sign-in). **Cache**: the hint a 2026-07-28 result',
    'carries (SEP-2549). **v2 events**: calling it subscribes the client to `account/*` notifications.',
    '',
    '| method | eras | order | cache (2026-07-28) | v2 events |',
    '|---|---|---|---|---|',
    ...names.map((name) => {
      const entry: ServerMethodEntry = Methods[name];
      return `| [\`${name}\`](#${anchor(name)}) | ${ERAS[entry.eras]} | ${order(entry)} | ${cache(entry)} | ${entry.opensAccountEvents ? 'yes' : ''} |`;
    }),
    '',
    '## Methods',
  ];
  for (const name of names) {
    const entry: ServerMethodEntry = Methods[name];
    out.push('', `### \`${name}\``, '', `Eras: ${ERAS[entry.eras]}. Order: ${order(entry)}. Cache: ${cache(entry)}.`, '', 'Params:', '', schema(entry.params, 'input'), '', 'Result:', '', schema(entry.result, 'output'));
  }
  out.push('', '## Notifications (server → client)');
  for (const [name, params] of Object.entries(Notifications)) out.push('', `### \`${name}\``, '', 'Params:', '', schema(params, 'output'));
  out.push('', '## Requests (server → client)', '', 'Sent only to an initialize-era client (the 2026-07-28 revision has no server requests on stdio).');
  for (const [name, entry] of Object.entries(ServerRequests)) out.push('', `### \`${name}\``, '', 'Params:', '', schema(entry.params, 'output'), '', 'Result:', '', schema(entry.result, 'input'));
  return `${out.join('\n')}\n`;
}

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped. */
const anchor = (name: string) => name.toLowerCase().replace(/[^a-z0-9_ -]/g, '').replace(/ /g, '-');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(WIRE_REFERENCE_PATH, renderWireReference());
  process.stdout.write(`wrote ${WIRE_REFERENCE_PATH}\n`);
}
