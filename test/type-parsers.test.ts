import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDateTime } from '../src/derive/dates.js';
import { typeParsers } from '../src/store/database.js';

test('timestamptz as PostgreSQL prints it in UTC reads exactly as parseDateTime reads it (the fast path and its fall-backs)', () => {
  const parse = typeParsers[1184]!;
  const printed = [
    '2025-06-30 00:00:00+00', '2025-06-30 12:34:56.7+00', '2025-06-30 12:34:56.789+00', '2025-06-30 12:34:56.789123+00',
    '0001-01-01 00:00:00+00', '0099-12-31 23:59:59.5+00', '9999-12-31 23:59:59.999999+00',
    '0044-03-15 00:00:00+00 BC', '12000-01-01 00:00:00+00', '2025-06-30 12:34:56+05:30', '2024-02-29 23:59:59.9999+00',
  ];
  for (const value of printed) assert.equal(parse(value), parseDateTime(value) ?? value, value);
  assert.equal(parse('2025-06-30 12:34:56.7+00'), '2025-06-30T12:34:56.700Z');
});
