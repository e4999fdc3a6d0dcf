/**
 * Fake OS keyrings with the @napi-rs/keyring `Entry` API, selected by the server through
 * CODEX_AUTH_MCP_KEYRING_MODULE. FAKE_KEYRING=hang blocks forever (a locked secret service),
 * FAKE_KEYRING=fail throws; otherwise entries live in FAKE_KEYRING_DIR as files (a keyring that works).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const behaviour = process.env['FAKE_KEYRING'] ?? 'memory';

function block(): never {
  // A synchronous native call that never returns: only this worker thread is stuck.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  throw new Error('unreachable');
}

export class Entry {
  private readonly file: string;
  constructor(service: string, account: string) {
    this.file = join(process.env['FAKE_KEYRING_DIR'] ?? '/tmp', `${service}-${account}`.replace(/[^\w.-]/g, '_'));
  }
  getPassword(): string | null {
    if (behaviour === 'hang') block();
    if (behaviour === 'fail') throw new Error('Platform secure storage failure: no secret service');
    return existsSync(this.file) ? readFileSync(this.file, 'utf8') : null;
  }
  setPassword(value: string): void {
    if (behaviour === 'hang') block();
    if (behaviour === 'fail') throw new Error('Platform secure storage failure: no secret service');
    writeFileSync(this.file, value);
  }
  deletePassword(): boolean {
    if (behaviour === 'hang') block();
    if (behaviour === 'fail') throw new Error('Platform secure storage failure: no secret service');
    const existed = existsSync(this.file);
    rmSync(this.file, { force: true });
    return existed;
  }
}
