/**
 * DICOMweb against a real `pacs serve` with the npm dicomweb-client (the library OHIF
 * uses): STOW-RS, QIDO-RS, WADO-RS instances (bytes as stored with transfer-syntax=*)
 * and metadata, over HTTP with Basic authentication.
 */
import { sqliteIndex } from './serve-index.js';
import { dicomwebClientSuite } from './dicomweb-client-suite.js';

dicomwebClientSuite(sqliteIndex());
