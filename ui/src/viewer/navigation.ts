// Stack navigation beyond the wheel: keys, cine, and synchronized scrolling (by position
// for series sharing a frame of reference, and for a current and its prior linked by the
// hanging protocol; by relative index otherwise).
import { Enums, getRenderingEngine, metaData, utilities as csUtils, type StackViewport, type Types } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { SynchronizerManager, synchronizers, utilities as toolUtils } from '@cornerstonejs/tools';
import type { DicomJson } from '../dicom-json.js';
import { indexForKey } from './keys.js';
import { nearestSliceByPosition, planeOf, type SlicePlane } from './position-sync.js';
import type { ViewportCell } from './viewport-cell.js';

type Synchronizer = ReturnType<typeof SynchronizerManager.createSynchronizer>;

/** Whether an image has a position in its frame of reference (else only index sync is possible). */
function hasPosition(imageId: string | undefined): boolean {
  const plane = imageId ? (metaData.get('imagePlaneModule', imageId) as { imagePositionPatient?: number[] } | undefined) : undefined;
  return Array.isArray(plane?.imagePositionPatient) && plane.imagePositionPatient.length === 3;
}

/** The plane of one image of a stack (its frame's own header). */
function imagePlane(imageId: string): SlicePlane | undefined {
  const ds = wadors.metaDataManager.get(imageId) as unknown as DicomJson | undefined;
  return ds ? planeOf(ds, Number(/\/frames\/(\d+)$/.exec(imageId)?.[1] ?? 1)) : undefined;
}

/** Two viewports' ids as one unordered key. */
const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export async function scrollSync(sync: Synchronizer, source: Types.IViewportId, target: Types.IViewportId, linked = new Set<string>()): Promise<void> {
  // A current and its prior follow each other by position (Navigation's own listener).
  if (linked.has(pairKey(source.viewportId, target.viewportId))) return;
  const engine = getRenderingEngine(target.renderingEngineId);
  const s = engine?.getViewport<StackViewport>(source.viewportId);
  const t = engine?.getViewport<StackViewport>(target.viewportId);
  if (!s || !t || !s.getImageIds().length || !t.getImageIds().length) return;
  const sFor = s.getFrameOfReferenceUID();
  if (sFor && sFor === t.getFrameOfReferenceUID() && hasPosition(s.getCurrentImageId()) && hasPosition(t.getCurrentImageId())) {
    await synchronizers.imageSliceSyncCallback(sync, source, target);
    return;
  }
  const sCount = s.getImageIds().length;
  const tCount = t.getImageIds().length;
  const index = sCount > 1 ? Math.round((s.getCurrentImageIdIndex() / (sCount - 1)) * (tCount - 1)) : 0;
  if (index !== t.getCurrentImageIdIndex()) await csUtils.jumpToSlice(t.element, { imageIndex: index });
}

export class Navigation {
  private readonly sync: Synchronizer;
  syncEnabled = true;
  private readonly cine = new Map<string, number>();
  /** Pairs of viewports (pairKey) scrolled by position across frames of reference: a current and its prior. */
  private readonly linked = new Set<string>();
  private readonly cells = new Map<string, ViewportCell>();
  /**
   * The slice a linked scroll moved a viewport to: its arrival is not passed back (the
   * current would be pulled to the prior's nearest slice). Cornerstone's synchronizer
   * guards the same way for its whole group, and drops the source's own next steps while
   * a target still loads; this guard drops nothing else.
   */
  private readonly moving = new Map<string, Set<number>>();

  constructor(
    id: string,
    private readonly renderingEngineId: string,
  ) {
    this.sync = SynchronizerManager.createSynchronizer(id, Enums.Events.STACK_NEW_IMAGE, (sync, source, target) =>
      scrollSync(sync, source, target, this.linked),
    );
  }

  /** Scrolls the two by position (the prior's slice nearest the current's), whatever their frames of reference. */
  linkByPosition(a: ViewportCell, b: ViewportCell): void {
    this.linked.add(pairKey(a.viewportId, b.viewportId));
  }

  unlinkAll(): void {
    this.linked.clear();
    this.moving.clear();
  }

  add(cell: ViewportCell): void {
    this.sync.add({ renderingEngineId: this.renderingEngineId, viewportId: cell.viewportId });
    this.cells.set(cell.viewportId, cell);
    cell.element.addEventListener(
      Enums.Events.STACK_NEW_IMAGE,
      (e) => void this.followLinked(cell, (e as CustomEvent<{ imageIdIndex: number }>).detail.imageIdIndex),
    );
  }

  remove(cell: ViewportCell): void {
    this.stopCine(cell);
    this.cells.delete(cell.viewportId);
    this.moving.delete(cell.viewportId);
    for (const k of [...this.linked]) if (k.split('|').includes(cell.viewportId)) this.linked.delete(k);
    this.sync.remove({ renderingEngineId: this.renderingEngineId, viewportId: cell.viewportId });
  }

  setSync(on: boolean): void {
    this.syncEnabled = on;
    this.sync.setEnabled(on);
  }

  /** A new image in `cell`: its linked viewports go to their slices nearest in position. */
  private async followLinked(cell: ViewportCell, index: number): Promise<void> {
    const id = cell.viewportId;
    const expected = this.moving.get(id);
    if (expected?.delete(index)) return;
    // Moved by the user: slices asked for earlier and overtaken never arrive.
    this.moving.delete(id);
    // A series just put into the viewport starts at its first image: that moves no one.
    if (!this.syncEnabled || cell.settingStack) return;
    const vp = cell.viewport;
    const from = vp?.getImageIds().length ? imagePlane(vp.getCurrentImageId()) : undefined;
    if (!from) return;
    for (const k of this.linked) {
      const [a, b] = k.split('|');
      const other = a === id ? this.cells.get(b) : b === id ? this.cells.get(a) : undefined;
      const t = other?.viewport;
      if (!other || !t?.getImageIds().length) continue;
      const target = nearestSliceByPosition(from, t.getImageIds().map(imagePlane));
      if (target === undefined || target === t.getCurrentImageIdIndex()) continue;
      let pending = this.moving.get(other.viewportId);
      if (!pending) this.moving.set(other.viewportId, (pending = new Set()));
      pending.add(target);
      await csUtils.jumpToSlice(other.element, { imageIndex: target });
    }
  }

  async key(cell: ViewportCell, key: string): Promise<boolean> {
    const vp = cell.viewport;
    const count = vp?.getImageIds().length ?? 0;
    if (!vp || !count) return false;
    const next = indexForKey(key, vp.getCurrentImageIdIndex(), count);
    if (next === undefined) return false;
    if (next !== vp.getCurrentImageIdIndex()) await csUtils.jumpToSlice(cell.element, { imageIndex: next });
    return true;
  }

  playCine(cell: ViewportCell, framesPerSecond: number): void {
    if (!cell.viewport?.getImageIds().length) return;
    toolUtils.cine.playClip(cell.element, { framesPerSecond, loop: true });
    this.cine.set(cell.viewportId, framesPerSecond);
  }

  stopCine(cell: ViewportCell): void {
    if (!this.cine.has(cell.viewportId)) return;
    toolUtils.cine.stopClip(cell.element);
    this.cine.delete(cell.viewportId);
  }

  isPlaying(cell: ViewportCell): boolean {
    return this.cine.has(cell.viewportId);
  }
}
