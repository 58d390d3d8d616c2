// Frame times of the MPR / 3D layout in the browser, shared by the large-volume test and
// bench/volume-build.ts.
import type { Page } from 'playwright-core';

type Point3 = [number, number, number];
interface ViewportLike {
  element: { addEventListener(type: string, listener: () => void, options?: { once: boolean }): void };
  getCamera(): { focalPoint: Point3; position: Point3; viewPlaneNormal: Point3; viewUp: Point3 };
  setCamera(c: { focalPoint?: Point3; position?: Point3; viewUp?: Point3 }): void;
  render(): void;
}
declare const window: { __viewer3d?: { page: { viewport(id: string): ViewportLike } } };
declare const performance: { now(): number };

/**
 * Median time (ms) from a camera change to the viewport's next rendered frame, over
 * `frames` changes: scrolling one slice of `step` mm (MPR) or rotating 10° about the
 * view-up axis (3D).
 */
export function frameTime(page: Page, id: string, kind: 'scroll' | 'rotate', frames: number, step = 1.25): Promise<number> {
  return page.evaluate(
    async ({ id, kind, frames, step }) => {
      const vp = window.__viewer3d!.page.viewport(id);
      const times: number[] = [];
      for (let k = 0; k < frames; k++) {
        const cam = vp.getCamera();
        const t0 = performance.now();
        const drawn = new Promise<void>((resolve) => vp.element.addEventListener('CORNERSTONE_IMAGE_RENDERED', () => resolve(), { once: true }));
        if (kind === 'scroll') {
          const n = cam.viewPlaneNormal;
          const move = (p: Point3): Point3 => [p[0] + n[0] * step, p[1] + n[1] * step, p[2] + n[2] * step];
          vp.setCamera({ focalPoint: move(cam.focalPoint), position: move(cam.position) });
        } else {
          // Rotate the position about the focal point around view-up by 10 degrees.
          const [f, p, u] = [cam.focalPoint, cam.position, cam.viewUp];
          const d: Point3 = [p[0] - f[0], p[1] - f[1], p[2] - f[2]];
          const a = (10 * Math.PI) / 180;
          const dot = d[0] * u[0] + d[1] * u[1] + d[2] * u[2];
          const cross: Point3 = [u[1] * d[2] - u[2] * d[1], u[2] * d[0] - u[0] * d[2], u[0] * d[1] - u[1] * d[0]];
          const r = [0, 1, 2].map((i) => d[i] * Math.cos(a) + cross[i] * Math.sin(a) + u[i] * dot * (1 - Math.cos(a))) as Point3;
          vp.setCamera({ position: [f[0] + r[0], f[1] + r[1], f[2] + r[2]] });
        }
        vp.render();
        await drawn;
        times.push(performance.now() - t0);
      }
      times.sort((x, y) => x - y);
      return times[Math.floor(times.length / 2)];
    },
    { id, kind, frames, step },
  );
}
