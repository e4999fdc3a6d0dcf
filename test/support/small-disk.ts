/**
 * A small tmpfs for full-disk tests, unmounted and removed when the test ends. Mounting needs
 * root, which CI and this project's dev machines run as; without it the test fails, not skips.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function smallDisk(t: { after(fn: () => unknown): void }, size = '256k'): { path: string; fill(): void; free(): void } {
  const path = mkdtempSync(join(tmpdir(), 'codex-auth-mcp-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', path]);
  t.after(() => {
    execFileSync('umount', ['-l', path]);
    rmSync(path, { recursive: true, force: true });
  });
  const filler = join(path, 'filler');
  return {
    path,
    /** Fills the filesystem to its last byte. */
    fill: () => fillUp(filler),
    free: () => rmSync(filler, { force: true }),
  };
}

/** Appends to `file` until the filesystem has not one byte left. */
export function fillUp(file: string): void {
  for (const chunk of [Buffer.alloc(4096), Buffer.alloc(1)]) {
    for (;;) {
      try {
        appendFileSync(file, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
  }
}
