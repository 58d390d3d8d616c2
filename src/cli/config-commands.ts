/**
 * `pacs config show | ae add | ae set | ae rm | limits set | verify`: the AE registry in the data
 * directory. Changes are validated by the registry's schema; a failed field is named
 * by the option that set it. A running `pacs serve` on the same data directory picks
 * each change up at once.
 */
import { Command } from 'commander';
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_LOCK_DIR } from '../roles/node-lock.js';
import { SharedDatabase } from '../archive/shared-database.js';
import { PostgresRegistryBackend } from '../archive/shared-registry.js';
import {
  addAe,
  addPlugin,
  pluginKey,
  removePlugin,
  ConfigStore,
  ConfigValidationError,
  describeLimits,
  findAe,
  isServerRole,
  listAes,
  portAvailable,
  PERMISSIONS,
  removeAe,
  setAe,
  setHl7,
  setAudit,
  setLimits,
  setPrefetch,
  type AeEntry,
  type Hl7Settings,
} from '../config/index.js';
import { hostBinding } from '../roles/access-control.js';
import { echoAe, type EchoResult } from '../roles/echo-peer.js';
import { COMMANDS } from './commands.js';
import { parsePort } from './options.js';
import { databaseOptions, stderrLogger } from './database-options.js';

/** Registry field -> the option that sets it, for error messages. */
const FLAG: Record<string, string> = {
  aeTitle: '',
  'connection.host': '--host',
  'connection.port': '--port',
  'connection.tls': '--tls',
  description: '--description',
  permissions: '--permissions',
  checkHost: '--check-host',
  moveDestination: '--move-destination',
  queryRetrieve: '--query-retrieve',
  commitmentReport: '--commitment-report',
  'policy.strict': '--strict',
  'policy.unknownCallers': '--unknown-callers',
  'policy.requireClientCert': '--require-client-cert',
  'policy.checkCallerHosts': '--check-caller-hosts',
  role: '--role',
  device: '--device',
};

function cliMessage(err: unknown, renamed = false): Error {
  if (err instanceof ConfigValidationError) {
    return new Error(
      err.issues
        .map((i) => {
          const key = i.field.replace(/^permissions\[\d+\]$/, 'permissions').replace(/^policy\.unknownCallers\[\d+\]$/, 'policy.unknownCallers');
          const flag = key === 'aeTitle' && renamed ? '--aet' : (FLAG[key] ?? i.field);
          return flag ? `${flag}: ${i.message}` : i.message;
        })
        .join('\n'),
    );
  }
  return err as Error;
}

/** One line: whether the HL7 intake listens, where, and for whom. */
function describeHl7(h: Hl7Settings | undefined): string {
  if (!h?.enabled) return 'HL7 intake off';
  return `HL7 intake on ${h.host}:${h.port}${h.allowedHosts ? `, from ${h.allowedHosts.join(', ')}` : ''}`;
}

