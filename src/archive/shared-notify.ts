/**
 * A LISTEN connection of its own on one NOTIFY channel, for the copies a node keeps of
 * shared state (the registry, users, sessions, router rules). Payloads are
 * `<schema>:<message>`: several schemas may share a database, and a node hears only its own. A broken connection is reported
 * (`down`), so the caches stop trusting themselves, and reconnected after a second; once
 * listening again `up` is reported (notifications may have been missed meanwhile).
 */
import type pg from 'pg';
import type { SharedDatabase } from './shared-database.js';

const RECONNECT_MS = 1000;

export interface ChannelListener {
  message(message: string): void;
  /** Listening (again): anything cached before may be stale. */
  up(): void;
  /** Not listening: nothing cached can be trusted until `up`. */
  down(err: Error): void;
}

/** Listens on `channel` for this schema's notifications until the returned function is called. */
export function listenChannel(db: SharedDatabase, channel: string, listener: ChannelListener): () => void {
  if (!/^[a-z_]+$/.test(channel)) throw new Error(`invalid channel name '${channel}'`);
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  const prefix = `${db.schema}:`;
  const connect = async (): Promise<void> => {
    const c = db.newClient();
    client = c;
    let failed = false;
    const retry = (err: Error): void => {
      if (failed || stopped) return;
      failed = true;
      listener.down(err);
      void c.end().catch(() => undefined);
      timer = setTimeout(() => void connect(), RECONNECT_MS);
      timer.unref();
    };
    c.on('error', retry);
    c.on('end', () => retry(new Error('connection ended')));
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload?.startsWith(prefix)) listener.message(n.payload.slice(prefix.length));
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (stopped) await c.end();
      else listener.up();
    } catch (err) {
      retry(err as Error);
    }
  };
  void connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    void client?.end().catch(() => undefined);
  };
}

/** Sends `<schema>:<message>` on `channel` within the client's transaction (delivered at commit). */
export async function notifyChannel(c: pg.PoolClient, schema: string, channel: string, message: string): Promise<void> {
  await c.query('SELECT pg_notify($1, $2)', [channel, `${schema}:${message}`]);
}
