import { readFileSync } from 'node:fs';

/**
 * Whether `pid` is a live process: not gone, and not a zombie. An orphan's exit is reaped by
 * whatever adopted it, which may take a while (a container's init): until then `kill(pid, 0)`
 * still succeeds, though nothing runs.
 */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
