/**
 * Runs one OS keyring call in its own short-lived thread. Keyring bindings are synchronous and a
 * locked or absent secret service can block them indefinitely; here that blocks only this thread,
 * which the caller abandons after its timeout.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KeyringCall } from '../src/auth/keyring-store.js';

const call = workerData as KeyringCall;
try {
  // A test can point this at a fake keyring (one that hangs or fails) with the same API.
  const binding = (await import(call.module ?? '@napi-rs/keyring')) as { Entry: new (service: string, account: string) => KeyringEntry };
  const entry = new binding.Entry(call.service, call.account);
  if (call.op === 'get') parentPort!.postMessage({ ok: true, value: entry.getPassword() ?? null });
  else if (call.op === 'set') {
    entry.setPassword(call.value!);
    parentPort!.postMessage({ ok: true, value: null });
  } else parentPort!.postMessage({ ok: true, value: entry.deletePassword() ? 'deleted' : null });
} catch (error) {
  parentPort!.postMessage({ ok: false, message: (error as Error).message ?? String(error) });
}

interface KeyringEntry {
  getPassword(): string | null | undefined;
  setPassword(value: string): void;
  deletePassword(): boolean;
}
