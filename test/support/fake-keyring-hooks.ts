/**
 * Preloaded (NODE_OPTIONS=--import=…, see fake-keyring-env.ts) into the server and every process
 * it starts: in the keyring helper process (workers/keyring/main.ts, the only one that loads the
 * binding) it makes `import('@napi-rs/keyring')` load the fake (fake-keyring.ts) through Node's
 * module customization hooks. Elsewhere it does nothing (a hooks thread costs each process ~0.1
 * CPU-s). The product has no hook of its own for this: what ships never imports a module named
 * by the environment.
 */
import Module, { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && /[/\\]keyring(?:[/\\]main)?\.js$/.test(process.argv[1] ?? '')) {
  register('./fake-keyring-resolve.js', import.meta.url);
  // On Linux the helper talks to libsecret through koffi first (workers/keyring/libsecret.ts);
  // without koffi it takes the binding, which is the fake. (require() does not go through the
  // resolve hook on Node 20, so koffi is refused here.)
  const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
  const load = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    if (request === 'koffi') throw new Error('the fake keyring stands in for libsecret');
    return load.call(this, request, ...rest);
  };
}
