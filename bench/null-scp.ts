// A Storage SCP on this project's network and DIMSE stack that keeps nothing ('discard') or
// writes each instance to a folder, without fsync or index ('folder': the storage service of
// `pacs get`/`pacs move`), to split the archive's CPU per instance into transport and the
// rest. Run it under bench/ingest-profile.ts:
//   npx tsx bench/ingest-profile.ts --cmd "node --import tsx/esm bench/null-scp.ts discard {data} {port} {aet}"
import pino from 'pino';
import { CommandField } from '../src/dimse/command-fields.js';
import { ServiceRegistry, type ServiceClassProvider } from '../src/dimse/service.js';
import { STORAGE_SOP_CLASS_UIDS } from '../src/dicom/uids.js';
import { startDicomServer } from '../src/roles/dicom-server.js';
import { folderStorageService } from '../src/services/qr-scu.js';

const [mode, dir, port, aet] = process.argv.slice(2);
if ((mode !== 'discard' && mode !== 'folder') || !dir || !port || !aet) {
  console.error('usage: null-scp.ts discard|folder <dir> <port> <aet>');
  process.exit(2);
}
const discard: ServiceClassProvider = {
  name: 'discard',
  sopClasses: STORAGE_SOP_CLASS_UIDS,
  streamingHandlers: {
    [CommandField.C_STORE_RQ]: () => ({ write: () => undefined, end: () => Promise.resolve({ status: 0 }), abort: () => Promise.resolve() }),
  },
};
const registry = new ServiceRegistry([mode === 'folder' ? folderStorageService(dir) : discard]);
await startDicomServer({ aeTitle: aet, port: Number(port), registry, logger: pino({ level: 'silent' }) });
