/** The web side of the audit trail (IHE ATNA): who a request's user is, as its audit messages name them. */
import type { FastifyRequest } from 'fastify';
import type { WebActor } from '../audit/index.js';
import { serverAe, type Registry, type ServerRole } from '../config/index.js';

/** The logged-in user (or "anonymous" on an open DICOMweb read) and the client's address. */
export const webActor = (req: FastifyRequest, user?: string): WebActor => ({ user: user ?? req.identity?.name ?? 'anonymous', address: req.ip });

/** The AE title a role's web services are audited as (the archive they serve). */
export const auditedAs = (reg: Registry, role: ServerRole): string => serverAe(reg, role)?.aeTitle ?? role;

/** Study Root Query/Retrieve Information Model - FIND: the SOP class a QIDO-RS search is audited under (A.5.3.10 names a SOP class). */
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
