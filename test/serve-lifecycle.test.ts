import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { backends, type StoreSetup } from './support/backends.js';
import { demoHeaders, startServer, type ServerProcess } from './support/server-process.js';

/** `vbapi serve` starting and stopping (issue 11, review defects 4 and 6). */
for (const backend of backends) {
  describe(`vbapi serve on ${backend.name}`, { skip: backend.skip }, () => {
    const setups: StoreSetup[] = [];
    const servers: ServerProcess[] = [];
    after(async () => {
      for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await Promise.all(servers.map((server) => server.exited));
      for (const setup of setups) await setup.cleanup();
    });

    test('a first start that cannot listen shows no credentials and keeps none: the next start prints working ones', { timeout: 180_000 }, async () => {
      const setup = await backend.prepare();
      setups.push(setup);
      const busy: Server = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      try {
        const port = (busy.address() as { port: number }).port;
        await assert.rejects(startServer(setup, { PORT: String(port) }), (error: Error) => {
          assert.match(error.message, /EADDRINUSE/);
          assert.doesNotMatch(error.message, /password:|vba_/);
          return true;
        });
      } finally {
        busy.close();
      }
      const server = await startServer(setup);
      servers.push(server);
      assert.match(server.stdout(), /First run/);
      await demoHeaders(server.base, server.stdout()); // the printed key and password log in
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    });

    test('shutdown drains for at most VBAPI_SHUTDOWN_TIMEOUT_MS, then exits non-zero', { timeout: 180_000 }, async () => {
      const setup = await backend.prepare();
      setups.push(setup);
      const server = await startServer(setup, { VBAPI_SHUTDOWN_TIMEOUT_MS: '1000' });
      servers.push(server);
      const { headers } = await demoHeaders(server.base, server.stdout());
      // A batch whose body never finishes arriving: draining would wait for it (up to the request timeout, 2 min).
      const socket = connect(Number(new URL(server.base).port), '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      const head = Object.entries({ ...headers, host: '127.0.0.1', 'content-length': '100000' }).map(([name, value]) => `${name}: ${value}`);
      socket.write(`PUT /groups-batch HTTP/1.1\r\n${head.join('\r\n')}\r\n\r\n[{"group_ID": "SLOW"`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const stopped = Date.now();
      server.child.kill('SIGTERM');
      const code = await Promise.race([server.exited, new Promise((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000))]);
      socket.destroy();
      assert.equal(code, 1);
      assert.ok(Date.now() - stopped >= 900, 'it waited for the drain first');
      assert.match(server.stdout(), /shutdown did not finish in time/);
    });
  });
}
