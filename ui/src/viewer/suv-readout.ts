// SUV beside the raw values in the probe's and the ROI tools' text: each PET image's SUVbw
// factor (suv.ts) registered by image id when its series loads, and the tools' text
// callbacks wrapped to add one line (the SUV, or why there is none).
import { EllipticalROITool, PlanarFreehandROITool, ProbeTool, RectangleROITool, type Types as ToolTypes } from '@cornerstonejs/tools';
import type { DicomJson } from '../dicom-json.js';
import { probeSuvLine, roiSuvLine, suvFactors, type SuvFactor } from './suv.js';

const factorByImageId = new Map<string, SuvFactor>();

/** Registers the SUV factor of a PET series' images: `instances` in order, `imageIds[k]` the image ids of instance k (one per frame). */
export function registerSuv(instances: DicomJson[], imageIds: string[][]): void {
  const factors = suvFactors(instances);
  factors.forEach((f, k) => {
    for (const id of imageIds[k]) factorByImageId.set(id, f);
  });
}

type Stats = Record<string, unknown>;
type TextLines = (data: { cachedStats?: Record<string, Stats> }, targetId: string | string[]) => string[] | undefined;

/** The image id of a stack viewport's target ("imageId:..."); volume targets carry none. */
function factorOf(targetId: string): SuvFactor | undefined {
  return targetId.startsWith('imageId:') ? factorByImageId.get(targetId.slice('imageId:'.length)) : undefined;
}

const ROI_TOOLS = [EllipticalROITool.toolName, RectangleROITool.toolName, PlanarFreehandROITool.toolName];

/** Adds the SUV line to the probe's and the ROI tools' text in `group`. */
export function configureSuvReadouts(group: ToolTypes.IToolGroup): void {
  const wrap = (toolName: string, line: (stats: Stats, f: SuvFactor) => string | undefined) => {
    const tool = group.getToolInstance(toolName) as unknown as { configuration: { getTextLines?: TextLines } } | undefined;
    const original = tool?.configuration.getTextLines;
    if (!original) return;
    const getTextLines: TextLines = (data, targetId) => {
      const lines = original(data, targetId);
      const id = Array.isArray(targetId) ? targetId[0] : targetId;
      const f = id === undefined ? undefined : factorOf(id);
      const stats = id === undefined ? undefined : data.cachedStats?.[id];
      if (!lines || !f || !stats) return lines;
      const extra = line(stats, f);
      return extra ? [...lines, extra] : lines;
    };
    group.setToolConfiguration(toolName, { getTextLines });
  };
  wrap(ProbeTool.toolName, (s, f) => probeSuvLine(typeof s.value === 'number' ? s.value : undefined, f));
  for (const name of ROI_TOOLS) wrap(name, (s, f) => roiSuvLine(s, f));
}
