// The measurement list: every annotation of the open studies, grouped by study, each with
// what it measures, the image it is on and a delete button; a click selects it and shows
// its image. Kept current from Cornerstone's annotation events. The selection is
// Cornerstone's own (a click on a drawn measurement selects it too), so the Delete key,
// the context menu and this list act on the same thing.
import { eventTarget } from '@cornerstonejs/core';
import { annotation as annotationApi, Enums as ToolEnums, type Types as ToolTypes } from '@cornerstonejs/tools';
import { h } from '../dom.js';
import type { DisplaySet } from './loader.js';

/** Labels of the tools, as the toolbar names them. */
const TOOL_LABELS: Record<string, string> = {
  Length: 'Length',
  Angle: 'Angle',
  CobbAngle: 'Cobb',
  Bidirectional: 'Bidir.',
  ArrowAnnotate: 'Arrow',
  Probe: 'Probe',
  EllipticalROI: 'Ellipse',
  RectangleROI: 'Rect.',
  PlanarFreehandROI: 'Freehand',
};

type Annotation = ToolTypes.Annotation & {
  annotationUID: string;
  metadata: { toolName: string; referencedImageId?: string };
  data: { label?: string; text?: string; cachedStats?: Record<string, Record<string, unknown>> };
};

const fixed = (v: unknown, digits = 1): string | undefined => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : undefined);

/** What a measurement says, in a few words: "60.0 mm", "90.0°", "mean 0.0 HU", the arrow's text. */
export function measurementSummary(a: Annotation): string {
  const stats = Object.values(a.data.cachedStats ?? {})[0] ?? {};
  const unit = typeof stats.unit === 'string' ? ` ${stats.unit}` : '';
  const parts: string[] = [];
  const length = fixed(stats.length);
  const width = fixed(stats.width);
  if (length) parts.push(width ? `${length} x ${width}${unit}` : `${length}${unit}`);
  const angle = fixed(stats.angle);
  if (angle) parts.push(`${angle}°`);
  const modality = typeof stats.modalityUnit === 'string' ? ` ${stats.modalityUnit}` : '';
  const mean = fixed(stats.mean);
  if (mean) parts.push(`mean ${mean}${modality}`);
  const value = fixed(stats.value);
  if (value && !mean) parts.push(`${value}${modality}`);
  const label = a.data.label || a.data.text;
  if (label) parts.push(`"${label}"`);
  return parts.join(', ');
}

export interface MeasurementListHost {
  displaySets(): DisplaySet[];
  /** Shows the image of a measurement in a viewport (the one showing its series, else the active one). */
  show(ds: DisplaySet, imageId: string): void;
  delete(annotationUids: string[]): void;
}

export class MeasurementList {
  readonly root: HTMLElement;
  private scheduled = false;

  constructor(private readonly host: MeasurementListHost) {
    this.root = h('section', { class: 'measurement-list', id: 'measurement-list', 'aria-label': 'Measurements' });
    const E = ToolEnums.Events;
    for (const type of [E.ANNOTATION_ADDED, E.ANNOTATION_COMPLETED, E.ANNOTATION_MODIFIED, E.ANNOTATION_REMOVED, E.ANNOTATION_SELECTION_CHANGE]) {
      eventTarget.addEventListener(type, () => this.schedule());
    }
  }

  /** Redraws once per frame at most: a drag modifies its annotation on every move. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  render(): void {
    const sets = this.host.displaySets();
    const selected = new Set(annotationApi.selection.getAnnotationsSelected());
    const byStudy = new Map<string, { label: string; rows: HTMLElement[] }>();
    for (const a of annotationApi.state.getAllAnnotations() as Annotation[]) {
      const imageId = a.metadata.referencedImageId;
      const ds = imageId ? sets.find((d) => d.imageIds?.includes(imageId)) : undefined;
      if (!ds || !imageId || !TOOL_LABELS[a.metadata.toolName]) continue;
      const index = ds.imageIds!.indexOf(imageId) + 1;
      const uid = a.annotationUID;
      const del = h('button', { type: 'button', class: 'measurement-delete', title: 'delete this measurement', 'aria-label': 'delete' }, '×');
      del.addEventListener('click', (e) => {
        e.stopPropagation();
        this.host.delete([uid]);
      });
      const row = h(
        'li',
        {
          class: `measurement-item${selected.has(uid) ? ' selected' : ''}`,
          'data-annotation': uid,
          'data-tool': a.metadata.toolName,
          title: 'show and select',
        },
        h('span', { class: 'measurement-tool' }, TOOL_LABELS[a.metadata.toolName]),
        ' ',
        h('span', { class: 'measurement-value' }, measurementSummary(a)),
        h('div', { class: 'muted' }, `Se ${ds.seriesNumber ?? ''} Im ${index}`),
        del,
      );
      row.addEventListener('click', () => {
        annotationApi.selection.setAnnotationSelected(uid, true, false);
        this.host.show(ds, imageId);
      });
      const entry = byStudy.get(ds.studyUid) ?? { label: ds.studyLabel, rows: [] };
      entry.rows.push(row);
      byStudy.set(ds.studyUid, entry);
    }
    if (!byStudy.size) {
      this.root.replaceChildren(h('div', { class: 'study-heading' }, 'Measurements'), h('div', { class: 'muted measurement-empty' }, 'none'));
      return;
    }
    this.root.replaceChildren(
      h('div', { class: 'study-heading' }, 'Measurements'),
      ...[...byStudy].map(([studyUid, { label, rows }]) =>
        h('div', { class: 'measurement-study', 'data-study': studyUid }, h('div', { class: 'muted' }, label), h('ul', { class: 'measurement-items' }, ...rows)),
      ),
    );
  }
}
