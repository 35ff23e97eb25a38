import { benefit } from './benefit.js';
import { benefitCategory } from './benefit-category.js';
import type { Entity } from './entity.js';
import { group } from './group.js';

export type { ClientRecord, Entity, RecordType } from './entity.js';
export type { Field, FieldType } from './field.js';
export { benefit, benefitCategory, group };

/** Every record the server knows, in dependency order (a referenced entity before its referrers). */
export const entities: readonly Entity[] = [benefitCategory, benefit, group];

/** Which records refer to each record (by name), computed once: a record with referrers may answer 409 on delete. */
const referrersByName: ReadonlyMap<string, readonly Entity[]> = new Map(
  entities.map((entity) => [entity.name, entities.filter((other) => other.references.some((field) => field.references === entity.name))]),
);
export const referrersOf = (entity: Entity): readonly Entity[] => referrersByName.get(entity.name) ?? [];

export function entityNamed(name: string): Entity {
  const found = entities.find((entity) => entity.name === name);
  if (!found) throw new Error(`unknown entity ${name}`);
  return found;
}
