/** The `pacs` command line. Options follow DCMTK's habits (-aet, -aec, HOST PORT). */
import { Command } from 'commander';
import { OWNER_ONLY_UMASK } from '../config/index.js';
import { registerClientCommands } from './client-commands.js';
import { registerQueryRetrieveCommands } from './qr-commands.js';
import { registerConfigCommands } from './config-commands.js';
import { normalizeArgv } from './options.js';
import { registerRouterCommands } from './router-commands.js';
import { registerServe } from './serve.js';
import { registerTlsCommands } from './tls-commands.js';
import { registerUserCommands } from './user-commands.js';
import { registerWorkflowCommands } from './workflow-commands.js';

// Everything this process creates (data directory, archives, indexes, thumbnails, retrieved
// files) is owner-only: see src/config/owner-only.ts.
process.umask(OWNER_ONLY_UMASK);

const program = new Command('pacs').description('open PACS: DICOM archive, router and viewer').showHelpAfterError('(run with --help for usage)');

registerServe(program);
registerClientCommands(program);
registerQueryRetrieveCommands(program);
registerConfigCommands(program);
registerWorkflowCommands(program);
registerRouterCommands(program);
registerTlsCommands(program);
registerUserCommands(program);

program.parseAsync(normalizeArgv(process.argv)).catch((err: Error) => {
  process.stderr.write(`pacs: ${err.message}\n`);
  process.exit(1);
});
