import { createServer } from 'node:net';

/**
 * A port for a test's own server (a server process, a PostgreSQL cluster, PgBouncer), free when
 * asked. Chosen below Linux's ephemeral range (32768 and up by default), where the system picks
 * the local ports of outgoing connections: a port taken from there could be handed to a client
 * connection while the test's server is down for a moment (a cluster being restarted), and the
 * server could then not bind it again.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
