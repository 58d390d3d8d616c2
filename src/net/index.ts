// Public API of the DICOM upper layer (PS3.8).
export * from './pdu.js';
export {
  decodePdu,
  decodePduBody,
  encodePdu,
  encodePDataTfHeader,
  encodeAeTitle,
  isValidAeTitle,
  PDATA_HEADER_LENGTH,
  PDU_HEADER_LENGTH,
} from './pdu-codec.js';
export { PduFramer, type FramedPdu, type PduFramerOptions } from './pdu-framer.js';
export * from './state-machine.js';
export * from './errors.js';
export * from './reasons.js';
export {
  negotiatePresentationContexts,
  negotiateRoleSelections,
  type AbstractSyntaxSupport,
  type NegotiationOptions,
  type RoleSupport,
} from './negotiation.js';
export { Association, type AcceptedContext, type AbortInfo, type AssociationEventMap, type ClosedInfo } from './association.js';
export {
  createAcceptor,
  DEFAULT_MAX_PDU_LENGTH,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  type Acceptor,
  type AcceptorOptions,
  type LiveLimit,
  type AcceptDecision,
  type AcceptDecisionAccept,
  type AcceptDecisionReject,
  type PeerInfo,
  type NetLogger,
} from './acceptor.js';
export { connect, type ConnectOptions, type ProposedContext } from './requestor.js';
export { TlsHandshakeError, tlsFailure } from './tls-failure.js';
