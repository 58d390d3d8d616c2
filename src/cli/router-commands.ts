/**
 * `pacs router rules list|add|rm|test FILE` and `pacs router queue [--dest AE | --unrouted] [--retry [--id N]|--purge]`:
 * the router's rules (`DATA/router/rules.json`, or with `--database-url` the row the nodes
 * on that PostgreSQL database share, which they reload on its NOTIFY; validated like the REST API: a bad
 * condition or a type error is named with line:column, an unknown destination by its
 * field; a rule after a catch-all is warned about) and its forward queue (read from the
 * Router's index, `DATA/router/index.sqlite`, the one the page reads: the same counts,
 * deliveries included, and entries; a running server picks rule changes up at once, and
 * retried entries at its next queue look-up). A retry is recorded in the activity log
 * (the Main Server's index: `--database-url` when pacs serve uses PostgreSQL).
 */
import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { SharedDatabase } from '../archive/shared-database.js';
import { PostgresRegistryBackend } from '../archive/shared-registry.js';
import { SharedRouterRules } from '../archive/shared-router-rules.js';
import { NODE_LOCK_DIR } from '../roles/node-lock.js';
import { ActivityStore } from '../archive/activity-store.js';
import { IndexMissingError, openIndex, routerIndexSpec } from '../archive/open-index.js';
import type { QueueEntry } from '../archive/forward-queue.js';
import { ConfigStore, ConfigValidationError, ConfigConflictError } from '../config/index.js';
import { ROUTER_DIR, RuleStore } from '../router/rule-store.js';
import { testPart10 } from '../router/router.js';
import { routeOutcome, unreachableRules } from '../router/rules.js';
import { parseAeTitle } from './options.js';
import { COMMANDS } from './commands.js';
import { databaseOptions, stderrLogger } from './database-options.js';

const dataOption = (cmd: Command) => cmd.option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data');

function cliError(err: unknown): Error {
  if (err instanceof ConfigValidationError) return new Error(err.issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('\n'));
  if (err instanceof ConfigConflictError) return new Error(err.message);
  return err as Error;
}

/** Where the rules are: the data directory's router/rules.json, or the PostgreSQL database of `pacs serve --database-url`. */
interface RulesFlags {
  data: string;
  databaseUrl?: string;
  databaseSchema: string;
}

const rulesOptions = (cmd: Command) => databaseOptions(dataOption(cmd), 'the nodes share the rules there');

async function openRules(o: RulesFlags): Promise<{ rules: RuleStore; config: ConfigStore }> {
  const dir = resolve(o.data);
  if (!o.databaseUrl) {
    // Nodes on PostgreSQL read the rules from the database: rules.json is theirs no more.
    if (existsSync(join(dir, NODE_LOCK_DIR))) {
      process.stderr.write(`note: nodes on PostgreSQL have served ${dir}; their router rules are in the database (give --database-url)\n`);
    }
    const config = await ConfigStore.open(dir);
    config.close();
    return { rules: await RuleStore.open(dir, { registry: () => config.current }), config };
  }
  // The pool lets the process end once idle (allowExitOnIdle), as pacs config does.
  const db = await SharedDatabase.open({ connectionString: o.databaseUrl, schema: o.databaseSchema });
  const writer = `pacs router on ${hostname()}`;
  const config = await ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db, dir, writer), logger: stderrLogger });
  const rules = await RuleStore.open(dir, {
    registry: () => config.current,
    shared: new SharedRouterRules(db, writer),
    onCreated: ({ imported, file }) =>
      process.stderr.write(
        imported ? `imported the router rules from ${file} into PostgreSQL, once\n` : 'created the router rules in PostgreSQL with the default rule\n',
      ),
  });
  return { rules, config };
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);

/** An entry as the page shows it: patient, study, series (or that the instance is gone). */
function describeEntry(e: QueueEntry): string {
  const i = e.instance;
  if (!i) return `(instance gone: ${e.sopInstanceUid})`;
  const part = (...xs: (string | null)[]) => xs.filter((x) => x).join(' ');
  return [part(i.patientName, i.patientId && `(${i.patientId})`), part(i.studyDate, i.studyDescription), part(i.modality, i.seriesDescription)].join(' / ');
}

/** Records a CLI action in the activity log (the Main Server's index); a log that cannot be opened is said, not fatal. */
async function recordActivity(
  o: { data: string; databaseUrl?: string; databaseSchema: string },
  message: string,
  more: { target?: string; calledAe?: string },
) {
  let index;
  try {
    index = await openIndex(resolve(o.data), o.databaseUrl ? { postgres: o.databaseUrl, schema: o.databaseSchema } : 'sqlite', { create: false });
    const store = await ActivityStore.open(index);
    const user = `${userInfo().username} (cli)`;
    await store.append([{ kind: 'rules', outcome: 'success', user, ...more, message: `${user}: ${message}` }]);
  } catch (e) {
    process.stderr.write(`warning: not recorded in the activity log: ${(e as Error).message}\n`);
  } finally {
    await index?.close();
  }
}

