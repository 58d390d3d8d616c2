// The DICOM Upper Layer Protocol state machine (PS3.8 9.2) as data: states, events,
// actions and one transition table keyed by (event, state). `transition` is pure;
// the association driver (association.ts) performs the actions.

export const STATES = {
  Sta1: 'Idle',
  Sta2: 'Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive (from local user)',
  Sta4: 'Awaiting transport connection opening to complete (from local transport service)',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  Sta6: 'Association established and ready for data transfer',
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive (from local user)',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response (from local user)',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)',
  Sta13: 'Awaiting Transport Connection Close Indication (Association no longer exists)',
} as const;
export type State = keyof typeof STATES;

export const EVENTS = {
  Evt1: 'A-ASSOCIATE Request (local user)',
  Evt2: 'Transport Connect Confirm (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU (received on transport connection)',
  Evt4: 'A-ASSOCIATE-RJ PDU (received on transport connection)',
  Evt5: 'Transport Connection Indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU (received on transport connection)',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU',
  Evt11: 'A-RELEASE Request primitive',
  Evt12: 'A-RELEASE-RQ PDU (received on open transport connection)',
  Evt13: 'A-RELEASE-RP PDU (received on transport connection)',
  Evt14: 'A-RELEASE response primitive',
  Evt15: 'A-ABORT Request primitive',
  Evt16: 'A-ABORT PDU (received on open transport connection)',
  Evt17: 'Transport connection closed indication (local transport service)',
  Evt18: 'ARTIM timer expired (Association reject/release timer)',
  Evt19: 'Unrecognized or invalid PDU received',
} as const;
export type Event = keyof typeof EVENTS;

/** Conditions some actions branch on (AE-6, AR-8). */
export interface TransitionContext {
  /** AR-8: this side is the association-requestor. */
  isRequestor?: boolean;
  /** AE-6: the A-ASSOCIATE-RQ is acceptable by the service-provider. Default true. */
  rqAcceptable?: boolean;
}

interface ActionDef {
  description: string;
  next: State | ((c: TransitionContext) => State);
}

export const ACTIONS = {
  'AE-1': { description: 'Issue TRANSPORT CONNECT request primitive to local transport service', next: 'Sta4' },
  'AE-2': { description: 'Send A-ASSOCIATE-RQ-PDU', next: 'Sta5' },
  'AE-3': { description: 'Issue A-ASSOCIATE confirmation (accept) primitive', next: 'Sta6' },
  'AE-4': { description: 'Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection', next: 'Sta1' },
  'AE-5': { description: 'Issue Transport connection response primitive; start ARTIM timer', next: 'Sta2' },
  'AE-6': {
    description:
      'Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider: issue A-ASSOCIATE indication primitive (next Sta3); otherwise issue A-ASSOCIATE-RJ-PDU and start ARTIM timer (next Sta13)',
    next: (c) => (c.rqAcceptable === false ? 'Sta13' : 'Sta3'),
  },
  'AE-7': { description: 'Send A-ASSOCIATE-AC PDU', next: 'Sta6' },
  'AE-8': { description: 'Send A-ASSOCIATE-RJ PDU and start ARTIM timer', next: 'Sta13' },
  'DT-1': { description: 'Send P-DATA-TF PDU', next: 'Sta6' },
  'DT-2': { description: 'Send P-DATA indication primitive', next: 'Sta6' },
  'AR-1': { description: 'Send A-RELEASE-RQ PDU', next: 'Sta7' },
  'AR-2': { description: 'Issue A-RELEASE indication primitive', next: 'Sta8' },
  'AR-3': { description: 'Issue A-RELEASE confirmation primitive, and close transport connection', next: 'Sta1' },
  'AR-4': { description: 'Issue A-RELEASE-RP PDU and start ARTIM timer', next: 'Sta13' },
  'AR-5': { description: 'Stop ARTIM timer', next: 'Sta1' },
  'AR-6': { description: 'Issue P-DATA indication', next: 'Sta7' },
  'AR-7': { description: 'Issue P-DATA-TF PDU', next: 'Sta8' },
  'AR-8': {
    description: 'Issue A-RELEASE indication (release collision): if association-requestor next Sta9, if not next Sta10',
    next: (c) => (c.isRequestor ? 'Sta9' : 'Sta10'),
  },
  'AR-9': { description: 'Send A-RELEASE-RP PDU', next: 'Sta11' },
  'AR-10': { description: 'Issue A-RELEASE confirmation primitive', next: 'Sta12' },
  'AA-1': { description: 'Send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer', next: 'Sta13' },
  'AA-2': { description: 'Stop ARTIM timer if running. Close transport connection', next: 'Sta1' },
  'AA-3': {
    description:
      'If (service-user initiated abort): issue A-ABORT indication and close transport connection; otherwise (service-provider initiated abort): issue A-P-ABORT indication and close transport connection',
    next: 'Sta1',
  },
  'AA-4': { description: 'Issue A-P-ABORT indication primitive', next: 'Sta1' },
  'AA-5': { description: 'Stop ARTIM timer', next: 'Sta1' },
  'AA-6': { description: 'Ignore PDU', next: 'Sta13' },
  'AA-7': { description: 'Send A-ABORT PDU', next: 'Sta13' },
  'AA-8': { description: 'Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer', next: 'Sta13' },
} as const satisfies Record<string, ActionDef>;
export type Action = keyof typeof ACTIONS;

