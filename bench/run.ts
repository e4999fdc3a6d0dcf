/**
 * `npm run bench [-- --quick] [-- --only throughput,hol,...] [-- --nodes 20,22,24] [-- --readme]`:
 * ours against the original codex 0.25 (and the bare-Node floor), in the same run, alternating,
 * several rounds; medians and ratios. The startup and throughput suites run ours and the floor
 * under each Node of --nodes (default 20, 22 and 24; bench/lib/node-versions.ts installs the
 * ones missing), the other suites under this Node. Progress on stderr; the table on stdout and in bench/results/latest.{json,md};
 * `--readme` also puts the table in bench/README.md between the bench markers.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { benchAccountsChaos } from './suites/accounts-chaos.js';
import { benchFanout } from './suites/fanout.js';
import { benchHol } from './suites/hol.js';
import { benchLogin } from './suites/login.js';
import { benchMixedFleet } from './suites/mixed-fleet.js';
import { benchStartup } from './suites/startup.js';
import { benchThroughput } from './suites/throughput.js';
import { machine, machineState, markdownTable, progress, type Row } from './lib/report.js';
import { majorsFromArgs, nodeBinaries } from './lib/node-versions.js';

// The embedded issuer (oidc-provider) prints notices with console.info; stdout carries the table.
console.log = console.info = console.warn;

const SUITES = ['throughput', 'startup', 'hol', 'login', 'fanout', 'mixed-fleet', 'accounts-chaos'] as const;
const quick = process.argv.includes('--quick');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '').split(',') : undefined;
const unknown = only?.filter((name) => !(SUITES as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown suite(s) ${unknown.join(', ')}; known: ${SUITES.join(', ')}\n`);
  process.exit(2);
}

const majors = majorsFromArgs(process.argv);
// Installed first (when missing), so that no suite waits for npm between its rounds.
const nodes = only && !only.includes('startup') && !only.includes('throughput') ? [] : nodeBinaries(majors);
const settings = quick ? { rounds: 1, requests: 5_000, quick, nodes } : { rounds: 5, requests: 50_000, quick, nodes };
const suites: Record<(typeof SUITES)[number], () => Promise<Row[]>> = {
  throughput: () => benchThroughput(settings),
  startup: () => benchStartup(settings),
  hol: () => benchHol(settings),
  login: () => benchLogin(settings),
  fanout: () => benchFanout(settings),
  'mixed-fleet': () => benchMixedFleet(settings),
  'accounts-chaos': () => benchAccountsChaos(settings),
};

const info = machine();
const before = machineState();
const startedAt = Date.now();
progress(`machine: ${info.cpus} × ${info.model}, Node ${info.node}, ${info.platform}; load average ${before.loadavg.join(' ')}; ${settings.rounds} round(s)${quick ? ' (quick)' : ''}; startup and throughput under ${nodes.map((n) => n.label).join(', ') || '-'}`);
const rows: Row[] = [];
for (const name of SUITES) {
  if (only && !only.includes(name)) continue;
  progress(`${name}…`);
  rows.push(...(await suites[name]()));
}
const after = machineState();
const minutes = (Date.now() - startedAt) / 60_000;
const date = new Date().toISOString().slice(0, 10);
const table = markdownTable(rows);
const heading =
  `Measured ${date} on ${info.cpus} × ${info.model}, Node ${info.node} (startup and throughput: ${nodes.map((n) => n.label).join(', ') || '-'}, each beside the floor under the same Node), ${info.platform}: ${settings.rounds} round(s), medians; ` +
  `load average ${before.loadavg[0]} before, ${after.loadavg[0]} after; ${minutes.toFixed(1)} min.`;
process.stdout.write(`${heading}\n\n${table}\n`);
const results = fileURLToPath(new URL('../../bench/results/', import.meta.url));
await mkdir(results, { recursive: true });
await writeFile(`${results}latest.json`, `${JSON.stringify({ date, machine: info, nodes, before, after, minutes, settings: { ...settings, nodes: nodes.map((n) => n.label) }, rows }, null, 2)}\n`);
await writeFile(`${results}latest.md`, `${heading}\n\n${table}\n`);
progress(`written to ${results}latest.{json,md}`);

if (process.argv.includes('--readme')) {
  const readme = fileURLToPath(new URL('../../bench/README.md', import.meta.url));
  const text = await readFile(readme, 'utf8');
  const start = text.indexOf('<!-- bench:table:start -->');
  const end = text.indexOf('<!-- bench:table:end -->');
  if (start < 0 || end < start) {
    progress('bench/README.md has no <!-- bench:table:start/end --> markers; not updated');
  } else {
    const replaced = `${text.slice(0, start)}<!-- bench:table:start -->\n${heading}\n\n${table}\n${text.slice(end)}`;
    await writeFile(readme, replaced);
    progress('table written to bench/README.md');
  }
}
