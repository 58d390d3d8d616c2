/** Orthanc's DICOMweb plugin against a `pacs serve` whose Main Server index is in PostgreSQL (127.0.0.1:5432, database test): the suite of dicomweb-orthanc.test.ts. */
import { postgresIndex } from './serve-index.js';
import { dicomwebOrthancSuite } from './dicomweb-orthanc-suite.js';

dicomwebOrthancSuite(postgresIndex());
