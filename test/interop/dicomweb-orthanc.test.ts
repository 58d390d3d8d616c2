/**
 * Orthanc with its DICOMweb plugin as a client of ours: Orthanc's REST API drives
 * /dicom-web/servers/pacs/{stow,get,retrieve} against a real `pacs serve` (HTTP Basic):
 * Orthanc stores a study into us with STOW-RS, lists it with QIDO-RS and retrieves it back
 * with WADO-RS, the data sets unchanged.
 */
import { sqliteIndex } from './serve-index.js';
import { dicomwebOrthancSuite } from './dicomweb-orthanc-suite.js';

dicomwebOrthancSuite(sqliteIndex());
