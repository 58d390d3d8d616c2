// Colours of segments and ROIs: DICOM's CIELab (PS3.3 C.10.7.1.1: L*, a*, b* scaled to
// 0-65535) to sRGB, D65 white, and a default palette for segments that name none.

export type Rgb = [number, number, number];

/** RecommendedDisplayCIELabValue (three 0-65535 values) as 8-bit sRGB. */
export function dicomLabToRgb(lab: readonly number[]): Rgb {
  const L = (lab[0] / 65535) * 100;
  const a = (lab[1] / 65535) * 255 - 128;
  const b = (lab[2] / 65535) * 255 - 128;
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const inv = (t: number) => (t > 6 / 29 ? t ** 3 : 3 * (6 / 29) ** 2 * (t - 4 / 29));
  const [X, Y, Z] = [0.95047 * inv(fx), inv(fy), 1.08883 * inv(fz)];
  const lin = [3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z, -0.969266 * X + 1.8760108 * Y + 0.041556 * Z, 0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z];
  const gamma = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
  return lin.map((c) => Math.round(Math.min(1, Math.max(0, gamma(c))) * 255)) as Rgb;
}

/** Colours for segments without a recommended one, by segment number (1-based). */
const PALETTE: Rgb[] = [
  [221, 84, 84],
  [77, 228, 121],
  [166, 70, 235],
  [189, 180, 116],
  [94, 171, 255],
  [255, 160, 56],
  [255, 105, 180],
  [0, 206, 209],
];

export function defaultColour(n: number): Rgb {
  return PALETTE[(((n - 1) % PALETTE.length) + PALETTE.length) % PALETTE.length];
}
