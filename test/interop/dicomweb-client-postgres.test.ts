/** dicomweb-client against a `pacs serve` whose Main Server index is in PostgreSQL (127.0.0.1:5432, database test): the suite of dicomweb-client.test.ts. */
import { postgresIndex } from './serve-index.js';
import { dicomwebClientSuite } from './dicomweb-client-suite.js';

dicomwebClientSuite(postgresIndex());
