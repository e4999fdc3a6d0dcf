/**
 * `cli_auth_credentials_store = "ephemeral"`: the credentials live in this process's memory only,
 * as in Codex 0.171. Nothing is written to CODEX_HOME (not even a lock file), and they end with
 * the process.
 *
 * Three threads read and write them (the main thread, the login worker, the token service), so
 * the memory is one SharedArrayBuffer made by the main thread and passed along in every task's
 * store options. Layout: a lock word, a version word bumped by every change, the text's length,
 * then the record as UTF-8 JSON.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { StoreOptions } from '../../protocol/storage.js';
import { DEFAULT_MAX_WAIT_MS, pollDelay, type LockOptions } from './locks.js';
import { fingerprintOf, parseStoredAuth, type AuthRecord, type StoredAuth } from './record.js';
import type { CredentialStore } from './credential-store.js';

const HEADER_BYTES = 12;
/** Room for the record: a ChatGPT record with its three JWTs is ~5–10 KB. */
const CAPACITY_BYTES = 256 * 1024;
const LOCK = 0;
const VERSION = 1;
const LENGTH = 2;
/** How often a watcher looks at the version word (one integer read). */
const WATCH_MS = 25;

export function createSharedMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + CAPACITY_BYTES);
}

/** The ephemeral backend: a CredentialStore over the memory `storeOptionsFor` made. */
export function memoryStore(options: StoreOptions): CredentialStore {
  if (!options.memory) throw new Error('ephemeral storage needs the shared memory from storeOptionsFor');
  const memory = new MemoryCredentials(options.memory);
  return {
    kind: 'memory',
    load: async () => memory.load(),
    save: async (record) => memory.save(record),
    delete: async () => memory.delete(),
    withLock: (fn, lockOptions) => memory.withLock(fn, lockOptions),
    watch: (onChange) => memory.watch(onChange),
  };
}

/** Plain text in shared memory of the same layout (ephemeral storage's inactive account sessions). */
export function sharedText(memory: SharedArrayBuffer): { read(): string | undefined; write(text: string): void } {
  const region = new MemoryCredentials(memory);
  return { read: () => region.readText(), write: (text) => region.writeText(text) };
}

class MemoryCredentials {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(memory: SharedArrayBuffer) {
    this.words = new Int32Array(memory, 0, HEADER_BYTES / 4);
    this.bytes = new Uint8Array(memory, HEADER_BYTES);
  }

  load(): StoredAuth {
    const text = this.readText();
    return text === undefined ? { kind: 'missing' } : parseStoredAuth(text, `memory:${fingerprintOf(text)}`);
  }

  save(record: AuthRecord): void {
    this.writeText(JSON.stringify(record));
  }

  readText(): string | undefined {
    const length = Atomics.load(this.words, LENGTH);
    return length === 0 ? undefined : Buffer.from(this.bytes.slice(0, length)).toString('utf8');
  }

  writeText(text: string): void {
    const encoded = Buffer.from(text, 'utf8');
    if (encoded.length > this.bytes.length) throw new Error(`the credential record (${encoded.length} bytes) does not fit in memory storage`);
    this.bytes.set(encoded);
    this.changed(encoded.length);
  }

  delete(): boolean {
    const had = Atomics.load(this.words, LENGTH) > 0;
    this.changed(0);
    return had;
  }

  /** Readers take no lock, so the length is published last, after the bytes. */
  private changed(length: number): void {
    Atomics.store(this.words, LENGTH, length);
    Atomics.add(this.words, VERSION, 1);
  }

  /** The same bounded wait as the file locks; a thread that died holding it makes others time out. */
  async withLock<T>(fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
    let got = false;
    for (let attempt = 0; !(got = Atomics.compareExchange(this.words, LOCK, 0, 1) === 0); attempt++) {
      if (Date.now() >= deadline) {
        if (options.onTimeout === 'proceed') break;
        throw Object.assign(new Error('the in-memory credentials are held by another thread'), { code: 'ELOCKED' });
      }
      await delay(pollDelay(attempt));
    }
    try {
      return await fn();
    } finally {
      if (got) Atomics.store(this.words, LOCK, 0);
    }
  }

  watch(onChange: () => void): () => void {
    let seen = Atomics.load(this.words, VERSION);
    const timer = setInterval(() => {
      const now = Atomics.load(this.words, VERSION);
      if (now === seen) return;
      seen = now;
      onChange();
    }, WATCH_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}
