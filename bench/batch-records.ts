/** The batches the benches send: groups as most clients fill them, groups with every field, benefits. */
import { benefit as benefitEntity, group as groupEntity, type Entity, type Field } from '../src/entities/index.js';
import { benefit, group } from '../test/support/records.js';

export type Kind = 'groups' | 'full groups' | 'benefits';
export const KINDS: readonly Kind[] = ['groups', 'full groups', 'benefits'];
export const ENTITY: Record<Kind, Entity> = { groups: groupEntity, 'full groups': groupEntity, benefits: benefitEntity };
export const PATH: Record<Kind, string> = { groups: 'groups', 'full groups': 'groups', benefits: 'benefits' };

/** A short value of the field's type within its limits: every client field set, as a full record. */
function sample(field: Field, index: number): unknown {
  switch (field.type) {
    case 'string':
      return `v${index}`.padEnd(Math.min(field.maxLength ?? 12, 12), 'x').slice(0, field.maxLength ?? 12);
    case 'boolean':
      return index % 2 === 0;
    case 'int32':
      return index;
    case 'double':
      return index + 0.5;
    case 'date-time':
      return '2025-06-30';
  }
}

/** Realistic records, some optional fields set; "full groups" have all 79 client fields. Keys fit benefit_Code's 10 characters: prefix ≤ 6. */
export function records(kind: Kind, count: number, prefix: string): Record<string, unknown>[] {
  if (prefix.length > 6) throw new Error(`key prefix ${prefix} too long`);
  const key = (index: number) => `${prefix}${index.toString(36).padStart(4, '0')}`;
  return Array.from({ length: count }, (_, index) => {
    if (kind === 'benefits') return benefit(key(index), { benefit_Category: 'BENCH', benefit_Description: `Benefit ${index}`, hipaA_Code: 'H1' });
    if (kind === 'groups') {
      return group(key(index), { name: `Group ${index}`, city: 'Springfield', state: 'IL', adult_Age: 26, caseRate: 1.5, disenroll_Date: '2025-12-31', phone: '555-0100', zip_Code: '62701' });
    }
    const record: Record<string, unknown> = {};
    for (const field of groupEntity.clientFields) record[field.name] = sample(field, index);
    record[groupEntity.key.name] = key(index);
    return record;
  });
}
