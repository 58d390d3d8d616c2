// The reading tools added to the viewer's tool group: a magnifier (a 250 px loupe at 3x
// over the pressed point), free text (a label at a point) and an open polyline (points by
// click, a double click ends it). Rectangle and ellipse are the ROI tools of tools.ts.
import { LabelTool, MagnifyTool, SplineROITool, type Types as ToolTypes } from '@cornerstonejs/tools';

export const MAGNIFY_ZOOM = 3;
export const MAGNIFY_SIZE_PX = 250;

type ToolProps = ConstructorParameters<typeof SplineROITool>[0];

/** Cornerstone's spline ROI with straight segments, left open: a polyline. */
export class PolylineTool extends SplineROITool {
  static override toolName = 'Polyline';

  constructor(props: ToolProps = {}) {
    // Merged into the spline tool's defaults (setToolConfiguration would replace its nested spline settings).
    super({ ...props, configuration: { allowOpenSplines: true, calculateStats: false, spline: { type: 'LINEAR' }, ...props?.configuration } });
  }
}

/**
 * Cornerstone's magnifier divides the viewport's parallel scale by its factor, which
 * magnifies by factor x loupe height / viewport height: here the factor is set per press
 * from the viewport's height, so the loupe shows MAGNIFY_ZOOM times what the viewport does.
 */
export class LoupeTool extends MagnifyTool {
  static override toolName = MagnifyTool.toolName;

  constructor(props: ConstructorParameters<typeof MagnifyTool>[0] = {}) {
    super({ ...props, configuration: { magnifySize: MAGNIFY_ZOOM, magnifyWidth: MAGNIFY_SIZE_PX, magnifyHeight: MAGNIFY_SIZE_PX, ...props?.configuration } });
    const press = this.preMouseDownCallback;
    this.preMouseDownCallback = (evt) => {
      const height = (evt.detail as { element?: HTMLElement }).element?.clientHeight ?? 0;
      if (height > 0) this.configuration.magnifySize = (MAGNIFY_ZOOM * height) / MAGNIFY_SIZE_PX;
      return press(evt);
    };
  }
}

export const READING_TOOL_CLASSES = [LoupeTool, LabelTool, PolylineTool];

/** The tools that draw nothing (not made passive: they have no annotations to edit). */
export const READING_NAVIGATION = [MagnifyTool.toolName];

/** Asks for a text in the page (a prompt-free caller gives its own). */
export type AskText = (title: string, initial: string, done: (text: string) => void) => void;

export function configureReadingTools(group: ToolTypes.IToolGroup, ask: AskText): void {
  group.setToolConfiguration(LabelTool.toolName, {
    getTextCallback: (done: (text: string) => void) => ask('Text:', '', done),
    changeTextCallback: (a: { data?: { label?: string } }, _e: unknown, done: (text: string) => void) => ask('Text:', a.data?.label ?? '', done),
  });
}
