import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, preparePostgres } from './support/backends.js';
import { signedIn, startApi, TENANT, type RunningApi } from './support/api.js';
import { benefit, category, group } from './support/records.js';
import { advisoryLockName } from '../src/resources/idempotency.js';
import { demoHeaders, startServer } from './support/server-process.js';

/** Issue 14's batch options: Idempotency-Key, validateOnly, allOrNone, Prefer: handling=strict, x-batch-summary. */
const statuses = (answer: { json: { data: { status: number }[] } }) => answer.json.data.map((entry) => entry.status);
const NOT_APPLIED = 'Not applied: another record of this request failed';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends) {
  describe(`batch options on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api?.stop());

    describe('Idempotency-Key', () => {
      test('a repeat with the same key and body replays the first answer byte for byte, and applies nothing again', async () => {
        const body = [group('IDEM-1'), group('IDEM-2', { name: 'first' })];
        const first = await api.put('/groups-batch', body, { 'idempotency-key': 'replay-1' });
        assert.equal(first.status, 207);
        assert.deepEqual(statuses(first), [201, 201]);
        assert.equal(first.headers['idempotent-replayed'], undefined);
        await api.put('/groups-batch', [group('IDEM-2', { name: 'changed since' })]);

        const again = await api.put('/groups-batch', body, { 'idempotency-key': 'replay-1' });
        assert.equal(again.status, 207);
        assert.equal(again.text, first.text, 'byte-identical body (the first activityID included)');
        assert.equal(again.headers['idempotent-replayed'], 'true');
        assert.equal(again.headers['x-batch-summary'], first.headers['x-batch-summary']);
        assert.equal((await api.get('/groups/IDEM-2')).json.data.name, 'changed since', 'the replay wrote nothing');

        const spaced = await api.request('PUT', '/groups-batch', { raw: JSON.stringify(body, null, 2), headers: { 'idempotency-key': 'replay-1' } });
        assert.equal(spaced.text, first.text, 'whitespace does not change the fingerprint');
      });

      test('the same key with another body, or other options, is a 422; nothing is applied', async () => {
        await api.put('/groups-batch', [group('MIS-1')], { 'idempotency-key': 'mismatch-1' });
        const other = await api.put('/groups-batch', [group('MIS-2')], { 'idempotency-key': 'mismatch-1' });
        assert.equal(other.status, 422);
        assert.match(other.json.error.detail, /already used with a different request/);
        assert.equal((await api.get('/groups/MIS-2')).status, 404);
        const otherOptions = await api.put('/groups-batch?allOrNone=true', [group('MIS-1')], { 'idempotency-key': 'mismatch-1' });
        assert.equal(otherOptions.status, 422);
        const otherEndpoint = await api.put('/benefit-categories-batch', [group('MIS-1')], { 'idempotency-key': 'mismatch-1' });
        assert.equal(otherEndpoint.status, 422);
      });

      test('keys belong to a client: another client using the same key gets its own answer', async () => {
        const other = await signedIn(api.store, 'other-client', TENANT);
        try {
          const mine = await api.put('/groups-batch', [group('SCOPE-1')], { 'idempotency-key': 'scoped' });
          const theirs = await other.put('/groups-batch', [group('SCOPE-1')], { 'idempotency-key': 'scoped' });
          assert.deepEqual(statuses(mine), [201]);
          assert.deepEqual(statuses(theirs), [200], 'processed, not replayed');
          assert.equal(theirs.headers['idempotent-replayed'], undefined);
        } finally {
          await other.app.close();
        }
      });

      test('a key of 255 characters is taken; 256, empty or non-ASCII is a 400', async () => {
        assert.equal((await api.put('/groups-batch', [group('LEN-OK')], { 'idempotency-key': 'k'.repeat(255) })).status, 207);
        const long = await api.put('/groups-batch', [group('LEN-NO')], { 'idempotency-key': 'k'.repeat(256) });
        assert.equal(long.status, 400);
        assert.match(long.json.error.detail, /Idempotency-Key must be 1-255 characters/);
        assert.equal((await api.put('/groups-batch', [group('LEN-NO')], { 'idempotency-key': '' })).status, 400);
        assert.equal((await api.get('/groups/LEN-NO')).status, 404);
      });

      test('while the first request is in flight, a second with its key is a 409 with Retry-After', async () => {
        // The first request is held up by a transaction that locks the key table, so it is certainly in flight.
        const tenant = (await api.store.tenant(TENANT))!;
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        const blocker = tenant.transaction(async (tx) => {
          await tx.query('LOCK TABLE idempotency_keys IN ACCESS EXCLUSIVE MODE');
          await held;
        });
        const body = [group('FLIGHT-1')];
        const first = api.put('/groups-batch', body, { 'idempotency-key': 'in-flight' });
        await sleep(300);
        const second = await api.put('/groups-batch', body, { 'idempotency-key': 'in-flight' });
        release();
        await blocker;
        assert.equal(second.status, 409);
        assert.match(second.json.error.detail, /still being processed/);
        assert.equal(second.headers['retry-after'], '1');
        assert.deepEqual(statuses(await first), [201]);
        const done = await api.put('/groups-batch', body, { 'idempotency-key': 'in-flight' });
        assert.equal(done.headers['idempotent-replayed'], 'true');
      });

      if (backend.name === 'postgres') {
        test('another instance holding the key (its transaction holds the advisory lock) makes this one answer 409', async () => {
          const tenant = (await api.store.tenant(TENANT))!;
          let release!: () => void;
          const held = new Promise<void>((resolve) => (release = resolve));
          let locked!: () => void;
          const isLocked = new Promise<void>((resolve) => (locked = resolve));
          const otherInstance = tenant.transaction(async (tx) => {
            await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [advisoryLockName('test-client', 'elsewhere')]);
            locked();
            await held;
          });
          await isLocked;
          try {
            const answer = await api.put('/groups-batch', [group('ELSEWHERE-1')], { 'idempotency-key': 'elsewhere' });
            assert.equal(answer.status, 409);
            assert.equal((await api.get('/groups/ELSEWHERE-1')).status, 404, 'nothing applied');
          } finally {
            release();
            await otherInstance;
          }
          assert.deepEqual(statuses(await api.put('/groups-batch', [group('ELSEWHERE-1')], { 'idempotency-key': 'elsewhere' })), [201]);
        });
      }

      test('after the configured lifetime a key is forgotten: the same key with a new body is processed', async () => {
        const shortLived = await signedIn(api.store, 'ttl-client', TENANT, { idempotencyTtlSeconds: 1 });
        try {
          const first = await shortLived.put('/groups-batch', [group('TTL-1')], { 'idempotency-key': 'short' });
          assert.equal(first.status, 207);
          assert.equal((await shortLived.put('/groups-batch', [group('TTL-2')], { 'idempotency-key': 'short' })).status, 422, 'still kept');
          await sleep(1500);
          const later = await shortLived.put('/groups-batch', [group('TTL-2')], { 'idempotency-key': 'short' });
          assert.equal(later.status, 207);
          assert.deepEqual(statuses(later), [201]);
          assert.equal(later.headers['idempotent-replayed'], undefined);
          const replay = await shortLived.put('/groups-batch', [group('TTL-2')], { 'idempotency-key': 'short' });
          assert.equal(replay.text, later.text, 'the new answer is the one kept now');
        } finally {
          await shortLived.app.close();
        }
      });
    });

    describe('validateOnly', () => {
      test('predicts exactly what a real run then answers, and stores nothing (its key included)', async () => {
        await api.put('/benefit-categories-batch', [category('VO-CAT')]);
        await api.put('/benefits-batch', [benefit('VO-OLD', { benefit_Category: 'VO-CAT', benefit_Description: 'before' })]);
        const body = () => [
          benefit('VO-NEW', { benefit_Category: 'VO-CAT' }),
          benefit('VO-OLD', { benefit_Category: 'VO-CAT', benefit_Description: 'after' }),
          benefit('VO-BAD', { medicare: 'toolong' }),
          benefit('VO-REF', { benefit_Category: 'VO-MISSING' }),
          benefit('VO-NEW', { benefit_Category: 'VO-CAT', benefit_Description: 'twice' }),
        ];
        const dry = await api.put('/benefits-batch?validateOnly=true', body(), { 'idempotency-key': 'dry-then-real' });
        assert.equal(dry.status, 207);
        assert.deepEqual(statuses(dry), [201, 200, 400, 422, 200]);
        assert.equal(dry.headers['x-batch-summary'], 'created=1; updated=2; invalid=1; unresolved=1; failed=0');
        assert.equal((await api.get('/benefits/VO-NEW')).status, 404);
        assert.equal((await api.get('/benefits/VO-OLD')).json.data.benefit_Description, 'before');

        const real = await api.put('/benefits-batch', body(), { 'idempotency-key': 'dry-then-real' });
        assert.equal(real.headers['idempotent-replayed'], undefined, 'the dry run did not keep the key');
        assert.deepEqual(real.json.data, dry.json.data);
        assert.equal(real.headers['x-batch-summary'], dry.headers['x-batch-summary']);
        assert.equal((await api.get('/benefits/VO-NEW')).json.data.benefit_Description, 'twice');
      });

      test('a flag that is not true or false is a 400', async () => {
        const answer = await api.put('/groups-batch?validateOnly=yes', [group('FLAG-1')]);
        assert.equal(answer.status, 400);
        assert.match(answer.json.error.detail, /validateOnly must be true or false/);
      });
    });

    describe('allOrNone', () => {
      test('one failing record: nothing applied, the others answer 424, the failing ones keep their status', async () => {
        const answer = await api.put('/benefits-batch?allOrNone=true', [
          benefit('AON-1'),
          benefit('AON-2', { medicare: 'toolong' }),
          benefit('AON-3', { benefit_Category: 'AON-MISSING' }),
          benefit('AON-4'),
        ]);
        assert.deepEqual(statuses(answer), [424, 400, 422, 424]);
        assert.equal(answer.json.data[0].body, NOT_APPLIED);
        assert.deepEqual(answer.json.data[0].id, [{ key: 'benefit_Code', value: 'AON-1' }]);
        assert.equal(answer.headers['x-batch-summary'], 'created=0; updated=0; invalid=1; unresolved=1; failed=2');
        assert.equal((await api.get('/benefits/AON-1')).status, 404);
        assert.equal((await api.get('/benefits/AON-4')).status, 404);
      });

      test('every record good: all applied; with a key, a failed all-or-none answer is kept and replayed', async () => {
        assert.deepEqual(statuses(await api.put('/benefits-batch?allOrNone=true', [benefit('AON-OK-1'), benefit('AON-OK-2')])), [201, 201]);
        const body = [benefit('AON-K-1'), benefit('AON-K-2', { medicare: 'toolong' })];
        const first = await api.put('/benefits-batch?allOrNone=true', body, { 'idempotency-key': 'aon-key' });
        assert.deepEqual(statuses(first), [424, 400]);
        const again = await api.put('/benefits-batch?allOrNone=true', body, { 'idempotency-key': 'aon-key' });
        assert.equal(again.text, first.text);
        assert.equal((await api.get('/benefits/AON-K-1')).status, 404);
      });
    });

    describe('Prefer: handling=strict', () => {
      test('an unknown field is a 400 naming it, answered with Preference-Applied; the default stays lenient', async () => {
        const strict = await api.put('/groups-batch', [group('STRICT-1', { grp_name: 'x' }), group('STRICT-2')], { prefer: 'respond-async, handling=strict' });
        assert.equal(strict.headers['preference-applied'], 'handling=strict');
        assert.deepEqual(statuses(strict), [400, 201]);
        assert.equal(strict.json.data[0].body, 'grp_name: unknown field');
        const both = await api.put('/groups-batch', [group('STRICT-3', { grp_name: 'x', adult_Age: 'x' })], { prefer: 'handling=strict' });
        assert.equal(both.json.data[0].body, 'grp_name: unknown field; adult_Age: must be an integer or null');
        const lenient = await api.put('/groups-batch', [group('STRICT-4', { grp_name: 'x' })]);
        assert.deepEqual(statuses(lenient), [201]);
        assert.equal(lenient.headers['preference-applied'], undefined);
      });
    });

    test('every batch answer carries x-batch-summary', async () => {
      await api.put('/groups-batch', [group('SUM-1')]);
      const answer = await api.put('/groups-batch', [group('SUM-1'), group('SUM-2'), group('SUM-3', { adult_Age: 'x' })]);
      assert.equal(answer.headers['x-batch-summary'], 'created=1; updated=1; invalid=1; unresolved=0; failed=0');
      const empty = await api.put('/groups-batch', []);
      assert.equal(empty.headers['x-batch-summary'], 'created=0; updated=0; invalid=0; unresolved=0; failed=0');
    });
  });

  describe(`Idempotency-Key across a crash on ${backend.name}`, { skip: backend.skip }, () => {
    test('the server killed mid-request: a retry with the same key answers what is stored, every record exactly once', async () => {
      const setup = backend.name === 'postgres' ? await preparePostgres() : await backend.prepare();
      try {
        let credentials: { key: string; password: string } | undefined;
        const RECORDS = 4000;
        for (const [attempt, killAfterMs] of [50, 400, 1200].entries()) {
          const server = await startServer(setup);
          const { headers, credentials: found } = await demoHeaders(server.base, credentials ?? server.stdout());
          credentials = found;
          const key = `crash-${attempt}`;
          const body = JSON.stringify(Array.from({ length: RECORDS }, (_, index) => group(`CRASH${attempt}-${index}`)));
          const pending = fetch(`${server.base}/groups-batch`, { method: 'PUT', headers: { ...headers, 'idempotency-key': key }, body }).then(
            async (response) => ({ status: response.status, text: await response.text() }),
            () => null,
          );
          await sleep(killAfterMs);
          server.child.kill('SIGKILL');
          await server.exited;
          const firstAnswer = await pending;

          const restarted = await startServer(setup);
          try {
            const { headers: again } = await demoHeaders(restarted.base, credentials);
            const retry = await fetch(`${restarted.base}/groups-batch`, { method: 'PUT', headers: { ...again, 'idempotency-key': key }, body });
            assert.equal(retry.status, 207);
            const text = await retry.text();
            const data = (JSON.parse(text) as { data: { status: number }[] }).data;
            // Created either by the first attempt (its stored answer is replayed) or by this one: never "Updated".
            assert.ok(data.every((entry) => entry.status === 201), `attempt ${attempt}: ${JSON.stringify(data.slice(0, 3))}`);
            if (firstAnswer) {
              assert.equal(retry.headers.get('idempotent-replayed'), 'true');
              assert.equal(text, firstAnswer.text);
            }
            const pagination = JSON.parse((await fetch(`${restarted.base}/groups?pageSize=1`, { headers: again })).headers.get('x-pagination')!) as { TotalCount: number };
            assert.equal(pagination.TotalCount, RECORDS * (attempt + 1), 'every record once');
          } finally {
            restarted.child.kill('SIGTERM');
            assert.equal(await restarted.exited, 0, `the restarted server's output:\n${restarted.stdout()}`);
          }
        }
      } finally {
        await setup.cleanup();
      }
    });
  });
}
