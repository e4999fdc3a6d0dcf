/**
 * OS keyring calls, one at a time, in a process of their own (started and kept by
 * src/auth/store/keyring-helpers.ts: it reuses a helper that answered for the next call).
 *
 * Why a process and not a thread: a locked or absent secret service can block the native call
 * indefinitely, and a thread stuck in native code can be neither terminated nor left behind (Node
 * joins every worker thread at exit, so the whole server could never exit). A process can always
 * be killed. The native call runs on a libuv thread (AsyncEntry), so this process's main thread
 * stays free to notice that its parent has gone.
 *
 * Kept free of zod and of the rest of the server so that it starts fast; the parent validates
 * what it writes.
 */
import type { KeyringMessage, KeyringRequest } from '../../src/protocol/keyring.js';
import { secretServiceEntry } from './libsecret.js';

interface AsyncEntryApi {
  getPassword(): Promise<string | null | undefined>;
  setPassword(value: string): Promise<void>;
  deletePassword(): Promise<boolean | unknown>;
}
type Binding = { AsyncEntry: new (service: string, account: string, options?: object) => AsyncEntryApi };

// The parent holds our stdin open while it wants us: end of input means it is done with us,
// exited, was killed or gave up on us. Then leave at once, whatever native call is still stuck
// (a plain exit would wait for the libuv thread that holds it).
const vanish = () => process.kill(process.pid, 'SIGKILL');
process.stdin.on('end', vanish);
process.stdin.on('error', vanish);
// The same when our answer cannot be written (EPIPE: the parent closed its end, or died before
// reading "started"): unheard, that error would end the process the plain way, and that exit
// waits forever for the stuck libuv thread, leaving this process behind.
process.stdout.on('error', vanish);

// One request per line; the next is read once the last is answered (the parent sends none sooner).
let input = '';
let running = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  next();
});

function next(): void {
  const newline = input.indexOf('\n');
  if (newline < 0 || running) return;
  const line = input.slice(0, newline);
  input = input.slice(newline + 1);
  running = true;
  void run(JSON.parse(line) as KeyringRequest).then(() => {
    running = false;
    next();
  });
}

const send = (message: KeyringMessage, then?: () => void) => process.stdout.write(`${JSON.stringify(message)}\n`, then);

async function run(request: KeyringRequest): Promise<void> {
  let reply: KeyringMessage;
  try {
    // On Linux, the entry 0.171 writes (its attributes and label) through libsecret when the
    // machine has it (libsecret.ts); other systems use the binding.
    const native = process.platform === 'linux' ? secretServiceEntry(request.service, request.account) : undefined;
    if (native) {
      // libsecret's calls are synchronous: "started" must be out before one can block this thread.
      await new Promise<void>((written) => send({ started: true }, written));
      if (request.op === 'get') reply = { ok: true, value: native.get() };
      else if (request.op === 'set') {
        native.set(request.value ?? '');
        reply = { ok: true };
      } else reply = { ok: true, removed: native.remove() };
      await new Promise<void>((written) => send(reply, written));
      return;
    }
    // Always the binding by its package name (tests swap it with a module hook: test/support/fake-keyring-hooks.ts).
    const binding = (await import('@napi-rs/keyring')) as Binding;
    send({ started: true });
    // On Linux only the Secret Service keeps credentials across reboots, and it is what the
    // original uses; the binding's fallback to the kernel keyring would lose them silently, so
    // without a Secret Service the call fails instead (and `auto` says it fell back to a file).
    const entry = new binding.AsyncEntry(request.service, request.account, { linux: { store: 'secret-service' } });
    if (request.op === 'get') reply = { ok: true, value: (await entry.getPassword()) ?? null };
    else if (request.op === 'set') {
      await entry.setPassword(request.value ?? '');
      reply = { ok: true };
    } else reply = { ok: true, removed: (await entry.deletePassword()) === true };
  } catch (error) {
    // Native errors carry a backtrace after the first line; the first line is the reason.
    reply = { ok: false, message: String((error as Error)?.message ?? error).split('\n')[0]!.trim() || 'unknown keyring error' };
  }
  await new Promise<void>((written) => send(reply, written));
}
