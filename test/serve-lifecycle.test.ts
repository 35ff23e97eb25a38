import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, get, type IncomingMessage } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { backends, type StoreSetup } from './support/backends.js';
import { maximalGroup } from './support/records.js';
import { demoHeaders, startServer, type ServerProcess } from './support/server-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a new connection to `port` is refused (the server stopped listening: its drain began). */
async function refused(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return false;
  } catch {
    return true;
  } finally {
    socket.destroy();
  }
}

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

    test('a list page still streaming when the drain begins is sent whole; its kept-alive connection then closes and the server exits 0', { timeout: 180_000 }, async () => {
      const setup = await backend.prepare();
      setups.push(setup);
      const server = await startServer(setup);
      servers.push(server);
      const { headers } = await demoHeaders(server.base, server.stdout());
      const body = JSON.stringify(Array.from({ length: 1000 }, (_, index) => maximalGroup(`DRAIN${index}`, index)));
      assert.equal((await fetch(`${server.base}/groups-batch`, { method: 'PUT', headers, body })).status, 207);
      // A keep-alive client that has the head of a large page and has not read its body yet: the
      // server is still writing it (its headers went out before the drain, without `connection: close`).
      const agent = new Agent({ keepAlive: true });
      try {
        const response = await new Promise<IncomingMessage>((resolve, reject) => {
          get(`${server.base}/groups?pageSize=1000`, { agent, headers }, resolve).on('error', reject);
        });
        assert.equal(response.statusCode, 200);
        response.pause();
        server.child.kill('SIGTERM');
        const port = Number(new URL(server.base).port);
        while (!(await refused(port))) await sleep(50);
        await sleep(300);
        assert.equal(server.child.exitCode, null, 'the drain waits for the page being sent');
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.resume();
        await once(response, 'end');
        assert.equal((JSON.parse(text) as { data: unknown[] }).data.length, 1000, 'the page arrived whole');
        // The agent keeps the connection open: the server closes it and exits well within its 30 s timeout.
        const code = await Promise.race([server.exited, sleep(20_000).then(() => 'still running 20 s after the page ended')]);
        assert.equal(code, 0, server.stdout());
      } finally {
        agent.destroy();
      }
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
