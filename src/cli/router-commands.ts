/**
 * `pacs router rules list|add|rm|test FILE` and `pacs router queue [--dest AE | --unrouted] [--retry|--purge]`:
 * the router's rules file (`DATA/router/rules.json`, validated like the REST API: a bad
 * condition is named with line:column, an unknown destination by its field) and its
 * forward queue (read from the Router's index; a running server picks rule changes up at
 * once, and retried entries at its next queue look-up).
 */
import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openIndex } from '../archive/open-index.js';
import { ConfigStore, ConfigValidationError, ConfigConflictError } from '../config/index.js';
import { ROUTER_DIR, RuleStore } from '../router/rule-store.js';
import { testPart10 } from '../router/router.js';
import { routeOutcome } from '../router/rules.js';
import { parseAeTitle } from './options.js';
import { COMMANDS } from './commands.js';

const dataOption = (cmd: Command) => cmd.option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data');

function cliError(err: unknown): Error {
  if (err instanceof ConfigValidationError) return new Error(err.issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('\n'));
  if (err instanceof ConfigConflictError) return new Error(err.message);
  return err as Error;
}

async function openRules(data: string): Promise<{ rules: RuleStore; config: ConfigStore }> {
  const dir = resolve(data);
  const config = await ConfigStore.open(dir);
  config.close();
  return { rules: await RuleStore.open(dir, { registry: () => config.current }), config };
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);

export function registerRouterCommands(program: Command): void {
  const router = program.command('router').description(COMMANDS.router);
  const rules = router.command('rules').description('the ordered forwarding rules');

  dataOption(rules.command('list').description('list the rules in evaluation order').option('--json', 'print JSON')).action(
    async (o: { data: string; json?: boolean }) => {
      const { rules: store } = await openRules(o.data);
      if (o.json) return out(JSON.stringify(store.current, null, 2));
      store.current.rules.forEach((r, i) => {
        const changes = Object.entries(r.changes)
          .map(([k, v]) => `${k}=${v ?? '(removed)'}`)
          .join(', ');
        const to = r.discard ? '(discard)' : r.destinations.join(', ');
        out(`${i + 1}. ${r.name}${r.enabled ? '' : ' (disabled)'}: ${r.condition} -> ${to}${changes ? ` [${changes}]` : ''}${r.continue ? ' (continue)' : ''}`);
      });
    },
  );

  dataOption(
    rules
      .command('add <name> <condition>')
      .description('add a rule (CEL condition): forward to --dest, or --discard')
      .option('--dest <aet...>', 'destination AE titles', (v: string, prev: string[] = []) => [...prev, parseAeTitle(v)])
      .option('--discard', 'what the rule matches is not forwarded, and not kept as unrouted (no --dest)')
      .option('--set <keyword=value...>', 'attribute change on the forwarded copy (empty value removes)')
      .option('--continue', 'evaluate the following rules after a match')
      .option('--position <n>', 'place (1 = first); default last', Number),
  ).action(
    async (name: string, condition: string, o: { data: string; dest?: string[]; discard?: boolean; set?: string[]; continue?: boolean; position?: number }) => {
      if (!o.dest && !o.discard) throw new Error('give --dest AE... (where to forward) or --discard');
      const { rules: store } = await openRules(o.data);
      const changes: Record<string, string | null> = {};
      for (const s of o.set ?? []) {
        const eq = s.indexOf('=');
        if (eq < 1) throw new Error(`--set: expected keyword=value, got "${s}"`);
        changes[s.slice(0, eq)] = s.slice(eq + 1) === '' ? null : s.slice(eq + 1);
      }
      try {
        await store.add(
          { name, condition, destinations: o.dest ?? [], changes, continue: o.continue ?? false, ...(o.discard ? { discard: true } : {}) },
          o.position === undefined ? undefined : o.position - 1,
        );
      } catch (e) {
        throw cliError(e);
      }
      out(`added rule "${name}"`);
    },
  );

  dataOption(rules.command('rm <name>').description('remove a rule')).action(async (name: string, o: { data: string }) => {
    const { rules: store } = await openRules(o.data);
    await store.remove(name).catch((e: unknown) => {
      throw cliError(e);
    });
    out(`removed rule "${name}"`);
  });

  dataOption(
    rules
      .command('test <file>')
      .description('dry run: which rules match a Part 10 file, what would be sent where')
      .option('--calling <aet>', 'calling AE title to assume', 'TEST')
      .option('--peer <address>', 'peer address to assume')
      .option('--json', 'print JSON'),
  ).action(async (file: string, o: { data: string; calling: string; peer?: string; json?: boolean }) => {
    const { rules: store, config } = await openRules(o.data);
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
      .option('--retry', 'dead entries back to pending')
      .option('--purge', 'delete dead entries (with --unrouted: the held entries, so that the retention may delete their instances)')
      .option('--json', 'print JSON'),
  ).action(async (o: { data: string; dest?: string; unrouted?: boolean; retry?: boolean; purge?: boolean; json?: boolean }) => {
    if (o.unrouted && (o.dest || o.retry)) throw new Error('--unrouted goes with --purge or --json only');
    // The index only (no Archive: its start-up sweep must not run beside a running server).
    const index = await openIndex(join(resolve(o.data), ROUTER_DIR));
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
      if (o.retry) out(`${await queue.retry({ destination: o.dest })} entries back to pending`);
      if (o.purge) out(`${await queue.purge({ destination: o.dest })} dead entries deleted`);
      if (o.dest) {
        const entries = await queue.list({ destination: o.dest });
        if (o.json) return out(JSON.stringify(entries, null, 2));
        for (const e of entries) {
          const state = e.state === 'pending' && e.attempts > 0 ? 'failed' : e.state;
          out(`${e.id}\t${state}\t${e.attempts}\t${e.sopInstanceUid}\t${e.rule}${e.lastError ? `\t${e.lastError}` : ''}`);
        }
        return;
      }
      const counts = await queue.counts();
      if (o.json) return out(JSON.stringify(counts, null, 2));
      out('destination\tpending\tfailed\tdead\tlast error');
      for (const c of counts) out(`${c.destination}\t${c.pending}\t${c.failed}\t${c.dead}\t${c.lastError ?? ''}`);
      const held = await queue.heldCounts();
      if (held.unrouted + held.ruleFailed > 0) out(`not forwarded: ${held.unrouted} unrouted, ${held.ruleFailed} rule failed (pacs router queue --unrouted)`);
    } finally {
      await index.close();
    }
  });
}
