/** QIDO-RS with the Main Server's index in PostgreSQL (127.0.0.1:5432, database test): the same suite as dicomweb-qido.test.ts. */
import { startHarness } from './dicomweb-setup.js';
import { qidoSuite } from './dicomweb-qido-suite.js';

qidoSuite('PostgreSQL index', () => startHarness({ postgres: true }));
