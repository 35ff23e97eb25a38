import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApi, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { group } from './support/records.js';

/**
 * 16 clients send overlapping, shuffled batches of the same keys for a bounded time. No deadlock or
 * serialization error reaches a client; exactly one 201 per key; and the stored value of each key
 * is an acknowledged write that no other acknowledged write of that key certainly followed.
 */
const CLIENTS = 16;
const KEYS = 60;
const DURATION_MS = Number(process.env.CONCURRENCY_MS ?? 3000);

interface Write {
  readonly value: string;
  readonly started: number;
  readonly ended: number;
}

for (const backend of backends) {
  describe(`concurrent batches on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api?.stop());

    test(`${CLIENTS} clients, ${KEYS} shared keys, ${DURATION_MS} ms`, async () => {
      const keys = Array.from({ length: KEYS }, (_, index) => `CC-${index}`);
      const acknowledged = new Map<string, Write[]>(keys.map((key) => [key, []]));
      const created = new Map<string, number>();
      let requests = 0;
      const deadline = Date.now() + DURATION_MS;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let round = 0; Date.now() < deadline; round++) {
            // A random subset of the keys, shuffled, sometimes with a duplicate.
            const chosen = keys.filter(() => Math.random() < 0.5).sort(() => Math.random() - 0.5);
            if (Math.random() < 0.2 && chosen.length) chosen.push(chosen[0]!);
            const value = `c${client}r${round}`;
            const started = performance.now();
            const answer = await api.put('/groups-batch', chosen.map((key, position) => group(key, { name: `${value}p${position}` })));
            const ended = performance.now();
            requests++;
            assert.equal(answer.status, 207, answer.text);
            answer.json.data.forEach((entry: { status: number; id: { value: string }[] }, position: number) => {
              assert.ok(entry.status === 200 || entry.status === 201, JSON.stringify(entry));
              const key = entry.id[0]!.value;
              if (entry.status === 201) created.set(key, (created.get(key) ?? 0) + 1);
              acknowledged.get(key)!.push({ value: `${value}p${position}`, started, ended });
            });
          }
        }),
      );
      assert.ok(requests >= CLIENTS, `only ${requests} requests`);
      for (const key of keys) {
        const writes = acknowledged.get(key)!;
        if (writes.length === 0) continue;
        assert.equal(created.get(key), 1, `${key}: exactly one 201`);
        const stored = (await api.get(`/groups/${key}`)).json.data.name as string;
        const write = writes.find((candidate) => candidate.value === stored);
        assert.ok(write, `${key}: stored "${stored}" was never acknowledged`);
        const later = writes.find((other) => other.started > write.ended);
        assert.equal(later, undefined, `${key}: "${later?.value}" began after "${stored}" was acknowledged, yet "${stored}" is stored`);
      }
    });
  });
}
