// A router rule as the rules page edits it, and the server's field errors mapped to the
// rule and field they name. No DOM.
import { ApiError, type FieldIssue, type Rule } from './api.js';

/** What a rule's form holds; changes as rows so a half-typed keyword is kept. */
export interface Draft {
  name: string;
  condition: string;
  destinations: string[];
  changes: [string, string][];
  continue: boolean;
  enabled: boolean;
  discard: boolean;
}

export const newDraft = (): Draft => ({ name: '', condition: 'true', destinations: [], changes: [], continue: false, enabled: true, discard: false });

export const toDraft = (r: Rule): Draft => ({
  name: r.name,
  condition: r.condition,
  destinations: [...r.destinations],
  changes: Object.entries(r.changes).map(([k, v]) => [k, v ?? '']),
  continue: r.continue,
  enabled: r.enabled,
  discard: r.discard === true,
});

/**
 * The rule to send. The name is trimmed as the server stores it. An empty value removes the
 * attribute from the forwarded copy. A rule that discards sends nothing, changes nothing and stops.
 */
export const toRule = (d: Draft): Rule =>
  d.discard
    ? { name: d.name.trim(), condition: d.condition, destinations: [], changes: {}, continue: false, enabled: d.enabled, discard: true }
    : {
        name: d.name.trim(),
        condition: d.condition,
        destinations: d.destinations,
        changes: Object.fromEntries(d.changes.filter(([k]) => k.trim() !== '').map(([k, v]) => [k.trim(), v === '' ? null : v])),
        continue: d.continue,
        enabled: d.enabled,
      };

/** Whether two rules say the same (the form needs no refresh after a save that stored what it sent). */
export function sameRule(a: Rule, b: Rule): boolean {
  const changes = (r: Rule) => JSON.stringify(Object.entries(r.changes).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return (
    a.name === b.name &&
    a.condition === b.condition &&
    a.continue === b.continue &&
    a.enabled === b.enabled &&
    (a.discard === true) === (b.discard === true) &&
    a.destinations.join('\\') === b.destinations.join('\\') &&
    changes(a) === changes(b)
  );
}

/** The one-line summary of a rule's head: condition -> destinations, and its flags. */
export function summaryOf(d: Draft): string {
  const to = d.discard ? '(discard)' : d.destinations.join(', ') || '?';
  return `${d.condition} \u2192 ${to}${d.continue && !d.discard ? ' (continue)' : ''}${d.enabled ? '' : ' (disabled)'}`;
}

/** `rules[2].changes.X` -> [2, 'changes']; `destinations[0]` -> [undefined, 'destinations']. */
export function fieldOf(field: string): [number | undefined, string] {
  const m = /^rules\[(\d+)\]\.?(.*)$/.exec(field);
  const rest = m ? m[2] : field;
  return [m ? Number(m[1]) : undefined, /^[A-Za-z]+/.exec(rest)?.[0] ?? 'general'];
}

export const issuesOf = (err: unknown): FieldIssue[] =>
  err instanceof ApiError ? (err.problem.errors ?? [{ field: err.problem.field ?? '', message: err.problem.detail }]) : [{ field: '', message: String(err) }];
