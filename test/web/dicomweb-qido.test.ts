/** QIDO-RS (fastify inject): C-FIND matching through the archive's query, returned attributes, paging, bad parameters. */
import { startHarness } from './dicomweb-setup.js';
import { qidoSuite } from './dicomweb-qido-suite.js';

qidoSuite('SQLite index', () => startHarness());
