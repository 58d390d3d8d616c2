/** The `pacs` command line. Options follow DCMTK's habits (-aet, -aec, HOST PORT). */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import pino from 'pino';
import { registerClientCommands } from './client-commands.js';
import { normalizeArgv, parseAeTitle, parsePort, parsePositiveInt } from './options.js';
import { startMainServer } from '../roles/main-server.js';

const program = new Command('pacs').description('open PACS: DICOM archive, router and viewer').showHelpAfterError('(run with --help for usage)');

program
  .command('serve')
  .description('start the PACS server roles')
  .option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data')
  .option('--aet <title>', 'AE title of the Main Server', parseAeTitle, 'PACS')
  .option('--port <port>', 'DICOM port of the Main Server', parsePort, 11112)
  .option('--host <address>', 'address to listen on', '0.0.0.0')
  .option('--database-url <url>', 'PostgreSQL index instead of the embedded SQLite', process.env.PACS_DATABASE_URL)
  .option('--database-schema <name>', 'PostgreSQL schema of the index', process.env.PACS_DATABASE_SCHEMA ?? 'pacs')
  .addOption(
    new Option('--duplicates <policy>', 'a SOP Instance UID already stored: keep the stored copy, replace it, or reject the new one')
      .choices(['keep', 'replace', 'reject'])
      .default('keep'),
  )
  .option('--max-pdu <bytes>', 'largest PDU we accept', parsePositiveInt)
  .option('--max-associations <n>', 'concurrent associations', parsePositiveInt)
  .option('--idle-timeout <seconds>', 'abort an association silent for this long', parsePositiveInt)
  .option('--log-level <level>', 'trace|debug|info|warn|error', process.env.PACS_LOG_LEVEL ?? 'info')
  .action(async (o) => {
    const logger = pino({ level: o.logLevel });
    const server = await startMainServer({
      aeTitle: o.aet,
      port: o.port,
      host: o.host,
      dataDir: resolve(o.data),
      index: o.databaseUrl ? { postgres: o.databaseUrl, schema: o.databaseSchema } : 'sqlite',
      duplicatePolicy: o.duplicates,
      logger,
      maxPduLength: o.maxPdu,
      maxAssociations: o.maxAssociations,
      idleTimeoutMs: o.idleTimeout ? o.idleTimeout * 1000 : undefined,
    });
    const stop = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

registerClientCommands(program);

program.parseAsync(normalizeArgv(process.argv)).catch((err: Error) => {
  process.stderr.write(`pacs: ${err.message}\n`);
  process.exit(1);
});
