// Hanging protocols: which layout a study opens in and which series goes in which
// viewport. The administrators' protocols (GET /api/hanging-protocols) are tried first,
// then the built-in ones; the first that applies wins, else the default: series in
// acquisition order, one per viewport, in a layout that fits them. No DOM, no Cornerstone.
import type { HangingPattern, HangingProtocol, HangingSeriesMatch } from '../api.js';

export interface HangingSeries {
  readonly seriesNumber: number | undefined;
  readonly description: string;
}

/**
 * Series that hold no images to hang: reports, key objects, presentation states (read, not
 * hung), segmentations and structure sets (drawn over the images they were made on).
 */
const NOT_IMAGES = new Set(['SR', 'KO', 'PR', 'SEG', 'RTSTRUCT']);

export function hangsAsImages(modality: string): boolean {
  return !NOT_IMAGES.has(modality);
}

/** Series in acquisition order: by Series Number (none last), then description. */
export function hangingOrder(a: HangingSeries, b: HangingSeries): number {
  return (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity) || a.description.localeCompare(b.description);
}

/** The default layout (rows, columns) for n series, one per viewport. */
export function layoutFor(n: number): [number, number] {
  if (n <= 1) return [1, 1];
  if (n === 2) return [1, 2];
  if (n <= 4) return [2, 2];
  if (n <= 6) return [2, 3];
  return [3, 3];
}

/**
 * Whether `value` matches the glob `pattern`, case-insensitive: `*` any run, `?` one
 * character, `|` between alternatives, the whole value. Greedy with one remembered star
 * (no recursion, no regular expression): at most pattern x value steps.
 */
export function globMatch(pattern: HangingPattern, value: string): boolean {
  const v = Array.from(value.trim().toLowerCase());
  return pattern.split('|').some((alt) => globOne(Array.from(alt.trim().toLowerCase()), v));
}

function globOne(p: string[], s: string[]): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** What a protocol reads of a series (QIDO-RS attributes). */
export interface SeriesFacts extends HangingSeries {
  readonly key: string;
  readonly modality: string;
  readonly bodyPart: string;
}

/** A study's facts: its description and its image series in hanging order. */
export interface StudyFacts {
  readonly description: string;
  readonly series: readonly SeriesFacts[];
}

/**
 * The protocols radiologists expect when nobody configured any: CT and CR/DX beside the
 * patient's prior of the same modality, MR 2x2 by sequence, MG in the four standard views.
 */
export const BUILT_IN_PROTOCOLS: readonly HangingProtocol[] = [
  {
    name: 'CT current and prior',
    match: { modality: 'CT' },
    rows: 1,
    cols: 2,
    viewports: [{ series: { description: '*axial*|*ax *|* ax*|ax' } }, { study: 'prior', sameAsViewport: 0 }],
  },
  {
    name: 'CR/DX current and prior',
    match: { modality: 'CR|DX' },
    rows: 1,
    cols: 2,
    viewports: [{}, { study: 'prior', sameAsViewport: 0 }],
  },
  {
    name: 'MR by sequence',
    match: { modality: 'MR' },
    rows: 2,
    cols: 2,
    viewports: [
      { series: { description: '*T1*' } },
      { series: { description: '*T2*', excludeDescription: '*FLAIR*' } },
      { series: { description: '*FLAIR*' } },
      { series: { description: '*DWI*|*diff*|*trace*|*ADC*' } },
    ],
  },
  {
    name: 'MG four views',
    match: { modality: 'MG' },
    rows: 2,
    cols: 2,
    viewports: [
      { series: { description: 'RCC|R CC|*R?CC*|*right*CC*' } },
      { series: { description: 'LCC|L CC|*L?CC*|*left*CC*' } },
      { series: { description: 'RMLO|R MLO|*R?MLO*|*right*MLO*' } },
      { series: { description: 'LMLO|L MLO|*L?MLO*|*left*MLO*' } },
    ],
  },
];

/** A planned viewport: the series (by key) and which study it comes from. */
export interface PlannedViewport {
  key: string;
  study: 'current' | 'prior';
}

export interface HangingPlan {
  /** The protocol that applied; none: the default hanging. */
  protocol?: string;
  rows: number;
  cols: number;
  /** One per cell, in reading order; undefined: nothing to show there. */
  viewports: Array<PlannedViewport | undefined>;
}

const matches = (pattern: HangingPattern | undefined, value: string) => pattern === undefined || globMatch(pattern, value);

