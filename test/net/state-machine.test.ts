import { describe, expect, it } from 'vitest';
import { ACTIONS, EVENTS, STATES, TRANSITION_TABLE, transition, type Event, type State } from '../../src/net/state-machine.js';

// PS3.8 Table 9-10 transcribed as a grid, columns Sta1..Sta13 ('.' = no cell).
const GRID: Record<Event, string> = {
  Evt1: 'AE-1 . . . . . . . . . . . .',
  Evt2: '. . . AE-2 . . . . . . . . .',
  Evt3: '. AA-1 AA-8 . AE-3 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-6',
  Evt4: '. AA-1 AA-8 . AE-4 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-6',
  Evt5: 'AE-5 . . . . . . . . . . . .',
  Evt6: '. AE-6 AA-8 . AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-7',
  Evt7: '. . AE-7 . . . . . . . . . .',
  Evt8: '. . AE-8 . . . . . . . . . .',
  Evt9: '. . . . . DT-1 . AR-7 . . . . .',
  Evt10: '. AA-1 AA-8 . AA-8 DT-2 AR-6 AA-8 AA-8 AA-8 AA-8 AA-8 AA-6',
  Evt11: '. . . . . AR-1 . . . . . . .',
  Evt12: '. AA-1 AA-8 . AA-8 AR-2 AR-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-6',
  Evt13: '. AA-1 AA-8 . AA-8 AA-8 AR-3 AA-8 AA-8 AR-10 AR-3 AA-8 AA-6',
  Evt14: '. . . . . . . AR-4 AR-9 . . AR-4 .',
  Evt15: '. . AA-1 AA-2 AA-1 AA-1 AA-1 AA-1 AA-1 AA-1 AA-1 AA-1 .',
  Evt16: '. AA-2 AA-3 . AA-3 AA-3 AA-3 AA-3 AA-3 AA-3 AA-3 AA-3 AA-2',
  Evt17: '. AA-5 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AR-5',
  Evt18: '. AA-2 . . . . . . . . . . AR-5',
  Evt19: '. AA-1 AA-8 . AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-8 AA-7',
};

// Next state of each action (PS3.8 Tables 9-6 to 9-9); conditional ones tested separately.
const NEXT: Record<string, State> = {
  'AE-1': 'Sta4',
  'AE-2': 'Sta5',
  'AE-3': 'Sta6',
  'AE-4': 'Sta1',
  'AE-5': 'Sta2',
  'AE-7': 'Sta6',
  'AE-8': 'Sta13',
  'DT-1': 'Sta6',
  'DT-2': 'Sta6',
  'AR-1': 'Sta7',
  'AR-2': 'Sta8',
  'AR-3': 'Sta1',
  'AR-4': 'Sta13',
  'AR-5': 'Sta1',
  'AR-6': 'Sta7',
  'AR-7': 'Sta8',
  'AR-9': 'Sta11',
  'AR-10': 'Sta12',
  'AA-1': 'Sta13',
  'AA-2': 'Sta1',
  'AA-3': 'Sta1',
  'AA-4': 'Sta1',
  'AA-5': 'Sta1',
  'AA-6': 'Sta13',
  'AA-7': 'Sta13',
  'AA-8': 'Sta13',
};

const states = Object.keys(STATES) as State[];
const events = Object.keys(EVENTS) as Event[];

it('names 13 states, 19 events and the standard actions', () => {
  expect(states).toEqual(Array.from({ length: 13 }, (_, i) => `Sta${i + 1}`));
  expect(events).toEqual(Array.from({ length: 19 }, (_, i) => `Evt${i + 1}`));
  expect(Object.keys(ACTIONS).sort()).toEqual(
    [
      ...['1', '2', '3', '4', '5', '6', '7', '8'].map((n) => `AE-${n}`),
      'DT-1',
      'DT-2',
      ...Array.from({ length: 10 }, (_, i) => `AR-${i + 1}`),
      ...Array.from({ length: 8 }, (_, i) => `AA-${i + 1}`),
    ].sort(),
  );
  expect(Object.keys(TRANSITION_TABLE)).toEqual(events);
});

for (const [si, state] of states.entries()) {
  describe(`${state}: ${STATES[state]}`, () => {
    for (const event of events) {
      const expected = GRID[event].split(' ')[si];
      it(`${event} (${EVENTS[event]}) -> ${expected === '.' ? 'no cell' : expected}`, () => {
        const t = transition(state, event);
        if (expected === '.') {
          expect(t).toEqual({ action: null, next: state, valid: false });
          return;
        }
        expect(t.action).toBe(expected);
        expect(t.valid).toBe(true);
        if (expected === 'AE-6') {
          expect(transition(state, event, { rqAcceptable: true }).next).toBe('Sta3');
          expect(transition(state, event, { rqAcceptable: false }).next).toBe('Sta13');
        } else if (expected === 'AR-8') {
          expect(transition(state, event, { isRequestor: true }).next).toBe('Sta9');
          expect(transition(state, event, { isRequestor: false }).next).toBe('Sta10');
        } else {
          expect(t.next).toBe(NEXT[expected]);
        }
      });
    }
  });
}
