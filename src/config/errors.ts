/** Configuration errors name the field that failed, for the CLI, the REST API and the web app alike. */
import type { z } from 'zod';

export interface FieldIssue {
  /** Dotted path of the field, relative to the object that was validated: `aeTitle`, `connection.port`. */
  field: string;
  message: string;
}

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; '));
  }
}

/** A change refused for a reason other than a malformed field (not found, conflict). */
export class ConfigConflictError extends Error {
  override readonly name = 'ConfigConflictError';
  constructor(
    message: string,
    readonly kind: 'not-found' | 'conflict',
    readonly field?: string,
  ) {
    super(message);
  }
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

export function issuesOf(err: z.ZodError, prefix: readonly PropertyKey[] = []): FieldIssue[] {
  return err.issues.map((i) => {
    const path = [...prefix, ...i.path];
    // zod reports unknown keys on the parent object; name the key itself.
    if (i.code === 'unrecognized_keys') return { field: fieldPath([...path, i.keys[0]]), message: `unknown field "${i.keys.join('", "')}"` };
    return { field: fieldPath(path), message: i.message };
  });
}

/** Parses with a schema, throwing ConfigValidationError naming each failed field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix: readonly PropertyKey[] = []): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ConfigValidationError(issuesOf(r.error, prefix));
  return r.data;
}
