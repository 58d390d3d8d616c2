/** WADO-RS instances and metadata, access and errors with the Main Server's index in PostgreSQL (127.0.0.1:5432, database test): the same suite as dicomweb-wado.test.ts. */
import { startHarness } from './dicomweb-setup.js';
import { wadoSuite } from './dicomweb-wado-suite.js';

wadoSuite('PostgreSQL index', () => startHarness({ postgres: true }));
