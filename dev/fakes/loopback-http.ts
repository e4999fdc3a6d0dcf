/** Loopback HTTP plumbing shared by the fake issuers and the 0.171 stubs: listen, read a header, read a body. */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Listens on 127.0.0.1:0; close() (once, however often called) also destroys every open socket. */
export async function listenLoopback(server: Server): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      (closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

export const firstHeader = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * A request body as text and as string fields: JSON when the content type says so, a form
 * otherwise (anything unparsable gives no fields). A body cut off mid-way gives empty text.
 */
export async function readRequestBody(req: IncomingMessage): Promise<{ text: string; contentType: string; fields: Record<string, string> }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    chunks.length = 0;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const contentType = firstHeader(req, 'content-type') ?? '';
  let parsed: unknown;
  try {
    parsed = contentType.includes('json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
  } catch {
    parsed = {};
  }
  const fields: Record<string, string> = {};
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') fields[key] = value;
  }
  return { text, contentType, fields };
}
