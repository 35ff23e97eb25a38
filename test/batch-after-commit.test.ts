import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { benefitCategory } from '../src/entities/index.js';
import { batchUpserter } from '../src/resources/batch.js';
import type { Database } from '../src/store/database.js';
import type { Store } from '../src/store/store.js';
import { backends, openStore, quietLogger, type StoreSetup } from './support/backends.js';
import { category } from './support/records.js';

for (const backend of backends) {
  describe(`a batch whose transaction committed, on ${backend.name}`, { skip: backend.skip }, () => {
    let setup: StoreSetup;
    let store: Store;
    before(async () => {
      setup = await backend.prepare();
      store = await openStore(setup);
      await store.createDatabase('after-commit');
    });
    after(async () => {
      await store?.close();
      await setup?.cleanup();
    });

    test('is never answered "Not applied", whatever fails after the commit', async () => {
      const db = (await store.tenant('after-commit'))!;
      // The transaction is the real one; the work after the commit (the statistics refresh a large
      // batch triggers) meets a database call that throws at once.
      const failingAfterCommit: Database = {
        ...db,
        query: () => {
          throw new Error('failure after the commit');
        },
      };
      const records = Array.from({ length: 1000 }, (_, index) => category(`AFTER${index}`));
      const answers = await batchUpserter(benefitCategory)(failingAfterCommit, records, { user: 'tester', activityID: 'test', log: quietLogger });
      assert.deepEqual(new Set(answers.map((answer) => `${answer.status} ${answer.body}`)), new Set(['201 Created']));
      assert.deepEqual(await db.query('SELECT count(*) AS n FROM benefit_categories'), [{ n: 1000 }]);
    });
  });
}
