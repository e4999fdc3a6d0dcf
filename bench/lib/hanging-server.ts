/**
 * A loopback TCP server that accepts connections and never answers: as an HTTPS_PROXY it makes a
 * CONNECT hang (the original's refresh), as an issuer URL it makes a POST hang (ours).
 */
import { createServer, type Socket, type AddressInfo } from 'node:net';

export interface HangingServer {
  port: number;
  /** Resolves when the first connection is accepted: the refresh is now hanging. */
  connected: Promise<void>;
  close(): Promise<void>;
}

export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  let onConnection!: () => void;
  const connected = new Promise<void>((resolve) => (onConnection = resolve));
  const server = createServer((socket) => {
    sockets.add(socket);
    onConnection();
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connected,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
