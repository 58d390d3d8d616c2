/** The `pacs` command line. Options follow DCMTK's habits (-aet, -aec, HOST PORT). */
import { Command } from 'commander';
import { OWNER_ONLY_UMASK } from '../config/owner-only.js';
import { COMMANDS, isCommandName, type CommandName } from './commands.js';
import { normalizeArgv } from './options.js';

// Everything this process creates (data directory, archives, indexes, thumbnails, retrieved
// files) is owner-only: see src/config/owner-only.ts.
process.umask(OWNER_ONLY_UMASK);

const argv = normalizeArgv(process.argv);
const program = new Command('pacs').description('open PACS: DICOM archive, router and viewer').showHelpAfterError('(run with --help for usage)');

// Each command's module pulls in the network stack, the archive or the web server: only the
// module of the command being run is loaded, so `pacs --help` and `pacs echo` start fast.
type Register = (program: Command) => void;
/** The module defining each command (several commands may share one). */
const COMMAND_MODULES: Record<CommandName, () => Promise<Register>> = {
  serve: async () => (await import('./serve.js')).registerServe,
  echo: async () => (await import('./client-commands.js')).registerClientCommands,
  store: async () => (await import('./client-commands.js')).registerClientCommands,
  find: async () => (await import('./qr-commands.js')).registerQueryRetrieveCommands,
  move: async () => (await import('./qr-commands.js')).registerQueryRetrieveCommands,
  get: async () => (await import('./qr-commands.js')).registerQueryRetrieveCommands,
  commit: async () => (await import('./workflow-commands.js')).registerWorkflowCommands,
  worklist: async () => (await import('./workflow-commands.js')).registerWorkflowCommands,
  mpps: async () => (await import('./workflow-commands.js')).registerWorkflowCommands,
  config: async () => (await import('./config-commands.js')).registerConfigCommands,
  router: async () => (await import('./router-commands.js')).registerRouterCommands,
  tls: async () => (await import('./tls-commands.js')).registerTlsCommands,
  user: async () => (await import('./user-commands.js')).registerUserCommands,
  log: async () => (await import('./log-command.js')).registerLogCommand,
  status: async () => (await import('./status-command.js')).registerStatusCommand,
};

// The command being run (`pacs echo ...`, or `pacs help echo`): only its module is loaded.
// Otherwise (`pacs`, `pacs --help`, a mistyped command) every command is listed from the
// table, without loading any.
const args = argv.slice(2);
const named = args[0] === 'help' ? args[1] : args[0];
if (isCommandName(named)) {
  (await COMMAND_MODULES[named]())(program);
} else {
  for (const [name, description] of Object.entries(COMMANDS)) program.command(name).description(description);
}

program.parseAsync(argv).catch((err: Error) => {
  process.stderr.write(`pacs: ${err.message}\n`);
  process.exit(1);
});
