// Image manipulation on one viewport: a window, rotate, flip, invert, reset.
import { utilities, type StackViewport } from '@cornerstonejs/core';

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
