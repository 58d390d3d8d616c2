import { ConfigValidationError } from '../../src/config/index.js';

/** The issues of a refused change: [field, message]. */
export function issues(fn: () => unknown): [string, string][] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.issues.map((i) => [i.field, i.message]);
    throw err;
  }
  throw new Error('expected a ConfigValidationError');
}
