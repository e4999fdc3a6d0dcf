/**
 * Whole-file advisory locks of the kind Codex takes on `auth.lock` and `auth.json.lock`: BSD
 * `flock(2)` on Unix and `LockFileEx` over the whole range on Windows, which is what Rust's
 * `File::lock` / `File::try_lock` use. Node has neither, so they are called through koffi (an FFI
 * with prebuilt binaries for every platform we ship to). fcntl/OFD record locks would not do:
 * on Linux they never conflict with flock, so Codex would not see them.
 *
 * A lock belongs to one open file description: two opens in one process (the main thread and the
 * token-service thread) exclude each other as two processes do, and the kernel drops a lock when
 * its holder dies, so there are no stale locks to guess about. Only non-blocking attempts are
 * made; callers poll (locks.ts), which keeps every wait bounded and never parks a thread in native
 * code. Runs on every thread that takes Codex's locks: main, login worker, token service.
 */
import { closeSync, fstatSync, openSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import type KoffiModule from 'koffi';
import type { LibraryHandle } from 'koffi';

type Koffi = typeof KoffiModule;

export interface HeldFile {
  /** Takes the exclusive lock if it is free; false if another description holds it. */
  tryLock(): boolean;
  /** Closes the file, which releases the lock. */
  close(): void;
}

type Platform = { open(path: string, mode: number): HeldFile };

let platform: Platform | undefined;

/** Opens (creating, with `mode`) a lock file. Loaded on first use: most runs of the server never lock. */
export async function openLockFile(path: string, mode: number): Promise<HeldFile> {
  platform ??= await loadPlatform();
  return platform.open(path, mode);
}

// require, not import(): a module whose load failed (EMFILE while reading it, say) stays failed
// in the ESM cache for the life of the process, so one bad moment would disable locking, and with
// it every sign-in, until a restart. A failed require is forgotten and the next call tries again.
const require = createRequire(import.meta.url);

async function loadPlatform(): Promise<Platform> {
  const koffi = require('koffi') as Koffi;
  return process.platform === 'win32' ? windows(koffi) : unix(koffi);
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = new Set([11, 35]); // Linux EAGAIN; BSD/macOS EWOULDBLOCK
const EINTR = 4;

function unix(koffi: Koffi): Platform {
  const libc = loadFirst(koffi, process.platform === 'darwin' ? ['libc.dylib', '/usr/lib/libSystem.B.dylib'] : ['libc.so.6', 'libc.so.7', 'libc.so']);
  const flock = libc.func('int flock(int fd, int operation)');
  return {
    open(path, mode) {
      // No-follow: a link planted where a lock file goes must not make us create or lock its target.
      // Non-blocking, and then only a regular file: a FIFO there must not park this thread.
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREGULAR' });
      }
      return {
        tryLock() {
          for (;;) {
            if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
            const errno = koffi.errno();
            if (EWOULDBLOCK.has(errno)) return false;
            if (errno !== EINTR) throw Object.assign(new Error(`flock failed on ${path} (errno ${errno})`), { code: 'ELOCKFAILED' });
          }
        },
        close: () => closeSync(fd),
      };
    },
  };
}

function windows(koffi: Koffi): Platform {
  const kernel32 = koffi.load('kernel32.dll');
  // Registered by name: the LockFileEx prototype below refers to it as `OVERLAPPED *`.
  koffi.struct('OVERLAPPED', { Internal: 'uintptr_t', InternalHigh: 'uintptr_t', Offset: 'uint32_t', OffsetHigh: 'uint32_t', hEvent: 'void *' });
  const CreateFileW = kernel32.func('void * __stdcall CreateFileW(str16 name, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, void *template)');
  const LockFileEx = kernel32.func('int __stdcall LockFileEx(void *file, uint32_t flags, uint32_t reserved, uint32_t low, uint32_t high, _Inout_ OVERLAPPED *overlapped)');
  const CloseHandle = kernel32.func('int __stdcall CloseHandle(void *handle)');
  const GetLastError = kernel32.func('uint32_t __stdcall GetLastError()');
  const GENERIC_READ_WRITE = 0x80000000 | 0x40000000;
  const SHARE_ALL = 0x1 | 0x2 | 0x4; // as Rust's File::open: others may read, write and delete
  const OPEN_ALWAYS = 4;
  const LOCKFILE_EXCLUSIVE = 0x2;
  const LOCKFILE_FAIL_IMMEDIATELY = 0x1;
  const ERROR_LOCK_VIOLATION = 33;
  const ERROR_IO_PENDING = 997;
  return {
    open(path) {
      const handle = CreateFileW(path, GENERIC_READ_WRITE, SHARE_ALL, null, OPEN_ALWAYS, 0x80, null);
      if (handle === null || koffi.address(handle) === BigInt('0xffffffffffffffff')) {
        throw Object.assign(new Error(`cannot open ${path} (Windows error ${GetLastError()})`), { code: 'ELOCKFAILED' });
      }
      return {
        tryLock() {
          const overlapped = { Internal: 0, InternalHigh: 0, Offset: 0, OffsetHigh: 0, hEvent: null };
          // The whole range, as Rust's File::try_lock locks it, so the two always overlap.
          if (LockFileEx(handle, LOCKFILE_EXCLUSIVE | LOCKFILE_FAIL_IMMEDIATELY, 0, 0xffffffff, 0xffffffff, overlapped)) return true;
          const error = GetLastError();
          if (error === ERROR_LOCK_VIOLATION || error === ERROR_IO_PENDING) return false;
          throw Object.assign(new Error(`LockFileEx failed on ${path} (Windows error ${error})`), { code: 'ELOCKFAILED' });
        },
        close: () => void CloseHandle(handle),
      };
    },
  };
}

function loadFirst(koffi: Koffi, names: string[]): LibraryHandle {
  let last: unknown;
  for (const name of names) {
    try {
      return koffi.load(name);
    } catch (error) {
      last = error;
    }
  }
  throw last;
}
