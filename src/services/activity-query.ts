/**
 * The activity log's filters as given by a person (GET /api/activity's query string,
 * `pacs log`'s options): checked, with a message naming the field, and normalized (times
 * to ISO 8601 UTC with milliseconds, as the index stores them, so they compare as text).
 */
import { z } from 'zod';
import { ACTIVITY_KINDS, ACTIVITY_MAX_LIMIT, ACTIVITY_OUTCOMES } from '../api-types/activity.js';
import { isValidUid } from '../dicom/uids.js';

const time = (field: string) =>
  z
    .string()
    .max(40)
    .refine((s) => !Number.isNaN(Date.parse(s)), `${field} must be a date and time (ISO 8601, e.g. 2026-01-31T08:00:00Z)`)
    .transform((s) => new Date(s).toISOString());
const eventId = (field: string) =>
  z.coerce
    .number({ error: `${field} must be an event id` })
    .int(`${field} must be an event id`)
    .min(0, `${field} must be an event id`);

/** GET /api/activity's query string (and `pacs log`'s options, mapped to it). */
export const activityQuerySchema = z.strictObject({
  from: time('from').optional(),
  to: time('to').optional(),
  ae: z.string().trim().min(1, 'ae must not be empty').max(16, 'ae is an AE title: at most 16 characters').optional(),
  patientId: z.string().min(1, 'patientId must not be empty').max(64, 'patientId: at most 64 characters').optional(),
  studyUid: z
    .string()
    .refine((s) => isValidUid(s), 'studyUid must be a UID')
    .optional(),
  kind: z.enum(ACTIVITY_KINDS, { error: `kind must be one of ${ACTIVITY_KINDS.join(', ')}` }).optional(),
  outcome: z.enum(ACTIVITY_OUTCOMES, { error: `outcome must be one of ${ACTIVITY_OUTCOMES.join(', ')}` }).optional(),
  before: eventId('before').optional(),
  after: eventId('after').optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(ACTIVITY_MAX_LIMIT, `limit may be at most ${ACTIVITY_MAX_LIMIT}`)
    .optional(),
});
