import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, preparePostgres } from './support/backends.js';
import { group } from './support/records.js';
import { demoHeaders, startServer } from './support/server-process.js';

/**
 * The server is killed with SIGKILL while batches are in flight, then restarted on the same store:
 * every acknowledged record is there, no unanswered request left part of its batch applied, and the
 * embedded store opens cleanly. SIGTERM, instead, lets the request in flight finish.
 */
const SENDERS = 6;
const PER_REQUEST = 150;

for (const backend of backends) {
  describe(`crashes on ${backend.name}`, { skip: backend.skip }, () => {
    test('SIGKILL mid-batch: acknowledged batches survive whole, unanswered ones are all or nothing', async () => {
      const setup = backend.name === 'postgres' ? await preparePostgres() : await backend.prepare();
      try {
        const first = await startServer(setup);
        const { headers, credentials } = await demoHeaders(first.base, first.stdout());
        const sent: string[] = [];
        const acknowledged = new Set<string>();
        let killed = false;
        const senders = Array.from({ length: SENDERS }, async (_, sender) => {
          for (let round = 0; !killed; round++) {
            const id = `R${sender}-${round}`;
            sent.push(id);
            const body = JSON.stringify(Array.from({ length: PER_REQUEST }, (_, index) => group(`${id}-${index}`, { name: id })));
            try {
              const response = await fetch(`${first.base}/groups-batch`, { method: 'PUT', headers, body });
              const answer = (await response.json()) as { data: { status: number }[] };
              if (response.status === 207 && answer.data.every((entry) => entry.status === 201)) acknowledged.add(id);
            } catch {
              return; // the connection died with the server
            }
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 1500));
        killed = true;
        first.child.kill('SIGKILL');
        await first.exited;
        await Promise.all(senders);
        assert.ok(acknowledged.size >= SENDERS, `only ${acknowledged.size} batches were acknowledged before the kill`);

        const second = await startServer(setup); // PGlite: opens the killed server's data directory
        try {
          const { headers: again } = await demoHeaders(second.base, credentials);
          const counts = new Map<string, number>();
          for (let page = 1; ; page++) {
            const response = await fetch(`${second.base}/groups?pageSize=1000&page=${page}`, { headers: again });
            assert.equal(response.status, 200);
            const { data } = (await response.json()) as { data: { name: string }[] };
            for (const record of data) counts.set(record.name, (counts.get(record.name) ?? 0) + 1);
            if (data.length < 1000) break;
          }
          for (const id of sent) {
            const count = counts.get(id) ?? 0;
            assert.ok(count === 0 || count === PER_REQUEST, `${id}: ${count} of ${PER_REQUEST} records applied`);
            if (acknowledged.has(id)) assert.equal(count, PER_REQUEST, `${id} was acknowledged but is not all there`);
          }
        } finally {
          second.child.kill('SIGTERM');
          assert.equal(await second.exited, 0);
        }
      } finally {
        await setup.cleanup();
      }
    });

    test('SIGTERM drains: the batch in flight is answered and applied, then the process exits 0', async () => {
      const setup = backend.name === 'postgres' ? await preparePostgres() : await backend.prepare();
      try {
        const server = await startServer(setup);
        const { headers } = await demoHeaders(server.base, server.stdout());
        const body = JSON.stringify(Array.from({ length: 5000 }, (_, index) => group(`DRAIN-${index}`)));
        const pending = fetch(`${server.base}/groups-batch`, { method: 'PUT', headers, body });
        await new Promise((resolve) => setTimeout(resolve, 50));
        server.child.kill('SIGTERM');
        const response = await pending;
        const answer = (await response.json()) as { data: { status: number }[] };
        assert.equal(response.status, 207);
        assert.ok(answer.data.every((entry) => entry.status === 201));
        assert.equal(await server.exited, 0, server.stdout());
        await assert.rejects(fetch(`${server.base}/healthz`), 'no longer listening');
      } finally {
        await setup.cleanup();
      }
    });
  });
}
