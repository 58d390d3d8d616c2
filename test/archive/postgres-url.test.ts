/**
 * A PostgreSQL URL without a user name connects as libpq (and so psql) would: as the
 * operating system's user, also when USER is unset (a systemd service, a container), where
 * pg alone sent no user name ("no PostgreSQL user name specified in startup packet").
 */
import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/peers.js';
import { dropSchema, freshSchemaName, PG_URL } from './pg-support.js';

const run = promisify(execFile);
const schema = freshSchemaName();
const osUser = userInfo().username;
// PG_URL names a user (postgres); the same server and database without one.
const noUser = (() => {
  const u = new URL(PG_URL);
  u.username = '';
  u.password = '';
  return u.toString();
})();

beforeAll(async () => {
  // The operating system's user needs a role that may create our schema (trust auth here).
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [osUser]);
    if (exists.rowCount === 0) await c.query(`CREATE ROLE "${osUser.replace(/"/g, '""')}" LOGIN`);
    await c.query(`GRANT CREATE ON DATABASE "${new URL(PG_URL).pathname.slice(1).replace(/"/g, '""')}" TO "${osUser.replace(/"/g, '""')}"`);
  } finally {
    await c.end();
  }
});

afterAll(() => dropSchema(schema));

describe('PostgreSQL URL without a user name', () => {
  it('connects as the operating system user with USER and PGUSER unset', async () => {
    const env = { ...process.env };
    delete env.USER;
    delete env.PGUSER;
    delete env.LOGNAME;
    expect(new URL(noUser).username).toBe('');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/archive/fixtures/open-postgres.ts'), noUser, schema], {
      env,
      cwd: REPO_ROOT,
    });
    expect(stdout.trim()).toBe('instances 0');
  });
});
