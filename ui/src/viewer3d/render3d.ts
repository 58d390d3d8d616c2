// The 3D viewport's renderings of one volume: volume rendering with presets (vtk's, as
// Cornerstone lists them, plus a PET one), MIP, and a surface shaded display of the
// isosurface at a threshold (vtk.js marching cubes, lit, replacing the volume actor).
import { CONSTANTS, Enums, type Types } from '@cornerstonejs/core';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes';
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor';
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper';

type Preset = (typeof CONSTANTS.VIEWPORT_PRESETS)[number];

/** PET: hot-iron colours over SUV-like values (no vtk preset exists). */
const PET_PRESET: Preset = {
  name: 'PET',
  gradientOpacity: '4 0 1 255 1',
  specularPower: '1',
  scalarOpacity: '8 0 0 1 0.05 5 0.4 20 0.9',
  specular: '0',
  shade: '0',
  ambient: '0.3',
  colorTransfer: '16 0 0 0 0 2 0.7 0 0 5 1 0.6 0 20 1 1 1',
  diffuse: '0.7',
  interpolation: '1',
};

/** The renderings the toolbar offers: label and vtk preset name. */
export const RENDER_PRESETS: ReadonlyArray<{ label: string; preset: string }> = [
  { label: 'CT bone', preset: 'CT-Bone' },
  { label: 'CT soft tissue', preset: 'CT-Soft-Tissue' },
  { label: 'CT lung', preset: 'CT-Lung' },
  { label: 'CT angio', preset: 'CT-Chest-Contrast-Enhanced' },
  { label: 'MR angio', preset: 'MR-Angio' },
  { label: 'PET', preset: 'PET' },
];

export type RenderMode = { kind: 'vrt'; preset: string } | { kind: 'mip'; lower: number; upper: number } | { kind: 'ssd'; threshold: number };

const SSD_ACTOR = 'ssd-surface';

export class Renderer3d {
  /** The SSD surface's triangle count (for the status line and the tests). */
  triangles = 0;
  private surfaceFor?: { threshold: number; actor: vtkActor };

  /** Counts apply() calls: a surface still being built for an earlier mode is dropped. */
  private generation = 0;
  private values: Promise<ArrayLike<number>> | undefined;

  /** `scalars`: the volume's voxel values in one array (volumeScalars()), read when a surface is first asked for. */
  constructor(
    private readonly viewport: Types.IVolumeViewport,
    private readonly volume: Types.IImageVolume,
    private readonly scalars: () => Promise<ArrayLike<number>>,
  ) {}

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
        const preset = mode.preset === 'PET' ? PET_PRESET : CONSTANTS.VIEWPORT_PRESETS.find((p) => p.name === mode.preset);
        if (!preset) throw new Error(`unknown rendering preset ${mode.preset}`);
        vp.setProperties({ preset: preset as never });
      } else {
        this.setBlendMode(Enums.BlendModes.MAXIMUM_INTENSITY_BLEND);
        // A grey ramp over the window, fully opaque: the brightest voxel along each ray.
        vp.setProperties({ voiRange: { lower: mode.lower, upper: mode.upper } });
        const actor = vp.getDefaultActor()?.actor as unknown as { getProperty(): { getScalarOpacity(i: number): { removeAllPoints(): void; addPoint(x: number, y: number): void } } };
        const opacity = actor.getProperty().getScalarOpacity(0);
        opacity.removeAllPoints();
        opacity.addPoint(mode.lower - 1, 1);
        opacity.addPoint(mode.upper + 1, 1);
      }
    }
    vp.render();
    return true;
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
    const image = vtkImageData.newInstance();
    image.setDimensions(v.dimensions[0], v.dimensions[1], v.dimensions[2]);
    image.setSpacing([v.spacing[0], v.spacing[1], v.spacing[2]]);
    image.setOrigin([0, 0, 0]);
    image.getPointData().setScalars(vtkDataArray.newInstance({ numberOfComponents: 1, values: values as Float32Array }));
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
