// Stack navigation beyond the wheel: keys, cine, and synchronized scrolling (by position
// for series sharing a frame of reference, by relative index otherwise).
import { Enums, getRenderingEngine, metaData, utilities as csUtils, type StackViewport, type Types } from '@cornerstonejs/core';
import { SynchronizerManager, synchronizers, utilities as toolUtils } from '@cornerstonejs/tools';
import { indexForKey } from './keys.js';
import type { ViewportCell } from './viewport-cell.js';

type Synchronizer = ReturnType<typeof SynchronizerManager.createSynchronizer>;

/** Whether an image has a position in its frame of reference (else only index sync is possible). */
function hasPosition(imageId: string | undefined): boolean {
  const plane = imageId ? (metaData.get('imagePlaneModule', imageId) as { imagePositionPatient?: number[] } | undefined) : undefined;
  return Array.isArray(plane?.imagePositionPatient) && plane.imagePositionPatient.length === 3;
}

export async function scrollSync(sync: Synchronizer, source: Types.IViewportId, target: Types.IViewportId): Promise<void> {
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

  constructor(
    id: string,
    private readonly renderingEngineId: string,
  ) {
    this.sync = SynchronizerManager.createSynchronizer(id, Enums.Events.STACK_NEW_IMAGE, scrollSync);
  }

  add(cell: ViewportCell): void {
    this.sync.add({ renderingEngineId: this.renderingEngineId, viewportId: cell.viewportId });
  }

  remove(cell: ViewportCell): void {
    this.stopCine(cell);
    this.sync.remove({ renderingEngineId: this.renderingEngineId, viewportId: cell.viewportId });
  }

  setSync(on: boolean): void {
    this.syncEnabled = on;
    this.sync.setEnabled(on);
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
