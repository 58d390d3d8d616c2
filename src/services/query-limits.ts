/**
 * The cost limits of C-FIND queries (Query/Retrieve and Modality Worklist) and the failure
 * a query past them ends with: 0xA700 Refused: Out of Resources (PS3.4 C.4.1.1.4, K.4.1.1.4),
 * the resource being the work one query may take, with an Error Comment that names the
 * limit and says how to get an answer (DIMSE comments hold 64 characters).
 */
import type { QueryCost, QueryLimitError } from '../archive/query.js';
import type { QueryLimits } from '../config/limits.js';
import { Status } from '../dicom/status.js';
import { DimseServiceError } from '../dimse/errors.js';

/** Where a service reads the limits in force (per query, so a registry change applies at once). */
export type QueryLimitsSource = () => Partial<QueryLimits> | undefined;

export function queryCost(source: QueryLimitsSource | undefined): QueryCost {
  const l = source?.() ?? {};
  return { maxRowsExamined: l.maxRowsExamined, maxSeconds: l.maxSeconds };
}

/** The C-FIND failure for a query that hit a limit, e.g. "query limit: >1000000 rows examined; add keys to narrow it". */
export function queryLimitFailure(err: QueryLimitError): DimseServiceError {
  const what = err.limit === 'rows' ? `>${err.value} rows examined` : `>${err.value} s of work`;
  return new DimseServiceError(Status.OutOfResources, `query limit: ${what}; add keys to narrow it`);
}
