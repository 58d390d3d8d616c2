// One annotation of the viewer's tools put on an image from image pixel points, as
// Cornerstone's tools would have made it: the image's plane, its world points, its handles.
// Shared by the GSPS (gsps-apply.ts) and SR (measurements.ts) restores.
import { metaData, utilities as csUtils, type Types } from '@cornerstonejs/core';
import { annotation as annotationApi, LabelTool, PlanarFreehandROITool, type Types as ToolTypes } from '@cornerstonejs/tools';
import type { Point2 } from './gsps.js';
import { PolylineTool } from './reading-tools.js';

/** A Cornerstone annotation of one of the viewer's tools on an image, from image pixels. */
export function addToolAnnotation(toolName: string, imageId: string, pixels: Point2[], extra: { label?: string; closed?: boolean } = {}): boolean {
  const plane = metaData.get('imagePlaneModule', imageId) as { frameOfReferenceUID?: string; rowCosines?: number[]; columnCosines?: number[] } | undefined;
  const world = pixels.map((p) => csUtils.imageToWorldCoords(imageId, p) as Types.Point3);
  if (!world.length || !world.every((w) => w.every(Number.isFinite))) return false;
  const r = plane?.rowCosines ?? [1, 0, 0];
  const c = plane?.columnCosines ?? [0, 1, 0];
  const normal: Types.Point3 = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
  const freehand = toolName === PlanarFreehandROITool.toolName;
  const polyline = toolName === PolylineTool.toolName;
  const a = {
    annotationUID: csUtils.uuidv4(),
    highlighted: false,
    invalidated: true,
    isLocked: false,
    isVisible: true,
    metadata: {
      toolName,
      referencedImageId: imageId,
      FrameOfReferenceUID: plane?.frameOfReferenceUID ?? imageId,
      viewPlaneNormal: normal,
      viewUp: c.map((v) => -v) as Types.Point3,
    },
    data: {
      ...(freehand ? { contour: { polyline: world, closed: extra.closed ?? true } } : {}),
      ...(polyline ? { contour: { polyline: world, closed: extra.closed ?? false }, spline: { type: 'LINEAR' } } : {}),
      handles: {
        points: freehand ? [] : toolName === LabelTool.toolName ? [world[0], world[0]] : world,
        activeHandleIndex: null,
        textBox: {
          hasMoved: false,
          worldPosition: [0, 0, 0],
          worldBoundingBox: { topLeft: [0, 0, 0], topRight: [0, 0, 0], bottomLeft: [0, 0, 0], bottomRight: [0, 0, 0] },
        },
      },
      cachedStats: {},
      // The arrow draws its text from the label (Cornerstone 5).
      label: extra.label ?? '',
    },
  };
  annotationApi.state.addAnnotation(a as unknown as ToolTypes.Annotation, a.metadata.FrameOfReferenceUID);
  return true;
}
