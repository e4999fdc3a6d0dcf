/** The three contestants, spawned the same way: ours, the original codex 0.25, and the Node floor. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Contestant = 'ours' | 'original' | 'floor';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const OURS = fileURLToPath(new URL('../../bundle/main.js', import.meta.url));
export const ORIGINAL = `${root}node_modules/@openai/codex/bin/codex-x86_64-unknown-linux-musl`;
export const FLOOR = fileURLToPath(new URL('../floor-server.js', import.meta.url));
/** The floor of the `status` command (floor-status.ts). */
export const FLOOR_STATUS = fileURLToPath(new URL('../floor-status.js', import.meta.url));

export function spawnContestant(
  which: Contestant,
  codexHome: string,
  options: { args?: string[]; env?: Record<string, string>; /** The Node binary for ours and the floor (default: this one). */ node?: string } = {},
): ChildProcessWithoutNullStreams {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', CODEX_HOME: codexHome, RUST_LOG: 'error', ...options.env };
  const args = options.args ?? [];
  if (which === 'original') return spawn(ORIGINAL, ['mcp', ...args], { env });
  const node = options.node ?? process.execPath;
  if (which === 'floor') return spawn(node, [FLOOR], { env });
  return spawn(node, [OURS, 'mcp', ...args], { env });
}

/** Resident set size in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}
