import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDateTime } from '../src/derive/dates.js';
import { benefit, benefitCategory, group, type Entity } from '../src/entities/index.js';
import { benefitCategoryFields, benefitFields, groupFields, type ContractField } from './support/contract-fields.js';

for (const [entity, contract] of [
  [benefit, benefitFields],
  [benefitCategory, benefitCategoryFields],
  [group, groupFields],
] as [Entity, ContractField[]][]) {
  test(`${entity.schemaName}: the record description matches the contract field for field (${contract.length})`, () => {
    assert.deepEqual(
      entity.fields.map(({ name, type, nullable, required, minLength, maxLength }) => ({ name, type, nullable, required, minLength, maxLength })),
      contract.map(({ name, type, nullable, required, minLength, maxLength }) => ({ name, type, nullable, required, minLength, maxLength })),
    );
    assert.equal(entity.key.name, contract[0]!.name);
  });
}

test('use_Employer_State is the one optional boolean, stored as false when omitted', () => {
  const records: readonly Entity[] = [benefit, benefitCategory, group];
  const optional = records.flatMap((entity) => entity.fields).filter((field) => field.defaultValue !== undefined);
  assert.deepEqual(optional.map((field) => [field.name, field.defaultValue]), [['use_Employer_State', false]]);
});

test('dates: the contract forms parse to ISO 8601 UTC; impossible dates do not', () => {
  assert.equal(parseDateTime('2024-01-02 03:04:05 UTC'), '2024-01-02T03:04:05.000Z');
  assert.equal(parseDateTime('2024-01-02 03:04:05 +0000'), '2024-01-02T03:04:05.000Z');
  assert.equal(parseDateTime('2024-01-02T03:04:05.9999+01:00'), '2024-01-02T02:04:05.999Z');
  assert.equal(parseDateTime('0099-12-31'), '0099-12-31T00:00:00.000Z', 'two-digit years are not shifted to 19xx');
  assert.equal(parseDateTime('2000-02-29'), '2000-02-29T00:00:00.000Z');
  for (const bad of ['1900-02-29', '2024-04-31', '2024-01-02T24:00:00Z', '2024-01-02T03:60Z', '2024-1-2', '2024-01-02T03:04:05+1', '0000-12-31', ' 2024-01-02', '2024-01-02\n']) {
    assert.equal(parseDateTime(bad), null, JSON.stringify(bad));
  }
});

test('rowsJson: validated rows with only client fields go as they are; audit and unknown fields never reach the statement', async () => {
  const { recordValidator, rowsJson } = await import('../src/derive/validate.js');
  const validate = recordValidator(benefitCategory);
  const clean = validate({ benefit_Category: 'A', description: 'x' });
  const forged = validate({ benefit_Category: 'B', entry_Date: 'not a date', surprise: { deep: [1] } });
  assert.ok(clean.ok && forged.ok);
  const filtered = (rows: object[]) => JSON.stringify(rows, benefitCategory.clientFieldNames as string[]);
  assert.equal(rowsJson(benefitCategory, [clean.row]), filtered([clean.row]));
  assert.equal(rowsJson(benefitCategory, [clean.row, forged.row]), filtered([clean.row, forged.row]));
  assert.doesNotMatch(rowsJson(benefitCategory, forged.row), /entry_Date|surprise/);
  // A row checked as one record type is filtered when written as another; one never checked, too.
  assert.equal(rowsJson(group, [clean.row]), '[{}]');
  assert.equal(rowsJson(benefitCategory, [{ benefit_Category: 'C', entry_User: 'forged' }]), '[{"benefit_Category":"C"}]');
});
