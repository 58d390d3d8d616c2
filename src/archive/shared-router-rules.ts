/**
 * The Router's rules and queue policy in PostgreSQL, for several nodes on one database:
 * one row of `shared_documents` (name 'router-rules') holding `{revision, settings}`.
 * Every change is a read-modify-write under the row's lock (SELECT ... FOR UPDATE in one
 * transaction), so two concurrent changes are applied one after the other and neither is
 * lost, and sends NOTIFY `pacs_router_rules` `<schema>:<revision>` in the same transaction:
 * every node reads the row again as soon as it is committed (file watching does not work
 * over NFS). What the settings mean is the router's (router/rule-store.ts validates them);
 * this file only keeps them.
 */
import type pg from 'pg';
import type { SharedDatabase } from './shared-database.js';
import { listenChannel, notifyChannel, type ChannelListener } from './shared-notify.js';

export const ROUTER_RULES_CHANNEL = 'pacs_router_rules';
export const ROUTER_RULES_DOCUMENT = 'router-rules';

/** The row's content: the settings as JSON (unvalidated here) and a revision raised by every change. */
export interface StoredRouterRules {
  revision: number;
  settings: unknown;
}

function parseRow(body: unknown): StoredRouterRules {
  const b = body as { revision?: unknown; settings?: unknown } | null;
  if (!b || typeof b !== 'object' || !Number.isSafeInteger(b.revision) || b.settings === undefined) {
    throw new Error(`the router rules row ('${ROUTER_RULES_DOCUMENT}' in shared_documents) is not {revision, settings}`);
  }
  return { revision: b.revision as number, settings: b.settings };
}

export class SharedRouterRules {
  constructor(
    private readonly db: SharedDatabase,
    /** Who writes (a node id, or the command line), in the row. */
    private readonly writer: string,
  ) {}

  get location(): string {
    return `PostgreSQL schema "${this.db.schema}" (shared_documents '${ROUTER_RULES_DOCUMENT}')`;
  }

  async read(): Promise<StoredRouterRules | undefined> {
    const r = (await this.db.pool.query('SELECT body FROM shared_documents WHERE name = $1', [ROUTER_RULES_DOCUMENT])).rows[0] as { body: unknown } | undefined;
    return r && parseRow(r.body);
  }

  /**
   * The row, created from `initial()` when there is none yet (the first node imports
   * router/rules.json or starts from the defaults): under an advisory lock, so nodes
   * starting together create it once. `created` says whether this call did.
   */
  async open(initial: () => Promise<unknown>): Promise<StoredRouterRules & { created: boolean }> {
    const stored = await this.read();
    if (stored) return { ...stored, created: false };
    return this.db.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pacs-router-rules:${this.db.schema}`]);
      const again = await this.row(c, '');
      if (again) return { ...again, created: false };
      const row = { revision: 1, settings: await initial() };
      await c.query(`INSERT INTO shared_documents (name, body, updated_by) VALUES ($1, $2, $3)`, [ROUTER_RULES_DOCUMENT, JSON.stringify(row), this.writer]);
      await notifyChannel(c, this.db.schema, ROUTER_RULES_CHANNEL, String(row.revision));
      return { ...row, created: true };
    });
  }

  /**
   * Applies `change` to the latest settings under the row's lock and writes its result with
   * the next revision; `change` may throw (a validation error), which rolls back. The row
   * must exist (open()).
   */
  update(change: (latest: unknown) => unknown): Promise<StoredRouterRules> {
    return this.db.transaction(async (c) => {
      const latest = await this.row(c, ' FOR UPDATE');
      if (!latest) throw new Error(`no router rules in ${this.location}: open them first`);
      const next = { revision: latest.revision + 1, settings: change(latest.settings) };
      await c.query(`UPDATE shared_documents SET body = $2, updated_at = now(), updated_by = $3 WHERE name = $1`, [
        ROUTER_RULES_DOCUMENT,
        JSON.stringify(next),
        this.writer,
      ]);
      await notifyChannel(c, this.db.schema, ROUTER_RULES_CHANNEL, String(next.revision));
      return next;
    });
  }

  /** Hears every node's changes (the message is the new revision) until the returned function is called. */
  listen(listener: ChannelListener): () => void {
    return listenChannel(this.db, ROUTER_RULES_CHANNEL, listener);
  }

  private async row(c: pg.PoolClient, lock: string): Promise<StoredRouterRules | undefined> {
    const r = (await c.query(`SELECT body FROM shared_documents WHERE name = $1${lock}`, [ROUTER_RULES_DOCUMENT])).rows[0] as { body: unknown } | undefined;
    return r && parseRow(r.body);
  }
}
