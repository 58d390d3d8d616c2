// Window presets (W/L) offered for an image, in three groups: the modality's (CT in HU, MR
// from the image's own range), the image's own from its header (Window Center / Width
// with their Window Center & Width Explanation, multi-valued, PS3.3 C.11.2) and the
// user's own (kept on the server, /api/me/window-presets). No DOM, no Cornerstone.
import { nums, TAG, text, type DicomJson } from '../dicom-json.js';

export type PresetGroup = 'modality' | 'image' | 'user';

export interface WindowPreset {
  label: string;
  center: number;
  width: number;
  group?: PresetGroup;
  /** A user preset's modality (none: any). */
  modality?: string;
}

const WINDOW_EXPLANATION = '00281055';

/** CT windows in HU (output of the modality LUT). */
const CT_PRESETS: WindowPreset[] = [
  { label: 'Brain', center: 40, width: 80 },
  { label: 'Subdural', center: 75, width: 215 },
  { label: 'Lung', center: -600, width: 1500 },
  { label: 'Bone', center: 480, width: 2500 },
  { label: 'Abdomen', center: 40, width: 400 },
  { label: 'Liver', center: 60, width: 160 },
  { label: 'Mediastinum', center: 50, width: 350 },
];

/**
 * MR has no absolute scale: its presets are fractions of the image's own range (smallest
 * and largest pixel value of the image shown), as a workstation's "full dynamic" is.
 */
const MR_FRACTIONS: Array<{ label: string; center: number; width: number }> = [
  { label: 'Full dynamic', center: 0.5, width: 1 },
  { label: 'Soft tissue', center: 0.35, width: 0.5 },
  { label: 'High contrast', center: 0.5, width: 0.35 },
  { label: 'Dark detail', center: 0.2, width: 0.3 },
];

/** The modality's presets; MR's (and any modality's "Full dynamic") need the image's pixel range. */
export function modalityPresets(modality: string | undefined, range?: { min: number; max: number }): WindowPreset[] {
  if (modality === 'CT') return CT_PRESETS.map((p) => ({ ...p, group: 'modality' }));
  if (!range || !(range.max > range.min)) return [];
  const span = range.max - range.min;
  const fractions = modality === 'MR' ? MR_FRACTIONS : MR_FRACTIONS.slice(0, 1);
  return fractions.map((f) => ({
    label: f.label,
    center: Math.round(range.min + f.center * span),
    width: Math.max(1, Math.round(f.width * span)),
    group: 'modality',
  }));
}

/**
 * The image's own windows: Window Center and Width are multi-valued in step, each pair
 * named by the same position of Window Center & Width Explanation (or "Header n"). Pairs
 * with a width below 1 (not a window, C.11.2.1.2) are left out.
 */
export function headerPresets(instance: DicomJson): WindowPreset[] {
  const centers = nums(instance, TAG.WindowCenter) ?? [];
  const widths = nums(instance, TAG.WindowWidth) ?? [];
  const names = text(instance, WINDOW_EXPLANATION).split('\\');
  const out: WindowPreset[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (!(widths[i] >= 1)) continue;
    const label = names[i]?.trim() || `Header ${i + 1}`;
    out.push({ label, center: centers[i], width: widths[i], group: 'image' });
  }
  return out;
}

/** The user's presets for this modality (those without one fit every modality). */
export function userPresetsFor(all: WindowPreset[], modality: string | undefined): WindowPreset[] {
  return all.filter((p) => !p.modality || p.modality === modality).map((p) => ({ ...p, group: 'user' }));
}

export const GROUP_LABELS: Record<PresetGroup, string> = { modality: 'Modality', image: 'From the image', user: 'My presets' };
