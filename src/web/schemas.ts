/**
 * Route schemas derived from the registry's zod schemas: fastify gets JSON Schema (for
 * documentation and its route table), and validation itself runs through zod, so the
 * file, the CLI and the REST API give the same messages naming the same fields.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { aePatchSchema, aeSchema, ConfigValidationError, issuesOf, webSchema } from '../config/index.js';

const zodOf = new WeakMap<object, z.ZodType>();

export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const j = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  zodOf.set(j, schema);
  return j;
}

export function useZodValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema }) => {
    const zs = zodOf.get(schema);
    return (data: unknown) => {
      if (!zs) return { value: data };
      const r = zs.safeParse(data);
      return r.success ? { value: data } : { error: new ConfigValidationError(issuesOf(r.error)) };
    };
  });
}

export const aeCreateBody = jsonSchema(aeSchema.extend({ device: z.string().min(1).max(64).optional() }));
export const aeReplaceBody = jsonSchema(aeSchema.partial({ aeTitle: true }));
export const aePatchBody = jsonSchema(aePatchSchema);
export const webPatchBody = jsonSchema(webSchema.partial());
export const loginBody = jsonSchema(z.strictObject({ user: z.string().min(1, 'user is required'), password: z.string().min(1, 'password is required') }));
export const aetParams = jsonSchema(z.object({ aet: z.string() }));
