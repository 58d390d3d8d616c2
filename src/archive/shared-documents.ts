/**
 * Small JSON documents every node reads alike (the viewer's hanging protocols, router
 * rules, each user's viewer settings), one row each in `shared_documents`, for several nodes on one PostgreSQL database. Read on every
 * use (they are read rarely: a viewer opening), so no cache and no notification is needed.
 */
import type { z } from 'zod';
import type { SharedDatabase } from './shared-database.js';

export class SharedDocuments {
  constructor(
    private readonly db: SharedDatabase,
    /** Who writes (the node id), in the row. */
    private readonly writer: string,
  ) {}

  /** The document's body as stored (JSON), or undefined when there is none yet. */
  async get(name: string): Promise<unknown> {
    const r = (await this.db.pool.query('SELECT body FROM shared_documents WHERE name = $1', [name])).rows[0] as { body: unknown } | undefined;
    return r?.body;
  }

  /** The document checked by `schema`, or undefined when there is none; a row that fails the check is an error naming `what`. */
  async getChecked<T>(name: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
    const body = await this.get(name);
    if (body === undefined) return undefined;
    const r = schema.safeParse(body);
    if (!r.success) throw new Error(`${what} in PostgreSQL: ${r.error.issues[0]?.message}`);
    return r.data;
  }

  async put(name: string, body: unknown): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO shared_documents (name, body, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = now(), updated_by = excluded.updated_by`,
      [name, JSON.stringify(body), this.writer],
    );
  }

  /** Removes the document (nothing when there is none). */
  async delete(name: string): Promise<void> {
    await this.db.pool.query('DELETE FROM shared_documents WHERE name = $1', [name]);
  }
}
