/**
 * A login worker that dies the way a buggy one would: its "callback server" throws out of the
 * request handler, an uncaught exception that ends the thread. Used to check that the login
 * engine still ends every login exactly once when its worker is gone.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

Comlink.expose(
  {
    async startBrowserLogin() {
      const server = createServer(() => {
        throw new Error('boom');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      return { ok: true, authUrl: `http://127.0.0.1:${port}/crash`, port };
    },
    async cancel() {
      return false;
    },
    async stop() {},
  },
  nodeEndpoint(parentPort!),
);
