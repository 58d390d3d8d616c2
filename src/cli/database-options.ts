/**
 * What the commands that change shared state (`pacs config`, `pacs user`, `pacs router
 * rules`) have in common with several nodes: the PostgreSQL database of `pacs serve
 * --database-url` to work on, and stderr for the store's own messages.
 */
import type { Command } from 'commander';

/** `--database-url` and `--database-schema` (defaults PACS_DATABASE_URL, PACS_DATABASE_SCHEMA); `kept` says what the database holds. */
export function databaseOptions(cmd: Command, kept: string): Command {
  return cmd
    .option('--database-url <url>', `the PostgreSQL database of pacs serve --database-url: ${kept}`, process.env.PACS_DATABASE_URL)
    .option('--database-schema <name>', 'its schema (as pacs serve)', process.env.PACS_DATABASE_SCHEMA ?? 'pacs');
}

/** A store's own messages (the import on a database's first use) on stderr, out of the command's output. */
export const stderrLogger = {
  info: (_obj: object, msg?: string) => void process.stderr.write(`${msg ?? ''}\n`),
  error: (_obj: object, msg?: string) => void process.stderr.write(`${msg ?? ''}\n`),
};
