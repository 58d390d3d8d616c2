// Image manipulation on one viewport: window presets per modality, rotate, flip, invert, reset.
import { utilities, type StackViewport } from '@cornerstonejs/core';

export interface WindowPreset {
  label: string;
  center: number;
  width: number;
}

/** Window presets per modality (center/width in the modality's output units: HU for CT). */
export const PRESETS: Record<string, WindowPreset[]> = {
  CT: [
    { label: 'Brain', center: 40, width: 80 },
    { label: 'Lung', center: -600, width: 1500 },
    { label: 'Bone', center: 480, width: 2500 },
    { label: 'Abdomen', center: 40, width: 400 },
    { label: 'Mediastinum', center: 50, width: 350 },
  ],
  MR: [],
};

export function presetsFor(modality: string | undefined): WindowPreset[] {
  return PRESETS[modality ?? ''] ?? [];
}

export function applyWindow(vp: StackViewport, center: number, width: number): void {
  const { lower, upper } = utilities.windowLevel.toLowHighRange(width, center);
  vp.setProperties({ voiRange: { lower, upper } });
  vp.render();
}

export function rotate(vp: StackViewport, degrees: number): void {
  const current = vp.getViewPresentation().rotation ?? 0;
  vp.setViewPresentation({ rotation: (((current + degrees) % 360) + 360) % 360 });
  vp.render();
}

export function flip(vp: StackViewport, axis: 'horizontal' | 'vertical'): void {
  const cam = vp.getCamera();
  vp.setCamera(axis === 'horizontal' ? { flipHorizontal: !cam.flipHorizontal } : { flipVertical: !cam.flipVertical });
  vp.render();
}

export function invert(vp: StackViewport): void {
  vp.setProperties({ invert: !vp.getProperties().invert });
  vp.render();
}

export function reset(vp: StackViewport): void {
  vp.resetCamera();
  vp.resetProperties();
  vp.render();
}
