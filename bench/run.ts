/**
 * `npm run bench [-- --quick] [-- --only throughput,hol,...]`: ours against the original codex
 * 0.25 (and the bare-Node floor), in the same run, alternating, several rounds; medians and
 * ratios. Progress on stderr; the table on stdout and in bench/results/latest.{json,md}.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { benchFanout } from './suites/fanout.js';
import { benchHol } from './suites/hol.js';
import { benchLogin } from './suites/login.js';
import { benchStartup } from './suites/startup.js';
import { benchThroughput } from './suites/throughput.js';
import { machine, markdownTable, progress, type Row } from './lib/report.js';

const quick = process.argv.includes('--quick');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1]!.split(',') : undefined;
const wanted = (name: string) => !only || only.includes(name);

const settings = quick ? { rounds: 1, requests: 5_000 } : { rounds: 3, requests: 50_000 };
const suites: [string, () => Promise<Row[]>][] = [
  ['throughput', () => benchThroughput(settings)],
  ['startup', () => benchStartup(settings)],
  ['hol', () => benchHol(settings)],
  ['login', () => benchLogin(settings)],
  ['fanout', () => benchFanout(settings)],
];

const info = machine();
progress(`machine: ${info.cpus} × ${info.model}, Node ${info.node}, ${info.platform}; ${settings.rounds} round(s)`);
const rows: Row[] = [];
for (const [name, run] of suites) {
  if (!wanted(name)) continue;
  progress(`${name}…`);
  rows.push(...(await run()));
}
const date = new Date().toISOString().slice(0, 10);
const table = markdownTable(rows);
const heading = `Measured ${date} on ${info.cpus} × ${info.model}, Node ${info.node} (${settings.rounds} round(s), medians).`;
process.stdout.write(`${heading}\n\n${table}\n`);
const results = fileURLToPath(new URL('../../bench/results/', import.meta.url));
await mkdir(results, { recursive: true });
await writeFile(`${results}latest.json`, JSON.stringify({ date, machine: info, settings, rows }, null, 2));
await writeFile(`${results}latest.md`, `${heading}\n\n${table}\n`);
progress(`written to ${results}latest.{json,md}`);
