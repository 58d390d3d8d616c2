/** WADO-RS instances and metadata, and the scope's authentication, CORS and errors (fastify inject). */
import { startHarness } from './dicomweb-setup.js';
import { wadoSuite } from './dicomweb-wado-suite.js';

wadoSuite('SQLite index', () => startHarness());