/** Where the registry is: the data directory's config.json, or the PostgreSQL database `pacs serve --database-url` uses. */
const dataOption = (cmd: Command) =>
  databaseOptions(cmd.option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data'), 'the registry is kept there');

interface StoreFlags {
  data: string;
  databaseUrl?: string;
  databaseSchema?: string;
}

async function openStore(o: StoreFlags): Promise<ConfigStore> {
  const dataDir = resolve(o.data);
  if (!o.databaseUrl) {
    // Nodes on PostgreSQL read the registry from the database: config.json is theirs no more.
    if (existsSync(join(dataDir, NODE_LOCK_DIR))) {
      process.stderr.write(`note: nodes on PostgreSQL have served ${dataDir}; their registry is in the database (give --database-url)\n`);
    }
    return ConfigStore.open(dataDir);
  }
  const db = await SharedDatabase.open({ connectionString: o.databaseUrl, schema: o.databaseSchema });
  return ConfigStore.open(dataDir, { backend: new PostgresRegistryBackend(db, dataDir, `pacs config on ${hostname()}`), logger: stderrLogger });
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** Keeps numbers that are not numbers as they are, so the schema names the bad port. */
const port = (v: string): number => (/^\s*\d+\s*$/.test(v) ? Number(v) : (v as unknown as number));

interface AeFlags {
  host?: string;
  port?: string;
  tls?: boolean;
  tlsVerifyHost?: boolean;
  description?: string;
  permissions?: string;
  checkHost?: boolean;
  moveDestination?: boolean;
  queryRetrieve?: boolean;
  role?: string;
  device?: string;
  aet?: string;
  strict?: boolean;
  unknownCallers?: string;
  requireClientCert?: boolean;
  checkCallerHosts?: boolean;
  commitmentReport?: string;
}

function patchFrom(o: AeFlags): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  const connection: Record<string, unknown> = {};
  if (o.host !== undefined) connection.host = o.host;
  if (o.port !== undefined) connection.port = port(o.port);
  if (o.tls !== undefined) connection.tls = o.tls;
  if (o.tlsVerifyHost !== undefined) connection.tlsVerifyHost = o.tlsVerifyHost;
  if (Object.keys(connection).length) p.connection = connection;
  if (o.aet !== undefined) p.aeTitle = o.aet;
  if (o.description !== undefined) p.description = o.description;
  if (o.permissions !== undefined) p.permissions = list(o.permissions);
  if (o.checkHost !== undefined) p.checkHost = o.checkHost;
  if (o.moveDestination !== undefined) p.moveDestination = o.moveDestination;
  if (o.queryRetrieve !== undefined) p.queryRetrieve = o.queryRetrieve;
  if (o.role !== undefined) p.role = o.role;
  if (o.commitmentReport !== undefined) p.commitmentReport = o.commitmentReport;
  const policy: Record<string, unknown> = {};
  if (o.strict !== undefined) policy.strict = o.strict;
  if (o.unknownCallers !== undefined) policy.unknownCallers = list(o.unknownCallers);
  if (o.requireClientCert !== undefined) policy.requireClientCert = o.requireClientCert;
  if (o.checkCallerHosts !== undefined) policy.checkCallerHosts = o.checkCallerHosts;
  if (Object.keys(policy).length) p.policy = policy;
  return p;
}

/** A limit's value as typed: a number when it reads as one, true/false, empty for "default"; else the text, for the schema to name. */
function limitValue(text: string): unknown {
  const t = text.trim();
  if (t === '') return null;
  if (t === 'true' || t === 'false') return t === 'true';
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

function row(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => c.padEnd(widths[i]))
    .join('  ')
    .trimEnd();
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return (
    [
      row(header, widths),
      row(
        widths.map((w) => '-'.repeat(w)),
        widths,
      ),
      ...rows.map((r) => row(r, widths)),
    ].join('\n') + '\n'
  );
}

/** Where a registered AE may call from, in the HOST CHECK column. */
const HOST_CHECK = { any: 'any', loopback: 'loopback', host: 'bound' } as const;

function policyText(p: NonNullable<AeEntry['policy']>): string {
  return [
    p.strict ? 'strict' : `unknown: ${p.unknownCallers.join(',') || 'none'}`,
    ...(p.requireClientCert ? ['client cert'] : []),
    ...(p.checkCallerHosts === false ? ['host check off'] : []),
  ].join('; ');
}

function aeRows(aes: AeEntry[]): string[][] {
  return aes.map((a) => [
    a.aeTitle,
    a.role,
    a.connection.host,
    a.connection.port === undefined ? '-' : String(a.connection.port),
    a.connection.tls ? 'yes' : 'no',
    a.permissions.length === PERMISSIONS.length ? 'all' : a.permissions.join(',') || 'none',
    a.moveDestination ? 'yes' : 'no',
    HOST_CHECK[hostBinding(a).kind],
    a.policy ? policyText(a.policy) : '',
    a.description,
  ]);
}

/** Refuses a local role's new port when something already listens on it. */
async function checkRolePort(store: ConfigStore, aeTitle: string, patch: Record<string, unknown>): Promise<void> {
  const ae = findAe(store.current, aeTitle);
  const newPort = (patch.connection as { port?: unknown } | undefined)?.port;
  if (!ae || !isServerRole(ae.role) || typeof newPort !== 'number' || newPort === ae.connection.port) return;
  if (newPort >= 1 && newPort <= 65535 && !(await portAvailable(newPort, (patch.connection as { host?: string }).host ?? ae.connection.host))) {
    throw new ConfigValidationError([{ field: 'connection.port', message: `port ${newPort} is already in use on this host` }]);
  }
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description(COMMANDS.config);

  dataOption(config.command('show').description('list every AE of the registry'))
    .option('--json', 'the registry file as JSON')
    .action(async (o: StoreFlags & { json?: boolean }) => {
      const store = await openStore(o);
      const reg = store.current;
      if (o.json) {
        process.stdout.write(`${JSON.stringify(reg, null, 2)}\n`);
        return;
      }
      process.stdout.write(`registry ${store.location} (revision ${reg.revision}); web server ${reg.web.host}:${reg.web.port}\n`);
      process.stdout.write(table(['AE', 'ROLE', 'HOST', 'PORT', 'TLS', 'MAY', 'MOVE DEST', 'HOST CHECK', 'POLICY', 'DESCRIPTION'], aeRows(listAes(reg))));
      process.stdout.write(`${describeHl7(reg.hl7)}\n`);
      const limits = describeLimits(reg);
      if (limits.length) process.stdout.write(`limits in force:\n${limits.map((l) => `  ${l}\n`).join('')}`);
      const a = reg.audit;
      process.stdout.write(
        a ? `audit trail: syslog over ${a.protocol.toUpperCase()} to ${a.host}:${a.port}${a.siteId ? ` (site ${a.siteId})` : ''}\n` : 'audit trail: off\n',
      );
    });

  const ae = config.command('ae').description('add, change or remove an AE');
  const aeOptions = (cmd: Command, forSet: boolean) => {
    dataOption(cmd)
      .option('--host <host>', 'host name or IP address')
      .option('--port <port>', 'port (1-65535)')
      .option('--tls', 'connect with TLS')
      .option('--tls-verify-host', 'with --tls: check that its certificate names its host (the default)')
      .option('--no-tls-verify-host', 'with --tls: trust any certificate signed by the local CA, whatever host it names')
      .option('--description <text>', 'free text')
      .option('--permissions <list>', `what it may do at our servers, comma-separated: ${PERMISSIONS.join(',')} (a new AE: echo,store)`)
      .option('--check-host', 'accept its calls only from the address(es) of --host (the default for a new peer with a specific host)')
      .option('--no-check-host', 'accept its calls from any address')
      .option('--move-destination', 'may be the destination of a C-MOVE')
      .option('--query-retrieve', 'a peer that answers C-FIND and C-MOVE (offered as a query target in the web app)')
      .option('--commitment-report <same|new>', 'storage commitment reports: on the requesting association while open (same), or always a new one (new)');
    if (forSet) {
      cmd
        .option('--no-tls', 'connect without TLS')
        .option('--no-move-destination', 'no longer a move destination')
        .option('--no-query-retrieve', 'no longer offered as a query target')
        .option('--aet <title>', 'rename the AE')
        .option('--strict', 'server roles: refuse unknown calling AE titles')
        .option('--no-strict', 'server roles: admit unknown callers with --unknown-callers permissions')
        .option('--unknown-callers <list>', 'server roles: what unknown callers may do')
        .option('--require-client-cert', 'server roles with --tls: require a client certificate signed by <data>/tls/ca.pem')
        .option('--no-require-client-cert', 'server roles with --tls: no client certificate needed')
        .option('--check-caller-hosts', "server roles: enforce registered callers' host binding (the default)")
        .option('--no-check-caller-hosts', 'server roles: admit a registered calling AE title from any address');
    } else {
      cmd
        .option('--role <role>', 'peer (a remote AE) or client (one of ours)', 'peer')
        .option('--device <name>', 'the device it belongs to (default: one named after it)');
    }
    return cmd;
  };

  aeOptions(ae.command('add').description('register an AE: pacs config ae add AET --host HOST --port PORT').argument('<aet>'), false).action(
    async (aet: string, o: AeFlags & { data: string }) => {
      const store = await openStore(o);
      const input = {
        aeTitle: aet,
        ...patchFrom(o),
        connection: {
          host: o.host,
          ...(o.port !== undefined ? { port: port(o.port) } : {}),
          tls: o.tls ?? false,
          ...(o.tlsVerifyHost !== undefined ? { tlsVerifyHost: o.tlsVerifyHost } : {}),
        },
      };
      try {
        await store.update((reg) => addAe(reg, input, { device: o.device }));
      } catch (err) {
        throw cliMessage(err);
      }
      process.stdout.write(`added ${aet.trim()}\n`);
    },
  );

  aeOptions(ae.command('set').description('change fields of an AE (local roles included): pacs config ae set AET --port 104').argument('<aet>'), true).action(
    async (aet: string, o: AeFlags & { data: string }) => {
      const store = await openStore(o);
      const patch = patchFrom(o);
      if (Object.keys(patch).length === 0) throw new Error('nothing to change (give --host, --port, --aet, ...)');
      try {
        setAe(store.current, aet, patch); // field errors before the port probe
        await checkRolePort(store, aet, patch);
        await store.update((reg) => setAe(reg, aet, patch));
      } catch (err) {
        throw cliMessage(err, o.aet !== undefined);
      }
      process.stdout.write(`changed ${aet.trim()}\n`);
    },
  );

  dataOption(ae.command('rm').description('remove an AE').argument('<aet>'))
    .option('--force', "also remove one of this PACS's own client AEs (the web app and the command line call as PACS_CLIENT and WS_CLIENT)")
    .action(async (aet: string, o: { data: string; force?: boolean }) => {
      const store = await openStore(o);
      try {
        await store.update((reg) => removeAe(reg, aet, { force: o.force }));
      } catch (err) {
        throw cliMessage(err);
      }
      process.stdout.write(`removed ${aet.trim()}\n`);
    });

  // Add-ins (docs/plugins.md): listed in the registry, loaded by the next `pacs serve`.
  const plugin = config.command('plugin').description('add, list or remove add-ins (loaded at the next start)');
  dataOption(
    plugin
      .command('add')
      .description('list an add-in: pacs config plugin add ./plugins/webhook/index.ts --options \'{"url":"http://ris/hook"}\'')
      .argument('<module>', 'a path (absolute, or relative to the data directory) or a package name'),
  )
    .option('--name <name>', 'run it under this name instead of the one it declares (to load a module twice)')
    .option('--options <json>', 'the options handed to its factory, as a JSON object', '{}')
    .option('--timeout <seconds>', 'how long each call into it may take (default 10)', Number)
    .option('--disabled', 'list it without loading it')
    .action(async (module: string, o: { data: string; name?: string; options: string; timeout?: number; disabled?: boolean }) => {
      let options: unknown;
      try {
        options = JSON.parse(o.options);
      } catch (err) {
        throw new Error(`--options: not JSON (${(err as Error).message})`, { cause: err });
      }
      const entry = {
        module,
        ...(o.name !== undefined ? { name: o.name } : {}),
        options,
        ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}),
        enabled: !o.disabled,
      };
      const store = await openStore(o);
      try {
        await store.update((reg) => addPlugin(reg, entry));
      } catch (err) {
        throw cliMessage(err);
      }
      process.stdout.write(`add-in ${o.name ?? module} listed; it is loaded at the next start of pacs serve\n`);
    });
  dataOption(plugin.command('list').description('the add-ins of the registry, in load order')).action(async (o: { data: string }) => {
    const store = await openStore(o);
    const rows = (store.current.plugins ?? []).map((p) => [pluginKey(p), p.module, p.enabled ? 'yes' : 'no', JSON.stringify(p.options)]);
    process.stdout.write(table(['ADD-IN', 'MODULE', 'ENABLED', 'OPTIONS'], rows));
  });
  dataOption(
    plugin.command('rm').description('remove an add-in from the registry').argument('<name>', 'its name, or its module when listed without one'),
  ).action(async (key: string, o: { data: string }) => {
    const store = await openStore(o);
    try {
      await store.update((reg) => removePlugin(reg, key));
    } catch (err) {
      throw cliMessage(err);
    }
    process.stdout.write(`removed add-in ${key}\n`);
  });

  const limits = config.command('limits').description('limits and timeouts (`pacs config show` prints those in force)');
  dataOption(
    limits
      .command('set')
      .description('change limits: pacs config limits set dicom.maxAssociations=32 dicom.idleTimeoutSeconds=600 (FIELD= with no value: back to the default)')
      .argument('<assignments...>', 'SECTION.FIELD=VALUE'),
  ).action(async (assignments: string[], o: { data: string }) => {
    const patch: Record<string, Record<string, unknown>> = {};
    for (const a of assignments) {
      const m = /^([A-Za-z]\w*)\.([A-Za-z]\w*)=(.*)$/.exec(a);
      if (!m) throw new Error(`"${a}": expected SECTION.FIELD=VALUE, e.g. dicom.maxAssociations=32`);
      const [, section, field, text] = m;
      (patch[section] ??= {})[field] = limitValue(text);
    }
    const store = await openStore(o);
    try {
      await store.update((reg) => setLimits(reg, patch));
    } catch (err) {
      throw cliMessage(err);
    }
    process.stdout.write(`limits changed: ${assignments.join(' ')}\n`);
  });

  const prefetch = config.command('prefetch').description("prefetch of a patient's prior studies into the Workstation Server");
  dataOption(
    prefetch
      .command('set')
      .description(
        'change prefetch settings: pacs config prefetch set enabled=true source=ORTHANC priors=3 modalities=CT,MR onWorklist=true onArrival=true (FIELD= with no value: back to the default)',
      )
      .argument('<assignments...>', 'FIELD=VALUE'),
  ).action(async (assignments: string[], o: { data: string }) => {
    const patch: Record<string, unknown> = {};
    for (const a of assignments) {
      const eq = a.indexOf('=');
      if (eq < 1) throw new Error(`"${a}": expected FIELD=VALUE, e.g. priors=3`);
      const field = a.slice(0, eq);
      const text = a.slice(eq + 1);
      patch[field] = field === 'modalities' && text.trim() !== '' ? text.split(',').map((m) => m.trim()) : limitValue(text);
    }
    const store = await openStore(o);
    try {
      await store.update((reg) => setPrefetch(reg, patch));
    } catch (err) {
      throw cliMessage(err);
    }
    process.stdout.write(`prefetch changed: ${assignments.join(' ')}\n`);
  });

  const hl7 = config.command('hl7').description('the HL7 v2 intake of the Main Server (MLLP listener; off by default)');
  dataOption(hl7.command('set').description('change the HL7 intake: pacs config hl7 set --enable --port 2575 --allowed-hosts 10.1.2.3'))
    .option('--enable', 'listen for HL7 messages')
    .option('--disable', 'stop listening')
    .option('--host <address>', 'address to listen on (default 0.0.0.0)')
    .option('--port <port>', 'port (default 2575)')
    .option('--allowed-hosts <list>', 'IP addresses that may connect, comma-separated ("" for any)')
    .option('--max-message-bytes <n>', 'largest message (default 1048576)')
    .option('--idle-timeout <seconds>', 'close a connection silent this long (default 300)')
    .option('--max-connections <n>', 'connections at once (default 16)')
    .action(
      async (o: {
        data: string;
        enable?: boolean;
        disable?: boolean;
        host?: string;
        port?: string;
        allowedHosts?: string;
        maxMessageBytes?: string;
        idleTimeout?: string;
        maxConnections?: string;
      }) => {
        if (o.enable && o.disable) throw new Error('--enable and --disable contradict each other');
        const patch: Record<string, unknown> = {};
        if (o.enable || o.disable) patch.enabled = o.enable === true;
        if (o.host !== undefined) patch.host = o.host;
        if (o.port !== undefined) patch.port = port(o.port);
        if (o.allowedHosts !== undefined) patch.allowedHosts = o.allowedHosts.trim() === '' ? null : list(o.allowedHosts);
        if (o.maxMessageBytes !== undefined) patch.maxMessageBytes = port(o.maxMessageBytes);
        if (o.idleTimeout !== undefined) patch.idleTimeoutSeconds = port(o.idleTimeout);
        if (o.maxConnections !== undefined) patch.maxConnections = port(o.maxConnections);
        const store = await openStore(o);
        let next;
        try {
          next = await store.update((reg) => setHl7(reg, patch));
        } catch (err) {
          throw cliMessage(err);
        }
        const h = next.hl7!;
        process.stdout.write(`HL7 intake ${h.enabled ? `on ${h.host}:${h.port}` : 'off'}${h.allowedHosts ? `, from ${h.allowedHosts.join(', ')}` : ''}\n`);
      },
    );

  const audit = config.command('audit').description('where the audit trail (IHE ATNA, DICOM audit messages over syslog) goes');
  dataOption(
    audit
      .command('set')
      .description(
        'send the audit trail to a repository: pacs config audit set --host audit.example.org --port 6514 --protocol tls (options not given keep their value)',
      ),
  )
    .option('--host <host>', 'the audit repository (syslog server)')
    .option('--port <port>', 'its port (514 for UDP, 6514 for TLS by convention)', parsePort)
    .option('--protocol <udp|tls>', 'syslog over UDP (RFC 5426) or TLS (RFC 5425)')
    .option('--tls-ca <file>', "PEM CA to verify the repository with (default <data>/tls/ca.pem); '' for the default")
    .option('--tls-cert <file>', "PEM client certificate to present (default <data>/tls/client.pem when present); '' for the default")
    .option('--tls-key <file>', "its key (default <data>/tls/client-key.pem); '' for the default")
    .option('--no-verify-host', "accept the repository's certificate whatever host name it carries")
    .option('--site-id <name>', 'AuditEnterpriseSiteID of every message')
    .option('--max-queued <n>', 'messages kept while the repository is unreachable (default 10000)', (v) => Number(v))
    .action(
      async (o: {
        data: string;
        host?: string;
        port?: number;
        protocol?: string;
        tlsCa?: string;
        tlsCert?: string;
        tlsKey?: string;
        verifyHost: boolean;
        siteId?: string;
        maxQueued?: number;
      }) => {
        const orNull = (v: string | undefined) => (v === '' ? null : v);
        const patch = {
          host: o.host,
          port: o.port,
          protocol: o.protocol,
          tlsCa: orNull(o.tlsCa),
          tlsCert: orNull(o.tlsCert),
          tlsKey: orNull(o.tlsKey),
          tlsVerifyHost: o.verifyHost ? null : false,
          siteId: o.siteId,
          maxQueued: o.maxQueued,
        };
        const store = await openStore(o);
        let next;
        try {
          next = await store.update((reg) => setAudit(reg, patch));
        } catch (err) {
          throw cliMessage(err);
        }
        const a = next.audit!;
        process.stdout.write(`audit trail: syslog over ${a.protocol.toUpperCase()} to ${a.host}:${a.port}\n`);
      },
    );
  dataOption(audit.command('off').description('stop making audit messages (those queued stay in <data>/audit-queue until it is on again)')).action(
    async (o: { data: string }) => {
      const store = await openStore(o);
      await store.update((reg) => setAudit(reg, null));
      process.stdout.write('audit trail: off\n');
    },
  );

  dataOption(config.command('verify').description('C-ECHO every AE with a port (local roles and peers) and show round-trip times'))
    .option('--aet <title>', 'our calling AE title', 'PACS_CLIENT')
    .option('--timeout <seconds>', 'per AE', '10')
    .action(async (o: { data: string; aet: string; timeout: string }) => {
      const store = await openStore(o);
      const targets = listAes(store.current).filter((a) => a.connection.port !== undefined);
      const results: EchoResult[] = await Promise.all(targets.map((t) => echoAe(t, o.aet, { dataDir: store.dataDir, timeoutMs: Number(o.timeout) * 1000 })));
      process.stdout.write(
        table(
          ['AE', 'ROLE', 'ADDRESS', 'RESULT', 'TIME'],
          results.map((r, i) => [
            r.aeTitle,
            targets[i].role,
            `${r.host}:${r.port}`,
            r.ok ? 'ok' : `FAILED: ${r.error ?? ''}`,
            r.ok ? `${r.ms.toFixed(1)} ms` : '-',
          ]),
        ),
      );
      const failed = results.filter((r) => !r.ok).length;
      process.stdout.write(`${results.length - failed} of ${results.length} answered\n`);
      if (failed) process.exitCode = 1;
    });
}
