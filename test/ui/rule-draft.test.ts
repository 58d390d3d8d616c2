// The rules page's draft of a rule, what it sends, and where a server error is shown.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../ui/src/api.js';
import { fieldOf, issuesOf, newDraft, sameRule, summaryOf, toDraft, toRule } from '../../ui/src/rule-draft.js';

describe('rule drafts', () => {
  it('send the trimmed name and the changes with a key; an empty value removes the attribute', () => {
    const d = {
      ...newDraft(),
      name: ' ct ',
      destinations: ['WS'],
      changes: [
        ['InstitutionName', 'X'],
        [' ', 'ignored'],
        ['StationName', ''],
      ] as [string, string][],
    };
    expect(toRule(d)).toEqual({
      name: 'ct',
      condition: 'true',
      destinations: ['WS'],
      changes: { InstitutionName: 'X', StationName: null },
      continue: false,
      enabled: true,
    });
  });

  it('send a discarding rule with no destinations, no changes and no continue', () => {
    const d = { ...newDraft(), name: 'drop', destinations: ['WS'], changes: [['StationName', 'x']] as [string, string][], continue: true, discard: true };
    expect(toRule(d)).toEqual({ name: 'drop', condition: 'true', destinations: [], changes: {}, continue: false, enabled: true, discard: true });
    expect(summaryOf(d)).toBe('true \u2192 (discard)');
  });

  it('round-trip a stored rule, and tell when the server stored something else', () => {
    const stored = {
      name: 'a',
      condition: 'Modality == "CT"',
      destinations: ['WS', 'PACS2'],
      changes: { StationName: null, InstitutionName: 'X' },
      continue: true,
      enabled: false,
    };
    expect(toRule(toDraft(stored))).toEqual(stored);
    expect(sameRule(stored, { ...stored, changes: { InstitutionName: 'X', StationName: null } })).toBe(true);
    expect(sameRule(stored, { ...stored, destinations: ['PACS2', 'WS'] })).toBe(false);
    expect(sameRule(stored, { ...stored, condition: 'true' })).toBe(false);
    expect(sameRule(stored, { ...stored, discard: false })).toBe(true);
    expect(summaryOf(toDraft(stored))).toBe('Modality == "CT" \u2192 WS, PACS2 (continue) (disabled)');
  });

  it('map a server field to the rule and the form field it names', () => {
    expect(fieldOf('rules[2].changes.StationName')).toEqual([2, 'changes']);
    expect(fieldOf('destinations[0]')).toEqual([undefined, 'destinations']);
    expect(fieldOf('')).toEqual([undefined, 'general']);
    const problem = { type: 'about:blank', title: 'Bad request', status: 400, detail: 'bad name', field: 'name' };
    expect(issuesOf(new ApiError(problem))).toEqual([{ field: 'name', message: 'bad name' }]);
    expect(issuesOf(new ApiError({ ...problem, errors: [{ field: 'condition', message: 'x' }] }))).toEqual([{ field: 'condition', message: 'x' }]);
  });
});
