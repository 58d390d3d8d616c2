// Structured reports (PS3.3 C.17.3, SR Document Content) as a tree of content items to
// show as text: each item's relationship, concept name (meaning and code), value as a
// person reads it (numbers with their units, codes with their meaning, references by
// UID) and its children. Basic Text, Enhanced and Comprehensive SR (and any other SR
// document of the same module). No DOM, no Cornerstone: unit-tested under Node.
import { first, items, numbers, text, type Natural } from './natural.js';

export class SrError extends Error {
  override readonly name = 'SrError';
}

export const SR_SOP_CLASSES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.88.11': 'Basic Text SR',
  '1.2.840.10008.5.1.4.1.1.88.22': 'Enhanced SR',
  '1.2.840.10008.5.1.4.1.1.88.33': 'Comprehensive SR',
  '1.2.840.10008.5.1.4.1.1.88.34': 'Comprehensive 3D SR',
  '1.2.840.10008.5.1.4.1.1.88.35': 'Extensible SR',
};

export interface SrNode {
  relationship: string;
  valueType: string;
  concept: string;
  /** The concept's code as "(value, scheme)"; '' when it has none. */
  code: string;
  value: string;
  children: SrNode[];
}

export interface SrDocument {
  kind: string;
  title: string;
  completion: string;
  verification: string;
  root: SrNode;
}

/** A hostile document cannot make the viewer recurse or render without bound. */
const MAX_DEPTH = 50;
const MAX_ITEMS = 20_000;

function codeText(c: Natural | undefined): { meaning: string; code: string } {
  if (!c) return { meaning: '', code: '' };
  const value = text(c, 'CodeValue') || text(c, 'LongCodeValue') || text(c, 'URNCodeValue');
  const scheme = text(c, 'CodingSchemeDesignator');
  return { meaning: text(c, 'CodeMeaning'), code: value ? `(${value}, ${scheme})` : '' };
}

function valueOf(item: Natural, type: string): string {
  switch (type) {
    case 'TEXT':
      return text(item, 'TextValue');
    case 'CODE': {
      const c = codeText(first(item, 'ConceptCodeSequence'));
      return [c.meaning, c.code].filter(Boolean).join(' ');
    }
    case 'NUM': {
      const mv = first(item, 'MeasuredValueSequence');
      if (!mv) {
        const why = codeText(first(item, 'NumericValueQualifierCodeSequence')).meaning;
        return why ? `(no value: ${why})` : '(no value)';
      }
      const n = text(mv, 'NumericValue');
      const unit = first(mv, 'MeasurementUnitsCodeSequence');
      const ucum = text(unit, 'CodeValue');
      // UCUM's "1" is "no units"; otherwise the unit as UCUM writes it (mm, mm2, [hnsf'U]).
      return ucum && ucum !== '1' ? `${n} ${ucum}` : n;
    }
    case 'DATE':
      return text(item, 'Date');
    case 'TIME':
      return text(item, 'Time');
    case 'DATETIME':
      return text(item, 'DateTime');
    case 'UIDREF':
      return text(item, 'UID');
    case 'PNAME':
      return text(item, 'PersonName').replace(/\^+/g, ' ').trim();
    case 'IMAGE':
    case 'COMPOSITE':
    case 'WAVEFORM': {
      const ref = first(item, 'ReferencedSOPSequence');
      const frames = numbers(ref, 'ReferencedFrameNumber');
      return `${type.toLowerCase()} ${text(ref, 'ReferencedSOPInstanceUID')}${frames ? ` frame ${frames.join(', ')}` : ''}`;
    }
    case 'SCOORD':
    case 'SCOORD3D': {
      const data = numbers(item, 'GraphicData') ?? [];
      return `${text(item, 'GraphicType')} (${data.length / (type === 'SCOORD' ? 2 : 3)} points)`;
    }
    case 'TCOORD':
      return text(item, 'TemporalRangeType');
    case 'CONTAINER':
      return '';
    default:
      return '';
  }
}

/** Reads an SR document's content tree; throws an SrError when it is not one. */
export function parseSr(ds: Natural): SrDocument {
  if (text(ds, 'Modality') !== 'SR') throw new SrError('not a structured report (Modality is not SR)');
  if (text(ds, 'ValueType') !== 'CONTAINER') throw new SrError('the document root is not a CONTAINER content item');
  let count = 0;
  const node = (item: Natural, depth: number, path: string): SrNode => {
    if (++count > MAX_ITEMS) throw new SrError(`more than ${MAX_ITEMS} content items`);
    if (depth > MAX_DEPTH) throw new SrError(`content nested deeper than ${MAX_DEPTH} levels at item ${path}`);
    const refs = numbers(item, 'ReferencedContentItemIdentifier');
    const type = refs ? 'BY-REFERENCE' : text(item, 'ValueType');
    if (!type) throw new SrError(`content item ${path} has no Value Type`);
    const concept = codeText(first(item, 'ConceptNameCodeSequence'));
    return {
      relationship: text(item, 'RelationshipType'),
      valueType: type,
      concept: concept.meaning,
      code: concept.code,
      value: refs ? `see item ${refs.join('.')}` : valueOf(item, type),
      children: items(item, 'ContentSequence').map((c, i) => node(c, depth + 1, `${path}.${i + 1}`)),
    };
  };
  const root = node(ds, 0, '1');
  return {
    kind: SR_SOP_CLASSES[text(ds, 'SOPClassUID')] ?? 'SR',
    title: root.concept,
    completion: text(ds, 'CompletionFlag'),
    verification: text(ds, 'VerificationFlag'),
    root,
  };
}
