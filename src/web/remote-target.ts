/** Request checks shared by the study browser's routes: UIDs in paths and bodies. */
import { quoteValue, uidProblem } from '../dicom/uids.js';
import { BadRequestError } from './problem.js';

/** A UID in a path or body (the one UID check, src/dicom/uids.ts), else 400 naming the field. */
export function checkUid(value: unknown, field: string): string {
  const problem = typeof value === 'string' ? uidProblem(value) : 'is not a string';
  if (problem)
    throw new BadRequestError(
      `${field} must be a UID (digits and dots, at most 64 characters): ${typeof value === 'string' ? `${quoteValue(value, 80)} ` : ''}${problem}`,
      field,
    );
  return value as string;
}
