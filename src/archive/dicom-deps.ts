/**
 * Everything the archive uses from src/dicom, in one place (layer rule: the archive
 * imports src/dicom only).
 */
import type { Dataset } from '../dicom/dataset.js';
import { datasetToJsonText } from '../dicom/dataset-json.js';

export { DatasetHeaderReader } from '../dicom/dataset-reader.js';
export { getNumber, getString, type Dataset } from '../dicom/dataset.js';
export { DatasetLimitError } from '../dicom/errors.js';
export { formatTag } from '../dicom/tag.js';
export { quoteValue, uidProblem } from '../dicom/uids.js';
export { buildMetaHeader, readMetaHeader } from '../dicom/part10.js';

/** DICOM JSON text (PS3.18 F.2) of the dataset's non-bulk attributes (the reader stopped at Pixel Data). */
export function datasetJsonText(ds: Dataset): string {
  return datasetToJsonText(ds);
}
