/**
 * A TCP proxy in the test process that can "freeze": it stops forwarding bytes but keeps every
 * socket open and never answers a FIN — what a PostgreSQL that hangs (SIGSTOP, a network
 * partition) looks like to its clients. Cheaper and safer than stopping the shared server.
 *
 *   const proxy = await startFreezableProxy({ host: '127.0.0.1', port: 5432 });
 *   const url = proxy.rewrite(db.url);   // the same database, through the proxy
 *   proxy.freeze();
 *   await proxy.close();
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface FreezableProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  /** Stops forwarding in both directions, on open and on new connections; sockets stay open. */
  freeze(): void;
  /** Destroys every socket and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

export async function startFreezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  // allowHalfOpen: a client's FIN is not answered on its own (a frozen server never answers it).
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    track(client);
    if (frozen) return; // accepted, never served
    const upstream = createConnection({ ...target, allowHalfOpen: true });
    track(upstream);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on('end', () => {
        if (!frozen) to.end();
      });
      from.on('close', () => {
        if (!frozen) to.destroy();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    rewrite(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(address.port);
      return parsed.toString();
    },
    freeze() {
      frozen = true;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
