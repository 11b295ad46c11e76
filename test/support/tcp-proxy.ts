/**
 * A TCP forwarder in front of a real server, to play its outages: `refuse()` (nothing listens:
 * ECONNREFUSED, and open connections are cut), `freeze()` (connections are accepted, bytes go
 * nowhere and nothing answers: what a client sees of a frozen — SIGSTOPped — server or of a network
 * path that drops packets), `restore()` (forwarding again, on the same port). The bytes a freeze
 * swallowed are lost: a query sent on an open connection during it is never answered, even after
 * `restore()`, and connections opened during it are cut when it ends (their handshake never
 * completed), so only what the client itself gives up on is freed.
 *
 *   const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 *   try { … proxy.freeze() … } finally { await proxy.close(); }
 */
import net from 'node:net';

export interface TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  refuse(): Promise<void>;
  freeze(): void;
  restore(): Promise<void>;
  /** Stops listening and cuts every connection. Safe to call twice. */
  close(): Promise<void>;
}

type Mode = 'forward' | 'freeze' | 'refuse';

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: Mode = 'forward';
  const sockets = new Set<net.Socket>();
  const acceptedFrozen = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const server = net.createServer((client) => {
    track(client);
    if (mode === 'freeze') {
      acceptedFrozen.add(client);
      client.on('data', () => undefined); // swallowed: a frozen server answers nothing
      return;
    }
    const upstream = net.connect(target);
    track(upstream);
    // Bytes pass only while forwarding; in a freeze they are dropped in both directions.
    client.on('data', (chunk) => {
      if (mode === 'forward') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === 'forward') client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const cutAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };

  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  let closed = false;

  return {
    port,
    async refuse() {
      mode = 'refuse';
      cutAll();
      await stopListening();
    },
    freeze() {
      mode = 'freeze';
    },
    async restore() {
      mode = 'forward';
      for (const socket of acceptedFrozen) socket.destroy();
      acceptedFrozen.clear();
      if (!server.listening) await listen(port);
    },
    async close() {
      if (closed) return;
      closed = true;
      cutAll();
      await stopListening();
    },
  };
}
