import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lengthMessage, recordValidator } from '../src/derive/validate.js';
import { entityNamed } from '../src/entities/index.js';
import { parseListQuery, sortByMessage } from '../src/resources/list-query.js';
import type { ApiError } from '../src/http/errors.js';
import { benefit, group } from './support/records.js';

/** Unit tests of the message builders: what a client reads when a value or a query is wrong. */

test('length messages: a range, exactly one length, at most, at least', () => {
  assert.equal(lengthMessage(1, 10), 'must be 1-10 characters');
  assert.equal(lengthMessage(1, 1), 'must be exactly 1 character');
  assert.equal(lengthMessage(3, 3), 'must be exactly 3 characters');
  assert.equal(lengthMessage(undefined, 20), 'must be at most 20 characters');
  assert.equal(lengthMessage(undefined, 1), 'must be at most 1 character');
  assert.equal(lengthMessage(2, undefined), 'must be at least 2 characters');
});

test('a one-character field says "exactly 1 character", not "1-1 characters"', () => {
  const result = recordValidator(entityNamed('benefit'))(benefit('OV', { medicare: 'NN' }));
  assert.deepEqual(result, { ok: false, errors: [{ field: 'medicare', message: 'must be exactly 1 character' }] });
});

test('sortBy messages: a wrong direction is not reported as an unknown field', () => {
  const groups = entityNamed('group');
  assert.equal(sortByMessage(groups, 'name:sideways', 'direction'), '"name:sideways": the direction must be asc or desc (name:asc or name:desc)');
  assert.equal(sortByMessage(groups, 'nom', 'field'), '"nom" is not a field of group (use name, name:asc or name:desc)');
  const problems = (sortBy: string) => {
    try {
      parseListQuery(groups, { sortBy });
      return [];
    } catch (error) {
      return (error as ApiError).errors?.map((entry) => entry.message) ?? [];
    }
  };
  assert.deepEqual(problems('name:sideways'), ['"name:sideways": the direction must be asc or desc (name:asc or name:desc)']);
  assert.deepEqual(problems('NAME : Desc'), []);
  assert.deepEqual(problems('name:asc:desc'), ['"name:asc:desc": the direction must be asc or desc (name:asc or name:desc)']);
  assert.deepEqual(problems('nom:desc'), ['"nom:desc" is not a field of group (use name, name:asc or name:desc)']);
});

test('a key with leading or trailing spaces is refused naming the key field, in every record type', () => {
  const cases = [
    ['group', group('  GRP00220  '), 'group_ID'],
    ['group', group('GRP0\t'), 'group_ID'],
    ['benefit', benefit(' OV'), 'benefit_Code'],
    ['benefitCategory', { benefit_Category: 'MEDICAL ' }, 'benefit_Category'],
  ] as const;
  for (const [name, record, keyField] of cases) {
    const result = recordValidator(entityNamed(name))(structuredClone(record));
    assert.deepEqual(result, { ok: false, errors: [{ field: keyField, message: 'must not start or end with a space' }] }, JSON.stringify(record));
  }
  // Inner spaces are part of a key; a key too long and padded is told about the padding first.
  assert.equal(recordValidator(entityNamed('group'))(group('GRP 0220')).ok, true);
  const padded = recordValidator(entityNamed('group'))(group(`  ${'G'.repeat(30)}  `));
  assert.deepEqual(padded.ok ? [] : padded.errors, [{ field: 'group_ID', message: 'must not start or end with a space' }]);
});
