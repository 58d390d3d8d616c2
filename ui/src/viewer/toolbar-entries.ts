// What the 2D toolbar offers, as data without Cornerstone: the entry chunk's page skeleton
// (preview.ts) builds the same toolbar as the viewer, so that it wraps to as many rows and
// the first image does not move when the viewer's page replaces the skeleton.

/** The layouts offered as buttons (rows x columns) and the largest a custom one may be. */
export const LAYOUTS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
  [2, 3],
  [3, 3],
];
export const MAX_ROWS = 4;
export const MAX_COLS = 5;

/**
 * The primary button's tools as the toolbar names them: Cornerstone's tool names (each
 * class's static toolName; tools.ts registers a class under every one and refuses to start
 * if one is missing) and the labels shown.
 */
export const PRIMARY_TOOLS = [
  { name: 'WindowLevel', label: 'W/L' },
  { name: 'Pan', label: 'Pan' },
  { name: 'Zoom', label: 'Zoom' },
  { name: 'PlanarRotate', label: 'Rotate' },
  { name: 'StackScroll', label: 'Scroll' },
  { name: 'Length', label: 'Length' },
  { name: 'Angle', label: 'Angle' },
  { name: 'CobbAngle', label: 'Cobb' },
  { name: 'Bidirectional', label: 'Bidir.' },
  { name: 'ArrowAnnotate', label: 'Arrow' },
  { name: 'Probe', label: 'Probe' },
  { name: 'EllipticalROI', label: 'Ellipse' },
  { name: 'RectangleROI', label: 'Rect.' },
  { name: 'PlanarFreehandROI', label: 'Freehand' },
  // The reading tools (reading-tools.ts).
  { name: 'Magnify', label: 'Magnify' },
  { name: 'Label', label: 'Text' },
  { name: 'Polyline', label: 'Polyline' },
] as const;
