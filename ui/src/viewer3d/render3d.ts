// The 3D viewport's renderings of one volume: volume rendering with our presets
// (vrt-presets.ts), MIP with a grey map over its own window, and a surface shaded display
// of the isosurface at a threshold (vtk.js marching cubes, lit, capped at the volume's
// edge, replacing the volume actor). The transfer functions are set on the volume actor's
// property directly: Cornerstone's presets and VOI would rescale the colour points of
// whatever came before (a MIP kept the last preset's colours).
import { Enums, type Types } from '@cornerstonejs/core';
import vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes';
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor';
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction';
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper';
import { padBelow } from './surface-caps.js';
import { resolvePreset, VRT_PRESETS, vrtPreset, type ResolvedPreset } from './vrt-presets.js';

/** The renderings the toolbar offers: label and preset name. */
export const RENDER_PRESETS: ReadonlyArray<{ label: string; preset: string }> = VRT_PRESETS.map((p) => ({ label: p.label, preset: p.name }));

export type RenderMode = { kind: 'vrt'; preset: string } | { kind: 'mip'; lower: number; upper: number } | { kind: 'ssd'; threshold: number };

/** The part of vtk's volume property set here. */
interface VolumePropertyLike {
  setRGBTransferFunction(i: number, f: unknown): void;
  setScalarOpacity(i: number, f: unknown): void;
  setScalarOpacityUnitDistance(i: number, d: number): void;
  setUseGradientOpacity(i: number, on: boolean): void;
  setInterpolationTypeToLinear(): void;
  setShade(on: boolean): void;
  setAmbient(v: number): void;
  setDiffuse(v: number): void;
  setSpecular(v: number): void;
  setSpecularPower(v: number): void;
}

const SSD_ACTOR = 'ssd-surface';

export class Renderer3d {
  /** The SSD surface's triangle count (for the status line and the tests). */
  triangles = 0;
  private surfaceFor?: { threshold: number; actor: vtkActor };

  /** Counts apply() calls: a surface still being built for an earlier mode is dropped. */
  private generation = 0;
  private values: Promise<ArrayLike<number>> | undefined;

  /**
   * `scalars`: the volume's voxel values in one array (volumeScalars()), read when a
   * surface is first asked for; `level(f)`: the volume's `f` percentile (the MR and PET
   * presets' scale).
   */
  constructor(
    private readonly viewport: Types.IVolumeViewport,
    private readonly volume: Types.IImageVolume,
    private readonly scalars: () => Promise<ArrayLike<number>>,
    private readonly level: (fraction: number) => number,
  ) {
    // vtk's automatic headlight is placed where the camera is at the first render and then
    // stays there: nothing in vtk.js or Cornerstone calls the renderer's
    // updateLightsGeometryToFollowCamera(). Turned to the front, the view was lit from the
    // feet, its surfaces edge-on to the light and dark (ambient only). Follow every camera change.
    const renderer = viewport.getRenderer() as unknown as { updateLightsGeometryToFollowCamera(): void };
    const camera = (viewport as unknown as { getVtkActiveCamera(): { onModified(f: () => void): void } }).getVtkActiveCamera();
    camera.onModified(() => renderer.updateLightsGeometryToFollowCamera());
  }

  /**
   * Everything but an SSD surface is applied before this returns; a surface once it is
   * built. False when a later apply() came first (this mode was dropped).
   */
  async apply(mode: RenderMode): Promise<boolean> {
    const vp = this.viewport;
    const generation = ++this.generation;
    const volumeActor = vp.getDefaultActor()?.actor as { setVisibility(v: boolean): void } | undefined;
    if (mode.kind === 'ssd') {
      volumeActor?.setVisibility(false);
      if (this.surfaceFor?.threshold !== mode.threshold) {
        this.hideSurface();
        this.values ??= this.scalars();
        const values = await this.values.catch((e: unknown) => {
          this.values = undefined; // asked again next time
          throw e;
        });
        if (generation !== this.generation) return false;
        this.showSurface(mode.threshold, values);
      }
    } else {
      this.hideSurface();
      volumeActor?.setVisibility(true);
      if (mode.kind === 'vrt') {
        // Composite again on the mapper: after a MIP the mapper kept MIP blending otherwise.
        this.setBlendMode(Enums.BlendModes.COMPOSITE);
        this.setTransferFunctions(resolvePreset(vrtPreset(mode.preset), this.level));
      } else {
        this.setBlendMode(Enums.BlendModes.MAXIMUM_INTENSITY_BLEND);
        // The brightest voxel along each ray on a grey ramp over the window, opaque, unlit.
        const lower = Math.min(mode.lower, mode.upper - 1e-3);
        this.setTransferFunctions({
          name: 'MIP',
          label: 'MIP',
          opacity: [
            [lower, 1],
            [mode.upper, 1],
          ],
          colors: [
            [lower, 0, 0, 0],
            [mode.upper, 1, 1, 1],
          ],
          shade: false,
          ambient: 1,
          diffuse: 0,
          specular: 0,
          specularPower: 1,
        });
      }
    }
    vp.render();
    return true;
  }

