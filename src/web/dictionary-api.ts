/**
 * Names of data elements, for the web app's tag browser (which reads an instance's DICOM
 * JSON metadata, where tags have no names), so the browser need not carry the dictionary:
 *   POST /api/dictionary/names {tags: [{tag: "GGGGEEEE", creator?}]} -> {names: (string | null)[]}
 * in the order asked; a private element is named by its private creator's entry in DCMTK's
 * private dictionary, null where no dictionary knows the element.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { lookupTag } from '../dicom/dictionary.js';
import { privateName } from '../dicom/private-dictionary.js';
import { access } from './route-access.js';
import { jsonSchema } from './schemas.js';

/** More than any one data set's distinct tags (nested sequences included) in practice; bounds the work per request. */
export const MAX_NAMES = 10_000;

const namesBody = z.strictObject({
  tags: z
    .array(
      z.strictObject({
        tag: z.string().regex(/^[0-9A-Fa-f]{8}$/, 'tag must be 8 hex digits (GGGGEEEE)'),
        creator: z.string().max(64, 'a private creator is at most 64 characters').optional(),
      }),
    )
    .max(MAX_NAMES, `at most ${MAX_NAMES} tags per request`),
});

/** The name of one data element, or null. */
export function elementName(tag: number, creator?: string): string | null {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (element === 0) return 'Group Length';
  if (group % 2 === 1) {
    if (element >= 0x0010 && element <= 0x00ff) return 'Private Creator';
    return creator ? (privateName(tag, creator.trim()) ?? null) : null;
  }
  return lookupTag(tag)?.name ?? null;
}

export function registerDictionaryApi(app: FastifyInstance): void {
  app.post('/api/dictionary/names', { schema: { body: jsonSchema(namesBody) }, ...access('read') }, async (req) => {
    const body = req.body as z.infer<typeof namesBody>;
    return { names: body.tags.map((t) => elementName(parseInt(t.tag, 16) >>> 0, t.creator)) };
  });
}