export function seriesMatches(m: HangingSeriesMatch, s: SeriesFacts): boolean {
  return (
    matches(m.description, s.description) &&
    matches(m.modality, s.modality) &&
    matches(m.bodyPart, s.bodyPart) &&
    (m.excludeDescription === undefined || !globMatch(m.excludeDescription, s.description))
  );
}

/** Whether the protocol's study-level match holds for the current study. */
export function protocolApplies(p: HangingProtocol, study: StudyFacts): boolean {
  const m = p.match;
  const any = (pattern: HangingPattern | undefined, pick: (s: SeriesFacts) => string) =>
    pattern === undefined || study.series.some((s) => globMatch(pattern, pick(s)));
  return (
    any(m.modality, (s) => s.modality) &&
    any(m.bodyPart, (s) => s.bodyPart) &&
    any(m.seriesDescription, (s) => s.description) &&
    matches(m.studyDescription, study.description)
  );
}

export function needsPrior(p: HangingProtocol): boolean {
  return p.viewports.some((v) => v.study === 'prior');
}

const sameText = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The protocol's viewports filled from the studies, or undefined when it does not hang
 * them: a prior it needs is missing, no viewport found a series by its own rule (an MR
 * protocol by sequence names says nothing about an MR study of other sequences), or it
 * would show one series in a grid of several.
 * Viewports of the current study are placed first (a prior's "same as viewport N" refers to
 * them); one whose rule matched nothing takes the next current series not shown yet.
 */
function place(p: HangingProtocol, current: StudyFacts, prior: StudyFacts | undefined): Array<PlannedViewport | undefined> | undefined {
  if (needsPrior(p) && !prior?.series.length) return undefined;
  const used = new Set<string>();
  const out: Array<PlannedViewport | undefined> = p.viewports.map(() => undefined);
  let byRule = 0;
  const take = (j: number, s: SeriesFacts | undefined, study: 'current' | 'prior', rule: boolean) => {
    if (!s) return;
    used.add(s.key);
    out[j] = { key: s.key, study };
    if (rule) byRule++;
  };
  const unused = (study: StudyFacts) => study.series.filter((s) => !used.has(s.key));
  const currentOnes = p.viewports.map((v, j) => ({ v, j })).filter(({ v }) => v.study !== 'prior');
  for (const { v, j } of currentOnes) {
    const rule = v.series;
    take(
      j,
      unused(current).find((s) => !rule || seriesMatches(rule, s)),
      'current',
      true,
    );
  }
  for (const { j } of currentOnes) if (!out[j]) take(j, unused(current)[0], 'current', false);
  for (const [j, v] of p.viewports.entries()) {
    if (v.study !== 'prior' || !prior) continue;
    const candidates = unused(prior).filter((s) => !v.series || seriesMatches(v.series, s));
    const ref = v.sameAsViewport === undefined ? undefined : current.series.find((s) => s.key === out[v.sameAsViewport!]?.key);
    const like =
      ref &&
      (candidates.find((s) => s.modality === ref.modality && sameText(s.description, ref.description)) ?? candidates.find((s) => s.modality === ref.modality));
    take(j, ref ? like : candidates[0], 'prior', true);
  }
  // A single series needs no protocol: one that would fill one viewport of several leaves the default (1x1).
  const placed = out.filter(Boolean).length;
  const filled = placed + Math.min(p.rows * p.cols - placed, unused(current).length);
  return byRule && filled >= Math.min(2, p.rows * p.cols) ? out : undefined;
}

/**
 * How the current study (and its prior, when there is one) hangs: the first protocol of
 * `protocols` that applies, else the default. Cells the protocol leaves free take the
 * current study's series not shown, in order.
 */
export function planHanging(protocols: readonly HangingProtocol[], current: StudyFacts, prior?: StudyFacts): HangingPlan {
  for (const p of protocols) {
    if (!protocolApplies(p, current)) continue;
    const placed = place(p, current, prior);
    if (!placed) continue;
    const shown = new Set(placed.map((v) => v?.key));
    const rest = current.series.filter((s) => !shown.has(s.key));
    const viewports = Array.from({ length: p.rows * p.cols }, (_, i): PlannedViewport | undefined => {
      if (placed[i]) return placed[i];
      const s = rest.shift();
      return s && { key: s.key, study: 'current' };
    });
    return { protocol: p.name, rows: p.rows, cols: p.cols, viewports };
  }
  const [rows, cols] = layoutFor(current.series.length);
  const viewports = Array.from({ length: rows * cols }, (_, i) => current.series[i] && { key: current.series[i].key, study: 'current' as const });
  return { rows, cols, viewports };
}
