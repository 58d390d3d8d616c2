/**
 * `pacs user add | passwd | role | rm | list`: the users of the web app and REST API in
 * `<data>/users.json`, or with --database-url in the PostgreSQL database of several
 * nodes. A running `pacs serve` sees each change within a second; a new password or a
 * removed user ends that user's sessions there.
 *
 * Passwords never go on the command line (it is visible to every local user in `ps`):
 * they are asked for on the terminal, without echo and twice, or read from standard
 * input with --password-stdin (one line; for scripts).
 */
import { Argument, Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { SharedAuthTables } from '../archive/shared-auth.js';
import { SharedDatabase } from '../archive/shared-database.js';
import { NODE_LOCK_DIR } from '../roles/node-lock.js';
import { ROLES, UserError, userNameSchema, UserStore, type Role } from '../web/users.js';
import { table } from './config-commands.js';
import { COMMANDS } from './commands.js';
import { databaseOptions, stderrLogger } from './database-options.js';

/** Where the users are: the data directory's users.json, or the PostgreSQL database `pacs serve --database-url` uses. */
const dataOption = (cmd: Command) =>
  databaseOptions(cmd.option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data'), 'the users are kept there');

interface StoreFlags {
  data: string;
  databaseUrl?: string;
  databaseSchema?: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error('--password-stdin: more than 64 KiB on standard input');
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.replace(/\r?\n$/, '');
  if (line.includes('\n')) throw new Error('--password-stdin: give the password as one line');
  return line;
}

/** Reads a line from the terminal without echoing it. */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolvePassword, reject) => {
    process.stderr.write(prompt);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolvePassword(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function newPassword(o: { passwordStdin?: boolean }, who: string): Promise<string> {
  if (o.passwordStdin) return readStdin();
  if (!process.stdin.isTTY) throw new Error('no terminal to ask for the password on: give it on standard input with --password-stdin');
  const first = await askHidden(`new password for ${who}: `);
  const again = await askHidden('again: ');
  if (first !== again) throw new Error('the two passwords differ');
  return first;
}

/** A refused user operation as a CLI message (the field as the argument or option that set it). */
function cliMessage(err: unknown): Error {
  if (!(err instanceof UserError)) return err as Error;
  const what = err.field === 'name' ? 'NAME' : err.field === 'password' ? 'password' : err.field === 'role' ? '--role' : undefined;
  return new Error(what && err.kind === 'invalid' ? `${what}: ${err.message}` : err.message);
}

async function run(o: StoreFlags, fn: (users: UserStore) => Promise<void>): Promise<void> {
  const dataDir = resolve(o.data);
  let db: SharedDatabase | undefined;
  try {
    if (o.databaseUrl) {
      // The nodes' users: a change here ends sessions on every node (NOTIFY), as one made in the web app.
      db = await SharedDatabase.open({ connectionString: o.databaseUrl, schema: o.databaseSchema });
      const tables = new SharedAuthTables(db, `pacs user on ${hostname()}`);
      await fn(await UserStore.openShared(dataDir, tables, stderrLogger, { listen: false }));
    } else {
      if (existsSync(join(dataDir, NODE_LOCK_DIR))) {
        process.stderr.write(`note: nodes on PostgreSQL have served ${dataDir}; their users are in the database (give --database-url)\n`);
      }
      await fn(await UserStore.open(dataDir));
    }
  } catch (err) {
    throw cliMessage(err);
  } finally {
    await db?.close();
  }
}

const roleOption = () => new Option('--role <role>', 'admin (everything) or reader (browse and view)').choices(ROLES);

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description(COMMANDS.user);

  dataOption(user.command('add').description('add a user (the password is asked for, or read with --password-stdin)').argument('<name>'))
    .addOption(roleOption().default('reader'))
    .option('--password-stdin', 'read the password from standard input (one line)')
    .action(async (name: string, o: { data: string; role: Role; passwordStdin?: boolean }) =>
      run(o, async (users) => {
        // The name first: no use asking for a password for a name that will be refused.
        const named = userNameSchema.safeParse(name);
        if (!named.success) throw new UserError(named.error.issues[0].message, 'invalid', 'name');
        const u = await users.add(name, await newPassword(o, name), o.role);
        process.stdout.write(`added ${u.name} (${u.role})\n`);
      }),
    );

  dataOption(user.command('passwd').description("set a user's password (their sessions end)").argument('<name>'))
    .option('--password-stdin', 'read the password from standard input (one line)')
    .action(async (name: string, o: { data: string; passwordStdin?: boolean }) =>
      run(o, async (users) => {
        if (!(await users.role(name))) throw new UserError(`no user "${name}"`, 'not-found', 'name');
        await users.setPassword(name, await newPassword(o, name));
        process.stdout.write(`changed the password of ${name}\n`);
      }),
    );

  dataOption(
    user
      .command('role')
      .description("change a user's role (the last admin stays admin)")
      .argument('<name>')
      .addArgument(new Argument('<role>', 'admin or reader').choices(ROLES)),
  ).action(async (name: string, role: Role, o: { data: string }) =>
    run(o, async (users) => {
      const u = await users.setRole(name, role);
      process.stdout.write(`${u.name} is now ${u.role}\n`);
    }),
  );

  dataOption(user.command('rm').description('remove a user (not the last admin)').argument('<name>')).action(async (name: string, o: { data: string }) =>
    run(o, async (users) => {
      await users.remove(name);
      process.stdout.write(`removed ${name}\n`);
    }),
  );

  dataOption(user.command('list').description('list the users and their roles')).action(async (o: { data: string }) =>
    run(o, async (users) => {
      const list = await users.list();
      process.stdout.write(
        table(
          ['NAME', 'ROLE', 'CREATED'],
          list.map((u) => [u.name, u.role, u.created]),
        ),
      );
    }),
  );
}
