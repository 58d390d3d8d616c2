/** The WADO-RS metadata cache with the Main Server's index in PostgreSQL: the same suite as metadata-cache.test.ts. */
import { startHarness } from './dicomweb-setup.js';
import { metadataCacheSuite } from './metadata-cache-suite.js';

metadataCacheSuite('PostgreSQL index', () => startHarness({ postgres: true }));
