import type { SortKey } from '../derive/sql.js';
import { describeErrors, isStorableText, type FieldError } from '../derive/validate.js';
import type { Entity, Field } from '../entities/index.js';
import { badRequest } from '../http/errors.js';

export interface ListQuery {
  readonly page: number;
  readonly pageSize: number;
  readonly order: readonly SortKey[];
  readonly filters: readonly (readonly [Field, string])[];
}

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;
/** Beyond any real table; the bound keeps `(page - 1) * pageSize` an exact integer. */
export const MAX_PAGE = 100_000_000;

/**
 * `page`, `pageSize`, `sortBy` and the entity's filters, checked. `sortBy` fields are matched
 * case-insensitively against the record's own field list: that lookup is the allow-list through
 * which a sort reaches SQL. Unknown parameters are ignored, like unknown body fields.
 */
export function parseListQuery(entity: Entity, query: Record<string, unknown>): ListQuery {
  const errors: FieldError[] = [];
  const single = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined || typeof value === 'string') return value;
    errors.push({ field: name, message: 'must be given once' });
    return undefined;
  };
  const integer = (name: string, fallback: number, max: number): number => {
    const raw = single(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d{1,9}$/.test(raw) || value < 1 || value > max) {
      errors.push({ field: name, message: `must be an integer from 1 to ${max}` });
    }
    return value;
  };
  const page = integer('page', 1, MAX_PAGE);
  const pageSize = integer('pageSize', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const order = parseSortBy(entity, single('sortBy'), errors);
  const filters: [Field, string][] = [];
  for (const [parameter, fieldName] of Object.entries(entity.filters ?? {})) {
    const value = single(parameter);
    if (value === undefined) continue;
    if (!isStorableText(value)) errors.push({ field: parameter, message: 'must be text without NUL characters' });
    else filters.push([entity.fields.find((field) => field.name === fieldName)!, value]);
  }
  if (errors.length) throw badRequest(describeErrors(errors), errors);
  return { page, pageSize, order, filters };
}

function parseSortBy(entity: Entity, sortBy: string | undefined, errors: FieldError[]): SortKey[] {
  if (sortBy === undefined || sortBy.trim() === '') return [];
  const byName = new Map(entity.fields.map((field) => [field.name.toLowerCase(), field]));
  const order: SortKey[] = [];
  for (const part of sortBy.split(',')) {
    const parsed = parseSortPart(part, byName);
    if (typeof parsed === 'string') errors.push({ field: 'sortBy', message: sortByMessage(entity, part.trim(), parsed) });
    else order.push(parsed);
  }
  return order;
}

type SortProblem = 'field' | 'direction';

/** One `name`, `name:asc` or `name:desc`; or which half of it is wrong. */
function parseSortPart(part: string, byName: ReadonlyMap<string, Field>): SortKey | SortProblem {
  const [name = '', direction, ...more] = part.split(':').map((piece) => piece.trim());
  const field = byName.get(name.toLowerCase());
  if (!field) return 'field';
  if (more.length || (direction !== undefined && !/^(asc|desc)$/i.test(direction))) return 'direction';
  return { field, descending: direction?.toLowerCase() === 'desc' };
}

/** What is wrong with one part of `sortBy`: an unknown field, or a known field with a wrong direction. */
export function sortByMessage(entity: Pick<Entity, 'label'>, part: string, problem: SortProblem): string {
  if (problem === 'direction') {
    const name = part.split(':', 1)[0]!.trim();
    return `"${part}": the direction must be asc or desc (${name}:asc or ${name}:desc)`;
  }
  return `"${part}" is not a field of ${entity.label} (use name, name:asc or name:desc)`;
}
