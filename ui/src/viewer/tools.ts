// The viewer's tools: one Cornerstone tool group over every viewport. The primary mouse
// button runs the chosen tool; the right button zooms, the middle pans, the wheel scrolls.
import {
  addTool,
  AngleTool,
  ArrowAnnotateTool,
  BidirectionalTool,
  CobbAngleTool,
  EllipticalROITool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  PlanarFreehandROITool,
  PlanarRotateTool,
  ProbeTool,
  RectangleROITool,
  ReferenceLinesTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  type Types as ToolTypes,
} from '@cornerstonejs/tools';
import { configureSuvReadouts } from './suv-readout.js';
import { askText } from './text-dialog.js';
import { configureReadingTools, READING_NAVIGATION, READING_TOOL_CLASSES } from './reading-tools.js';
import { PRIMARY_TOOLS } from './toolbar-entries.js';

const ALL_TOOLS = [
  WindowLevelTool,
  PanTool,
  ZoomTool,
  PlanarRotateTool,
  StackScrollTool,
  LengthTool,
  AngleTool,
  CobbAngleTool,
  BidirectionalTool,
  ArrowAnnotateTool,
  ProbeTool,
  EllipticalROITool,
  RectangleROITool,
  PlanarFreehandROITool,
  ReferenceLinesTool,
  ...READING_TOOL_CLASSES,
];

/** Tools that draw nothing. */
const NAVIGATION = new Set<string>([
  WindowLevelTool.toolName,
  PanTool.toolName,
  ZoomTool.toolName,
  PlanarRotateTool.toolName,
  StackScrollTool.toolName,
  ...READING_NAVIGATION,
]);

let registered = false;

const { MouseBindings } = ToolEnums;

export class ViewerTools {
  readonly group: ToolTypes.IToolGroup;
  primary: string = WindowLevelTool.toolName;
  referenceLines = false;

  constructor(
    id: string,
    private readonly renderingEngineId: string,
  ) {
    if (!registered) {
      // The toolbar's entries name tools without importing them (toolbar-entries.ts): each must be one of ours.
      const names = new Set(ALL_TOOLS.map((t) => t.toolName));
      const unknown = PRIMARY_TOOLS.filter((t) => !names.has(t.name)).map((t) => t.name);
      if (unknown.length) throw new Error(`toolbar entries without a tool: ${unknown.join(', ')}`);
      for (const t of ALL_TOOLS) addTool(t);
      registered = true;
    }
    const group = ToolGroupManager.createToolGroup(id);
    if (!group) throw new Error(`tool group ${id} exists already`);
    this.group = group;
    for (const t of ALL_TOOLS) group.addTool(t.toolName);
    // Arrow labels asked in the page (text-dialog.ts), not with prompt(). A new arrow
    // without text is dropped (the tool does so on ''); Cancel on a change keeps the old text.
    group.setToolConfiguration(ArrowAnnotateTool.toolName, {
      getTextCallback: (done: (text: string) => void) => void askText('Arrow label').then((t) => done(t ?? '')),
      changeTextCallback: (a: { data?: { label?: string; text?: string } }, _e: unknown, done: (text: string) => void) => {
        const current = a?.data?.label ?? a?.data?.text ?? '';
        void askText('Arrow label', current).then((t) => done(t ?? current));
      },
    });
    // Text labels too: in the page; Cancel drops a new label and keeps a changed one's text.
    configureReadingTools(group, (title, initial, done) => void askText(title, initial).then((t) => done(t ?? initial)));
    // PET: SUVbw beside the raw values in the probe and the ROI statistics.
    configureSuvReadouts(group);
    // Measurement tools start passive: their annotations (restored ones too) are drawn and editable.
    for (const t of PRIMARY_TOOLS) if (!NAVIGATION.has(t.name)) group.setToolPassive(t.name);
    group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    this.setPrimary(WindowLevelTool.toolName);
  }

  addViewport(viewportId: string): void {
    this.group.addViewport(viewportId, this.renderingEngineId);
  }

  removeViewport(viewportId: string): void {
    this.group.removeViewports(this.renderingEngineId, viewportId);
  }

  /** Binds a tool to the primary button; the previous one stays passive (its annotations remain editable). */
  setPrimary(toolName: string): void {
    const previous = this.primary;
    if (previous !== toolName) {
      // The navigation tools keep their other buttons.
      const keep: Record<string, ToolTypes.IToolBinding[]> = {
        [ZoomTool.toolName]: [{ mouseButton: MouseBindings.Secondary }],
        [PanTool.toolName]: [{ mouseButton: MouseBindings.Auxiliary }],
        [StackScrollTool.toolName]: [{ mouseButton: MouseBindings.Wheel }],
      };
      if (keep[previous]) this.group.setToolActive(previous, { bindings: keep[previous] });
      else this.group.setToolPassive(previous);
    }
    const bindings: ToolTypes.IToolBinding[] = [{ mouseButton: MouseBindings.Primary }];
    if (toolName === ZoomTool.toolName) bindings.push({ mouseButton: MouseBindings.Secondary });
    if (toolName === PanTool.toolName) bindings.push({ mouseButton: MouseBindings.Auxiliary });
    if (toolName === StackScrollTool.toolName) bindings.push({ mouseButton: MouseBindings.Wheel });
    this.group.setToolActive(toolName, { bindings });
    this.primary = toolName;
  }

  /** Reference lines of the source viewport's plane drawn on the others. */
  setReferenceLines(on: boolean, sourceViewportId: string): void {
    this.referenceLines = on;
    this.group.setToolConfiguration(ReferenceLinesTool.toolName, { sourceViewportId });
    if (on) this.group.setToolEnabled(ReferenceLinesTool.toolName);
    else this.group.setToolDisabled(ReferenceLinesTool.toolName);
  }

  setReferenceSource(sourceViewportId: string): void {
    if (this.referenceLines) this.setReferenceLines(true, sourceViewportId);
  }
}
