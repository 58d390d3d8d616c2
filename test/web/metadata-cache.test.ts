/** The WADO-RS metadata cache with the SQLite index. */
import { startHarness } from './dicomweb-setup.js';
import { metadataCacheSuite } from './metadata-cache-suite.js';

metadataCacheSuite('SQLite index', () => startHarness());