interface QueueOptions {
  data: string;
  dest?: string;
  unrouted?: boolean;
  retry?: boolean;
  id?: number;
  purge?: boolean;
  json?: boolean;
  databaseUrl?: string;
  databaseSchema: string;
}

export function registerRouterCommands(program: Command): void {
  const router = program.command('router').description(COMMANDS.router);
  const rules = router.command('rules').description('the ordered forwarding rules');

  rulesOptions(rules.command('list').description('list the rules in evaluation order').option('--json', 'print JSON')).action(
    async (o: RulesFlags & { json?: boolean }) => {
      const { rules: store } = await openRules(o);
      if (o.json) return out(JSON.stringify(store.current, null, 2));
      const unreachable = new Set(unreachableRules(store.current.rules).map((w) => w.rule));
      store.current.rules.forEach((r, i) => {
        const changes = Object.entries(r.changes)
          .map(([k, v]) => `${k}=${v ?? '(removed)'}`)
          .join(', ');
        const to = r.discard ? '(discard)' : r.destinations.join(', ');
        out(
          `${i + 1}. ${r.name}${r.enabled ? '' : ' (disabled)'}: ${r.condition} -> ${to}${changes ? ` [${changes}]` : ''}${r.continue ? ' (continue)' : ''}${unreachable.has(r.name) ? ' (never reached: a catch-all rule precedes it)' : ''}`,
        );
      });
    },
  );

  rulesOptions(
    rules
      .command('add <name> <condition>')
      .description('add a rule (CEL condition): forward to --dest, or --discard')
      .option('--dest <aet...>', 'destination AE titles', (v: string, prev: string[] = []) => [...prev, parseAeTitle(v)])
      .option('--discard', 'what the rule matches is not forwarded, and not kept as unrouted (no --dest)')
      .option('--set <keyword=value...>', 'attribute change on the forwarded copy (empty value removes)')
      .option('--continue', 'evaluate the following rules after a match')
      .option('--position <n>', 'place (1 = first); default last', Number),
  ).action(
    async (name: string, condition: string, o: RulesFlags & { dest?: string[]; discard?: boolean; set?: string[]; continue?: boolean; position?: number }) => {
      if (!o.dest && !o.discard) throw new Error('give --dest AE... (where to forward) or --discard');
      const { rules: store } = await openRules(o);
      const changes: Record<string, string | null> = {};
      for (const s of o.set ?? []) {
        const eq = s.indexOf('=');
        if (eq < 1) throw new Error(`--set: expected keyword=value, got "${s}"`);
        changes[s.slice(0, eq)] = s.slice(eq + 1) === '' ? null : s.slice(eq + 1);
      }
      let next;
      try {
        next = await store.add(
          { name, condition, destinations: o.dest ?? [], changes, continue: o.continue ?? false, ...(o.discard ? { discard: true } : {}) },
          o.position === undefined ? undefined : o.position - 1,
        );
      } catch (e) {
        throw cliError(e);
      }
      out(`added rule "${name}"`);
      for (const w of unreachableRules(next.rules)) process.stderr.write(`warning: ${w.message}\n`);
    },
  );

  rulesOptions(rules.command('rm <name>').description('remove a rule')).action(async (name: string, o: RulesFlags) => {
    const { rules: store } = await openRules(o);
    await store.remove(name).catch((e: unknown) => {
      throw cliError(e);
    });
    out(`removed rule "${name}"`);
  });

  rulesOptions(
    rules
      .command('test <file>')
      .description('dry run: which rules match a Part 10 file, what would be sent where')
      .option('--calling <aet>', 'calling AE title to assume', 'TEST')
      .option('--peer <address>', 'peer address to assume')
      .option('--json', 'print JSON'),
  ).action(async (file: string, o: RulesFlags & { calling: string; peer?: string; json?: boolean }) => {
    const { rules: store, config } = await openRules(o);
    let d;
    try {
      d = testPart10(await readFile(file), store.current, { callingAE: o.calling, peerAddress: o.peer }, config.current);
    } catch (e) {
      throw cliError(e);
    }
    if (o.json) return out(JSON.stringify(d, null, 2));
    for (const m of d.matches) out(`${m.matched ? 'MATCH' : '     '} ${m.rule}${m.skipped ? ` (${m.skipped})` : ''}${m.error ? ` (error: ${m.error})` : ''}`);
    const outcome = routeOutcome(d);
    if (outcome.kind === 'send') out(outcome.sends.map((s) => `-> ${s.destination} (rule "${s.rule}")`).join('\n'));
    else if (outcome.kind === 'discard') out(`-> discarded (rule "${outcome.rule}")`);
    else if (outcome.kind === 'unrouted') out('-> not forwarded: kept as unrouted until a user purges it');
    else out(`-> held, not forwarded: ${outcome.error}`);
  });

  dataOption(
    router
      .command('queue')
      .description('forward queue per destination')
      .option('--dest <aet>', 'one destination: list its entries')
      .option('--unrouted', 'instances held because no rule forwards them or their rules failed (retry them in the web app or the API)')
      .option('--retry', 'failed and dead entries due now (dead ones back to pending)')
      .option('--id <n>', 'with --retry: only this entry', (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--id: expected an entry number, got "${v}"`);
        return n;
      })
      .option('--purge', 'delete dead entries (with --unrouted: the held entries, so that the retention may delete their instances)')
      .option(
        '--database-url <url>',
        "the PostgreSQL index pacs serve uses: the Router's queue is then in its schema <schema>_router, the activity log in <schema> (else the data directory's)",
        process.env.PACS_DATABASE_URL,
      )
      .option('--database-schema <name>', 'PostgreSQL schema of that index', process.env.PACS_DATABASE_SCHEMA ?? 'pacs')
      .option('--json', 'print JSON'),
  ).action(async (o: QueueOptions) => {
    if (o.unrouted && (o.dest || o.retry)) throw new Error('--unrouted goes with --purge or --json only');
    if (o.id !== undefined && !o.retry) throw new Error('--id goes with --retry');
    // The index only (no Archive: its start-up sweep must not run beside a running server),
    // and never a new one: a wrong --data would otherwise show an empty queue.
    const routerDir = join(resolve(o.data), ROUTER_DIR);
    let index;
    try {
      // Beside a PostgreSQL index the nodes share the Router's queue in the database (routerIndexSpec).
      index = await openIndex(routerDir, routerIndexSpec(o.databaseUrl ? { postgres: o.databaseUrl, schema: o.databaseSchema } : 'sqlite'), { create: false });
    } catch (e) {
      if (e instanceof IndexMissingError) throw new Error(`no Router index in ${routerDir}: has pacs serve run with --data ${o.data}?`, { cause: e });
      throw e;
    }
    try {
      const queue = index.forwardQueue;
      await queue.ensureSchema();
      if (o.unrouted) {
        if (o.purge) out(`${await queue.purgeHeld()} unrouted entries deleted`);
        const held = await queue.held({ limit: 100_000 });
        if (o.json) return out(JSON.stringify(held, null, 2));
        for (const e of held) out(`${e.id}\t${e.state}\t${e.sopInstanceUid}\t${e.createdAt}${e.lastError ? `\t${e.lastError}` : ''}`);
        return;
      }
      if (o.retry) {
        const retried = await queue.retry({ destination: o.dest, ...(o.id !== undefined ? { ids: [o.id] } : {}) });
        if (o.id !== undefined && retried === 0) throw new Error(`no failed or dead entry ${o.id}${o.dest ? ` for ${o.dest}` : ''}`);
        out(`${retried} failed or dead entries due now`);
        const what = o.id !== undefined ? `queue entry ${o.id}` : `${retried} failed and dead queue entr${retried === 1 ? 'y' : 'ies'}`;
        await recordActivity(o, `retried ${what}${o.dest ? ` for ${o.dest}` : ''}`, o.dest ? { target: o.dest, calledAe: o.dest } : {});
      }
      if (o.purge) out(`${await queue.purge({ destination: o.dest })} dead entries deleted`);
      if (o.dest) {
        const entries = await queue.list({ destination: o.dest });
        if (o.json) return out(JSON.stringify(entries, null, 2));
        out('#\tstate\tattempts\tpatient / study / series\tdestination\trule\tlast error');
        for (const e of entries) {
          const state = e.state === 'pending' && e.attempts > 0 ? 'failed' : e.state;
          out(`${e.id}\t${state}\t${e.attempts}\t${describeEntry(e)}\t${e.destination}\t${e.rule}\t${e.lastError ?? ''}`);
        }
        return;
      }
      const counts = await queue.counts();
      if (o.json) return out(JSON.stringify(counts, null, 2));
      out('destination\tpending\tfailed\tdead\tdelivered\tlast error');
      for (const c of counts) out(`${c.destination}\t${c.pending}\t${c.failed}\t${c.dead}\t${c.delivered}\t${c.lastError ?? ''}`);
      const held = await queue.heldCounts();
      if (held.unrouted + held.ruleFailed > 0) out(`not forwarded: ${held.unrouted} unrouted, ${held.ruleFailed} rule failed (pacs router queue --unrouted)`);
    } finally {
      await index.close();
    }
  });
}
