// Tools of the MPR and 3D viewports: crosshairs (drag the centre, rotate a line for an
// oblique plane, rotate on a tilted plane for a double oblique, drag the slab handles),
// W/L synchronized between the three planes, wheel scrolling, zoom and pan; trackball
// rotation in 3D; length and elliptical ROI measurements on the planes.
import { Enums as CoreEnums, type Types } from '@cornerstonejs/core';
import {
  addTool,
  CrosshairsTool,
  EllipticalROITool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  StackScrollTool,
  synchronizers,
  ToolGroupManager,
  TrackballRotateTool,
  WindowLevelTool,
  ZoomTool,
  type Types as ToolTypes,
} from '@cornerstonejs/tools';

const { MouseBindings } = ToolEnums;

export const MPR_VIEWPORTS = ['axial', 'sagittal', 'coronal'] as const;
export type MprViewportId = (typeof MPR_VIEWPORTS)[number];
export const VIEWPORT_3D = 'volume3d';

const COLORS: Record<MprViewportId, string> = { axial: 'rgb(200, 0, 0)', sagittal: 'rgb(200, 200, 0)', coronal: 'rgb(0, 200, 0)' };

/** Slab blend modes as the toolbar names them. */
export const SLAB_MODES = {
  none: CoreEnums.BlendModes.COMPOSITE,
  mip: CoreEnums.BlendModes.MAXIMUM_INTENSITY_BLEND,
  minip: CoreEnums.BlendModes.MINIMUM_INTENSITY_BLEND,
  average: CoreEnums.BlendModes.AVERAGE_INTENSITY_BLEND,
} as const;
export type SlabMode = keyof typeof SLAB_MODES;

const MEASUREMENT_TOOLS: readonly string[] = [LengthTool.toolName, EllipticalROITool.toolName];

let registered = false;

export class MprTools {
  readonly mpr: ToolTypes.IToolGroup;
  readonly three: ToolTypes.IToolGroup;
  primary: string = CrosshairsTool.toolName;

  constructor(private readonly engineId: string) {
    if (!registered) {
      for (const t of [CrosshairsTool, WindowLevelTool, PanTool, ZoomTool, StackScrollTool, TrackballRotateTool, LengthTool, EllipticalROITool]) addTool(t);
      registered = true;
    }
    const mpr = ToolGroupManager.createToolGroup('viewer3d-mpr');
    const three = ToolGroupManager.createToolGroup('viewer3d-3d');
    if (!mpr || !three) throw new Error('the 3D viewer tool groups exist already');
    this.mpr = mpr;
    this.three = three;
    mpr.addTool(CrosshairsTool.toolName, {
      getReferenceLineColor: (id: string) => COLORS[id as MprViewportId] ?? 'rgb(200, 200, 200)',
      getReferenceLineControllable: () => true,
      getReferenceLineDraggableRotatable: () => true,
      getReferenceLineSlabThicknessControlsOn: () => true,
    });
    for (const t of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool, EllipticalROITool]) mpr.addTool(t.toolName);
    // Measurements stay drawn (and editable) while another tool has the button.
    for (const t of [LengthTool, EllipticalROITool]) mpr.setToolPassive(t.toolName);
    mpr.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    mpr.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    mpr.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    for (const t of [TrackballRotateTool, PanTool, ZoomTool]) three.addTool(t.toolName);
    three.setToolActive(TrackballRotateTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    three.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    three.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
  }

  /** Adds the viewports (after they have their volume: the crosshairs start from it). */
  attach(): void {
    for (const id of MPR_VIEWPORTS) this.mpr.addViewport(id, this.engineId);
    this.three.addViewport(VIEWPORT_3D, this.engineId);
    const voi = synchronizers.createVOISynchronizer('viewer3d-voi', { syncInvertState: true, syncColormap: false });
    for (const id of MPR_VIEWPORTS) voi.add({ renderingEngineId: this.engineId, viewportId: id });
    this.setPrimary(CrosshairsTool.toolName);
  }

  setPrimary(toolName: string): void {
    const keep: Record<string, ToolTypes.IToolBinding[]> = {
      [ZoomTool.toolName]: [{ mouseButton: MouseBindings.Secondary }],
      [PanTool.toolName]: [{ mouseButton: MouseBindings.Auxiliary }],
      [StackScrollTool.toolName]: [{ mouseButton: MouseBindings.Wheel }],
    };
    if (this.primary !== toolName) {
      if (keep[this.primary]) this.mpr.setToolActive(this.primary, { bindings: keep[this.primary] });
      // The crosshairs and measurements stay drawn (passive) while another tool has the button.
      else this.mpr.setToolPassive(this.primary);
    }
    this.mpr.setToolActive(toolName, { bindings: [{ mouseButton: MouseBindings.Primary }, ...(keep[toolName] ?? [])] });
    // While measuring, the crosshairs are drawn but do not take the clicks meant for the
    // measurement (a point on a reference line would move the planes instead).
    if (MEASUREMENT_TOOLS.includes(toolName)) this.mpr.setToolEnabled(CrosshairsTool.toolName);
    else if (toolName !== CrosshairsTool.toolName) this.mpr.setToolPassive(CrosshairsTool.toolName);
    this.primary = toolName;
  }
}

/** Sets the slab (mm; 0 = a thin plane) and its blend mode on the MPR viewports. */
export function setSlab(viewports: Types.IVolumeViewport[], mode: SlabMode, thickness: number): void {
  for (const vp of viewports) {
    vp.setBlendMode(SLAB_MODES[mode]);
    // Cornerstone's slab reaches slabThickness on EACH side of the plane: half the
    // thickness the user asks for. Below 0.1 mm it is the plane itself.
    vp.setSlabThickness(mode === 'none' ? 0.1 : Math.max(0.1, thickness / 2));
    vp.render();
  }
}

export { CrosshairsTool, EllipticalROITool, LengthTool, PanTool, WindowLevelTool, ZoomTool };
