/**
 * The Node versions the startup and throughput suites run ours and the floor under: the ones our
 * users run (issue "Start-up and memory on the Node our users run"), 20, 22 and 24 by default.
 * The machine's own Node serves its major; any other comes from the `node@<major>` npm package
 * (as .ci/run does for 24), installed once into node_modules/.cache/codex-auth-mcp-bench/ and
 * reused by later runs, so a fresh clone's `npm run bench` needs nothing installed by hand.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { progress } from './report.js';

export interface NodeBinary {
  /** `Node 22.23.3` */
  label: string;
  path: string;
}

export const DEFAULT_MAJORS = [20, 22, 24] as const;

const cacheDir = fileURLToPath(new URL('../../../node_modules/.cache/codex-auth-mcp-bench/', import.meta.url));

function versionOf(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
}

function binaryFor(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const prefix = `${cacheDir}node${major}`;
  const path = `${prefix}/node_modules/node/bin/node`;
  if (!existsSync(path)) {
    progress(`installing node@${major} (npm) into ${prefix}`);
    // The node package's install step fetches the binary for this platform (node-<os>-<arch>) from the same registry.
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node@${major}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return path;
}

/** The binaries for these majors, installed where missing; the machine's Node first if it is one of them. */
export function nodeBinaries(majors: readonly number[] = DEFAULT_MAJORS): NodeBinary[] {
  return majors.map((major) => {
    const path = binaryFor(major);
    return { label: `Node ${versionOf(path)}`, path };
  });
}

/** `--nodes 20,24` on the command line, else the defaults. */
export function majorsFromArgs(argv: readonly string[]): number[] {
  const index = argv.indexOf('--nodes');
  if (index < 0) return [...DEFAULT_MAJORS];
  const majors = (argv[index + 1] ?? '').split(',').map(Number);
  if (majors.length === 0 || majors.some((m) => !Number.isInteger(m) || m < 20)) throw new Error(`--nodes takes majors ≥ 20, comma-separated (got ${argv[index + 1]})`);
  return majors;
}
