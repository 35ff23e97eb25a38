import { benefit } from './benefit.js';
import { benefitCategory } from './benefit-category.js';
import type { Entity } from './entity.js';
import { group } from './group.js';

export type { Entity } from './entity.js';
export type { Field, FieldType } from './field.js';
export { benefit, benefitCategory, group };

/** Every record the server knows, in dependency order (a referenced entity before its referrers). */
export const entities: readonly Entity[] = [benefitCategory, benefit, group];

export function entityNamed(name: string): Entity {
  const found = entities.find((entity) => entity.name === name);
  if (!found) throw new Error(`unknown entity ${name}`);
  return found;
}
