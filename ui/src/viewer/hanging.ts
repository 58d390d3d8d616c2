// The default hanging: series in acquisition order, one per viewport, in a layout that
// fits them. No DOM, no Cornerstone.

export interface HangingSeries {
  readonly seriesNumber: number | undefined;
  readonly description: string;
}

/**
 * Series that hold no images to hang: reports, key objects, presentation states (read, not
 * hung), segmentations and structure sets (drawn over the images they were made on).
 */
const NOT_IMAGES = new Set(['SR', 'KO', 'PR', 'SEG', 'RTSTRUCT']);

export function hangsAsImages(modality: string): boolean {
  return !NOT_IMAGES.has(modality);
}

/** Series in acquisition order: by Series Number (none last), then description. */
export function hangingOrder(a: HangingSeries, b: HangingSeries): number {
  return (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity) || a.description.localeCompare(b.description);
}

/** The default layout (rows, columns) for n series, one per viewport. */
export function layoutFor(n: number): [number, number] {
  if (n <= 1) return [1, 1];
  if (n === 2) return [1, 2];
  if (n <= 4) return [2, 2];
  if (n <= 6) return [2, 3];
  return [3, 3];
}