const ESTABLISHED_AND_RELEASE: State[] = ['Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12'];
type Row = Partial<Record<State, Action>>;
function row(cells: Row, rest?: { states: State[]; action: Action }): Row {
  const r: Row = {};
  if (rest) for (const s of rest.states) r[s] = rest.action;
  return Object.assign(r, cells);
}

/** PS3.8 Table 9-10, one row per event. An absent cell is not a valid (event, state) pair. */
export const TRANSITION_TABLE: Record<Event, Row> = {
  Evt1: { Sta1: 'AE-1' },
  Evt2: { Sta4: 'AE-2' },
  Evt3: row({ Sta2: 'AA-1', Sta3: 'AA-8', Sta5: 'AE-3', Sta13: 'AA-6' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-8' }),
  Evt4: row({ Sta2: 'AA-1', Sta3: 'AA-8', Sta5: 'AE-4', Sta13: 'AA-6' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-8' }),
  Evt5: { Sta1: 'AE-5' },
  Evt6: row({ Sta2: 'AE-6', Sta3: 'AA-8', Sta5: 'AA-8', Sta13: 'AA-7' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-8' }),
  Evt7: { Sta3: 'AE-7' },
  Evt8: { Sta3: 'AE-8' },
  Evt9: { Sta6: 'DT-1', Sta8: 'AR-7' },
  Evt10: row({ Sta2: 'AA-1', Sta3: 'AA-8', Sta5: 'AA-8', Sta6: 'DT-2', Sta7: 'AR-6', Sta13: 'AA-6' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-8' }),
  Evt11: { Sta6: 'AR-1' },
  Evt12: row({ Sta2: 'AA-1', Sta3: 'AA-8', Sta5: 'AA-8', Sta6: 'AR-2', Sta7: 'AR-8', Sta13: 'AA-6' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-8' }),
  Evt13: row(
    { Sta2: 'AA-1', Sta3: 'AA-8', Sta5: 'AA-8', Sta7: 'AR-3', Sta10: 'AR-10', Sta11: 'AR-3', Sta13: 'AA-6' },
    { states: ESTABLISHED_AND_RELEASE, action: 'AA-8' },
  ),
  Evt14: { Sta8: 'AR-4', Sta9: 'AR-9', Sta12: 'AR-4' },
  Evt15: row({ Sta3: 'AA-1', Sta4: 'AA-2', Sta5: 'AA-1' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-1' }),
  Evt16: row({ Sta2: 'AA-2', Sta3: 'AA-3', Sta5: 'AA-3', Sta13: 'AA-2' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-3' }),
  Evt17: row({ Sta2: 'AA-5', Sta3: 'AA-4', Sta4: 'AA-4', Sta5: 'AA-4', Sta13: 'AR-5' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-4' }),
  Evt18: { Sta2: 'AA-2', Sta13: 'AR-5' },
  Evt19: row({ Sta2: 'AA-1', Sta3: 'AA-8', Sta5: 'AA-8', Sta13: 'AA-7' }, { states: ESTABLISHED_AND_RELEASE, action: 'AA-8' }),
};

/** Events that are PDUs received from the peer. */
export const PDU_EVENTS: readonly Event[] = ['Evt3', 'Evt4', 'Evt6', 'Evt10', 'Evt12', 'Evt13', 'Evt16', 'Evt19'];
/** Events that are primitives issued by the local user. */
export const LOCAL_USER_EVENTS: readonly Event[] = ['Evt1', 'Evt7', 'Evt8', 'Evt9', 'Evt11', 'Evt14', 'Evt15'];

export type Transition = { action: Action; next: State; valid: true } | { action: null; next: State; valid: false };

/**
 * The action and next state for `event` in `state`. A missing cell is an invalid
 * event: the state does not change and `valid` is false. The driver then refuses a
 * local-user primitive (InvalidStateError) and ignores a stale timer or transport
 * indication; a PDU received in a state without a connection (Sta1, Sta4) cannot occur.
 */
export function transition(state: State, event: Event, ctx: TransitionContext = {}): Transition {
  const action = TRANSITION_TABLE[event][state];
  if (!action) return { action: null, next: state, valid: false };
  const def: ActionDef = ACTIONS[action];
  const next = typeof def.next === 'function' ? def.next(ctx) : def.next;
  return { action, next, valid: true };
}
