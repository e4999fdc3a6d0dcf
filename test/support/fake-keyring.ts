/**
 * Fake OS keyrings with the @napi-rs/keyring `AsyncEntry` API, loaded by the keyring helper
 * process in place of the real binding when the server runs with fakeKeyringEnv (fake-keyring-env.ts).
 *
 *  - FAKE_KEYRING=memory (default): a keyring that works; entries are files in FAKE_KEYRING_DIR,
 *    so a test can read and change them as another program would.
 *  - FAKE_KEYRING=hang: a locked secret service waiting for an unlock: each call blocks a libuv
 *    thread in a system call (opening a FIFO nobody writes to), as a stuck native call would.
 *  - FAKE_KEYRING=fail: every call fails, like a machine without a secret service.
 *  - FAKE_KEYRING_START_MS=n (any behaviour): loading the module takes n ms, a helper slow to start.
 *  - FAKE_KEYRING=flood: loading it writes 64 MiB to the helper's stdout with no newline and then
 *    blocks like `hang` (a broken binding printing without end).
 *
 * While a file `refuse-writes` exists in FAKE_KEYRING_DIR, a working keyring refuses to store
 * (reads still work), as a collection that was locked after the server read it.
 *
 * Every helper process that loads this module leaves its pid in FAKE_KEYRING_DIR/pids, so tests
 * can check that none is left behind; every call adds a line (the helper's pid) to
 * FAKE_KEYRING_DIR/calls once it is over (a hanging one as it begins), so tests can count calls
 * (a helper makes several).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const behaviour = process.env['FAKE_KEYRING'] ?? 'memory';
const dir = process.env['FAKE_KEYRING_DIR'] ?? '';

if (dir) {
  mkdirSync(join(dir, 'pids'), { recursive: true });
  writeFileSync(join(dir, 'pids', String(process.pid)), '');
}

/** The file that holds the entry for service + account (what `entryFile` names it, tests use too). */
export function entryFile(directory: string, service: string, account: string): string {
  return join(directory, `${service}-${account}`.replace(/[^\w.-]/g, '_'));
}

// FAKE_KEYRING_START_MS: loading the binding takes this long (a busy machine, a slow disk).
const startMs = Number(process.env['FAKE_KEYRING_START_MS'] ?? 0);
if (startMs > 0) await new Promise((loaded) => setTimeout(loaded, startMs));

if (behaviour === 'flood') {
  const chunk = 'x'.repeat(1024 * 1024);
  for (let i = 0; i < 64; i++) if (!process.stdout.write(chunk)) await new Promise((drained) => process.stdout.once('drain', drained));
}

async function act<T>(fn: () => T): Promise<T> {
  const counted = () => dir && appendFileSync(join(dir, 'calls'), `${process.pid}\n`);
  if (behaviour === 'hang' || behaviour === 'flood') {
    counted();
    await readFile(join(dir, 'hang.fifo'));
    throw new Error('unreachable');
  }
  try {
    if (behaviour === 'fail') throw new Error('Platform secure storage failure: no secret service provider or dbus session found');
    return fn();
  } finally {
    counted();
  }
}

export class AsyncEntry {
  private readonly file: string;
  constructor(service: string, account: string) {
    this.file = entryFile(dir, service, account);
  }
  getPassword(): Promise<string | null> {
    return act(() => (existsSync(this.file) ? readFileSync(this.file, 'utf8') : null));
  }
  setPassword(value: string): Promise<void> {
    return act(() => {
      if (existsSync(join(dir, 'refuse-writes'))) throw new Error('Cannot store the item: the collection is locked');
      writeFileSync(this.file, value);
    });
  }
  deletePassword(): Promise<boolean> {
    return act(() => {
      const existed = existsSync(this.file);
      rmSync(this.file, { force: true });
      return existed;
    });
  }
}
