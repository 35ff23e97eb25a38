import { statements, type Statements } from '../derive/sql.js';
import { recordValidator, type TextLimits, type Validation } from '../derive/validate.js';
import { entityNamed, type ClientRecord, type Entity } from '../entities/index.js';
import { referenceLookup } from './references.js';

/**
 * What one record type's handlers share, built once per record type and app at start-up: its SQL
 * statements, its validator (compiled with the app's text cap) and its reference lookup. The
 * batch engine and the repository are both given the same one.
 */
export interface CompiledRecord<E extends Entity = Entity> {
  readonly sql: Statements;
  readonly validate: (input: unknown) => Validation<ClientRecord<E>>;
  readonly references: ReturnType<typeof referenceLookup>;
}

export function compileRecord<E extends Entity>(entity: E, limits?: TextLimits): CompiledRecord<E> {
  const sql = statements(entity, entityNamed);
  return { sql, validate: recordValidator(entity, limits), references: referenceLookup(entity, sql) };
}
