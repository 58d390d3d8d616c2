/**
 * The top-level commands and their one-line descriptions: main.ts lists them for
 * `pacs --help` without loading any command's module, and each module takes its
 * description from here.
 */
export const COMMANDS = {
  serve: 'start the PACS: Main Server, Workstation Server, Router and the web server, from the AE registry in the data directory',
  echo: 'C-ECHO a peer: pacs echo [HOST PORT]',
  store: 'C-STORE files and folders (recursive): pacs store [HOST PORT] FILES...',
  find: 'C-FIND: pacs find [HOST PORT] -k QueryRetrieveLevel=STUDY -k PatientName=DOE*',
  move: 'C-MOVE: pacs move [HOST PORT] --aem DEST -k StudyInstanceUID=...',
  get: 'C-GET into a folder: pacs get [HOST PORT] --od DIR -k StudyInstanceUID=...',
  commit: 'Storage Commitment: pacs commit [HOST PORT] FILES|DIRS|SOPCLASS:SOPINSTANCE... (waits for the report)',
  worklist: 'the Modality Worklist: scheduled procedure steps (add, list, rm) and the MWL query',
  mpps: 'Modality Performed Procedure Step SCU: create (IN PROGRESS) and set (COMPLETED, DISCONTINUED)',
  config: 'the AE registry: show, change, verify',
  router: 'router rules and forward queue',
  tls: 'DICOM TLS certificates in the data directory',
  user: 'users of the web app and REST API',
  status: 'the nodes serving this PACS: with PostgreSQL every node the database knows (roles, ports, version, last heartbeat)',
  log: 'the activity log: associations, stores, queries, logins, deletions, exports: pacs log [--follow] [--aet AE]',
} as const;

export type CommandName = keyof typeof COMMANDS;

export const isCommandName = (s: string | undefined): s is CommandName => s !== undefined && Object.hasOwn(COMMANDS, s);