  /** Colours, opacity (per mm) and lighting of the volume actor. */
  private setTransferFunctions(p: ResolvedPreset): void {
    const property = (this.viewport.getDefaultActor()?.actor as unknown as { getProperty?(): VolumePropertyLike } | undefined)?.getProperty?.();
    if (!property) throw new Error('the 3D view has no volume');
    const colors = vtkColorTransferFunction.newInstance();
    for (const [x, r, g, b] of p.colors) colors.addRGBPoint(x, r, g, b);
    const opacity = vtkPiecewiseFunction.newInstance();
    for (const [x, y] of p.opacity) opacity.addPoint(x, y);
    property.setRGBTransferFunction(0, colors);
    property.setScalarOpacity(0, opacity);
    // Opacity as given per millimetre of ray, whatever the sample distance.
    property.setScalarOpacityUnitDistance(0, 1);
    // The scalar gradient only for the light's normals, not to scale opacity.
    property.setUseGradientOpacity(0, false);
    property.setInterpolationTypeToLinear();
    property.setShade(p.shade);
    property.setAmbient(p.ambient);
    property.setDiffuse(p.diffuse);
    property.setSpecular(p.specular);
    property.setSpecularPower(p.specularPower);
  }

  /**
   * On the mapper: Cornerstone's 3D viewport ignores setBlendMode (it returns without
   * doing anything), which left "MIP" compositing fully opaque voxels (the volume's faces).
   */
  private setBlendMode(mode: Enums.BlendModes): void {
    const mapper = (this.viewport.getDefaultActor()?.actor as unknown as { getMapper?(): { setBlendMode(m: number): void } } | undefined)?.getMapper?.();
    mapper?.setBlendMode(mode);
  }

  private showSurface(threshold: number, values: ArrayLike<number>): void {
    const v = this.volume;
    // A border below the threshold closes the surface where the object meets the volume's edge.
    const padded = padBelow(values, [v.dimensions[0], v.dimensions[1], v.dimensions[2]], threshold);
    const image = vtkImageData.newInstance();
    image.setDimensions(...padded.dimensions);
    image.setSpacing([v.spacing[0], v.spacing[1], v.spacing[2]]);
    image.setOrigin([-v.spacing[0], -v.spacing[1], -v.spacing[2]]);
    image.getPointData().setScalars(vtkDataArray.newInstance({ numberOfComponents: 1, values: padded.values }));
    const mc = vtkImageMarchingCubes.newInstance({ contourValue: threshold, computeNormals: true, mergePoints: true });
    mc.setInputData(image);
    const surface = mc.getOutputData();
    this.triangles = surface.getPolys().getNumberOfCells();
    const mapper = vtkMapper.newInstance();
    mapper.setInputData(surface);
    mapper.setScalarVisibility(false);
    const actor = vtkActor.newInstance();
    actor.setMapper(mapper);
    const p = actor.getProperty();
    p.setColor(0.95, 0.88, 0.75);
    p.setAmbient(0.15);
    p.setDiffuse(0.8);
    p.setSpecular(0.3);
    p.setSpecularPower(20);
    p.setInterpolationToPhong();
    // Marching cubes works in index * spacing: the volume's direction and origin place it.
    const d = v.direction;
    const o = v.origin;
    actor.setUserMatrix(Float64Array.from([d[0], d[1], d[2], 0, d[3], d[4], d[5], 0, d[6], d[7], d[8], 0, o[0], o[1], o[2], 1]) as never);
    this.viewport.addActor({ uid: SSD_ACTOR, actor });
    this.surfaceFor = { threshold, actor };
  }

  private hideSurface(): void {
    if (!this.surfaceFor) return;
    this.viewport.removeActors([SSD_ACTOR]);
    this.surfaceFor = undefined;
    this.triangles = 0;
  }
}
